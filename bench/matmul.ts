// `npm run bench -- matmul [--json] [--sizes 256,512,1024] [--threads 1,2]`: GFLOP/s of mycel's matmul as the
// runtime picks it (`kernel`: native-avx512, native-avx2, ... where the addon is built, else wasm-fma; operand
// copies and packing included) and of the WebAssembly kernel (`wasm_*`, what browser nodes run), against
// onnxruntime-node's MatMul (MLAS), same sizes, same thread counts, same run. The anchor is not
// reproducible (its summation order depends on the CPU and thread count); it sets the speed to aim for.
import { onnxruntime } from './onnxruntime.js';
import { configureKernels, matmulKernel } from '../src/tensor/backend.js';
import { createWasmMatmul } from '../src/tensor/kernels/wasm-matmul.js';
import { makeReporter } from './report.js';

function listFlag(args: string[], name: string, fallback: number[]): number[] {
  const at = args.indexOf(name);
  return at < 0 ? fallback : args[at + 1].split(',').map(Number);
}

/** Protobuf wire format, just enough for an ONNX model: varints, and length-delimited fields. */
function varint(value: number): number[] {
  const bytes = [];
  for (; value >= 0x80; value = Math.floor(value / 128)) bytes.push((value % 128) | 0x80);
  bytes.push(value);
  return bytes;
}
const intField = (field: number, value: number) => [...varint(field << 3), ...varint(value)];
const bytesField = (field: number, body: number[]) => [...varint((field << 3) | 2), ...varint(body.length), ...body];
const stringField = (field: number, text: string) => bytesField(field, [...new TextEncoder().encode(text)]);

/** ValueInfoProto: a float tensor named `name` of the given shape. */
function floatTensorInfo(name: string, shape: number[]): number[] {
  const dims = shape.flatMap((d) => bytesField(1, intField(1, d)));
  const tensorType = [...intField(1, 1 /* FLOAT */), ...bytesField(2, dims)];
  return [...stringField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

/** ModelProto of Y = MatMul(A, B) for n x n float matrices (IR 8, opset 13). */
function matmulModel(n: number): Uint8Array {
  const node = [...stringField(1, 'A'), ...stringField(1, 'B'), ...stringField(2, 'Y'), ...stringField(4, 'MatMul')];
  const graph = [
    ...bytesField(1, node),
    ...stringField(2, 'matmul'),
    ...bytesField(11, floatTensorInfo('A', [n, n])),
    ...bytesField(11, floatTensorInfo('B', [n, n])),
    ...bytesField(12, floatTensorInfo('Y', [n, n])),
  ];
  return new Uint8Array([...intField(1, 8), ...bytesField(8, intField(2, 13)), ...bytesField(7, graph)]);
}

/**
 * Median seconds per call, after warm-up, over at least 5 calls and about 0.5 s. The two sides are timed
 * one after the other, not interleaved: onnxruntime's pool threads spin after each run and would take
 * the cores from our workers.
 */
async function secondsPerCall(call: () => unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await call();
  const times: number[] = [];
  for (let spent = 0; times.length < 5 || spent < 0.5; ) {
    const start = performance.now();
    await call();
    const seconds = (performance.now() - start) / 1000;
    times.push(seconds);
    spent += seconds;
  }
  return times.sort((x, y) => x - y)[times.length >> 1];
}

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const ort = await onnxruntime((text) => process.stderr.write(`${text}\n`));
  for (const threads of listFlag(args, '--threads', [1, 2])) {
    configureKernels({ kernels: 'fast', threads });
    const kernel = matmulKernel();
    const wasmKernel = kernel.name === 'wasm-fma' ? undefined : createWasmMatmul({ threads });
    for (const size of listFlag(args, '--sizes', [256, 512, 1024])) {
      const a = Float32Array.from({ length: size * size }, () => Math.random() - 0.5);
      const b = Float32Array.from({ length: size * size }, () => Math.random() - 0.5);
      const out = new Float32Array(size * size);
      const flops = 2 * size ** 3;
      const problem = {
        a: { data: a, offset: 0, strides: [0, size, 1] as const },
        b: { data: b, offset: 0, strides: [0, size, 1] as const },
        out, batch: 1, m: size, k: size, n: size,
      };
      const session = await ort.InferenceSession.create(matmulModel(size), {
        intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
      });
      const feeds = { A: new ort.Tensor('float32', a, [size, size]), B: new ort.Tensor('float32', b, [size, size]) };
      const ours = await secondsPerCall(() => kernel.matmul(problem));
      const wasm = wasmKernel ? await secondsPerCall(() => wasmKernel.matmul(problem)) : ours;
      const anchor = await secondsPerCall(() => session.run(feeds));
      await session.release();

      const gflops = flops / ours / 1e9;
      const wasmGflops = flops / wasm / 1e9;
      const anchorGflops = flops / anchor / 1e9;
      report({
        size, threads, kernel: kernel.name, gflops, anchor: 'onnxruntime-node', anchor_gflops: anchorGflops, ratio: gflops / anchorGflops,
        wasm_kernel: 'wasm-fma', wasm_gflops: wasmGflops, wasm_ratio: wasmGflops / anchorGflops,
      });
    }
    wasmKernel?.close();
  }
  configureKernels({ kernels: 'reference' }); // stops the WebAssembly workers
}
