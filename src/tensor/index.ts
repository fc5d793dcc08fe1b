/** The reproducible tensor runtime: the public surface that nn/, train/ and verify/ build on. */
import './methods.js';

export { Tensor } from './tensor.js';
export { DTYPE_CODE, type DType, type Storage } from './dtype.js';
export * from './ops.js';
export { detach, mean, relu, softmax, logSoftmax, layerNorm, crossEntropy } from './composite.js';
export { backward, sumTo } from './autograd.js';
export { noGrad } from './tape.js';
export { trace, isTracing, type TraceEntry, type TracedTensor } from './trace.js';
export { type AdamWConstants } from './kernels/adamw.js';
export { adamwKernel } from './backend.js';
export { hashTensor, tensorDigest, leBytes } from './hash.js';
export { Rng } from './random.js';
export { randomWords, philoxBlock, type RandomKey } from './philox.js';
export { ShapeError, DTypeError, IndexRangeError, NonFiniteError } from './errors.js';
export * as math from './math.js';
export { sha256Batch, sha256Batches, merkleRootOfLevel, type Sha256Batch } from './kernels/sha256-batch.js';
export { configureKernels, kernelConfig, matmulKernel, type KernelConfig } from './backend.js';
export { goldenProgram, type GoldenResult } from './golden-program.js';
