/**
 * Every primitive op of the runtime, in groups (after tinygrad's uop enum). Everything else
 * (mean, softmax, layer norm, cross-entropy...) is a composition of these, so a training step is a
 * trace of primitives only, and the verifier needs one element program per primitive.
 */
export const UNARY_OPS = ['neg', 'abs', 'sqrt', 'exp', 'log', 'tanh', 'sigmoid', 'gelu', 'gelu_grad'] as const;
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
export const COMPARE_OPS = ['eq', 'lt', 'le'] as const;
export const REDUCE_OPS = ['sum', 'max', 'argmax'] as const;
export const MOVEMENT_OPS = ['reshape', 'permute', 'expand', 'slice', 'concat'] as const;
export const INDEX_OPS = ['take', 'scatter_add', 'take_along', 'scatter_add_along'] as const;
export const OTHER_OPS = ['where', 'cast', 'matmul', 'const'] as const;
/**
 * Fused ops along the last axis (one row at a time), with their own gradient primitives. Each is one
 * kernel instead of 5-10 primitive passes; the documented float32 order is in kernels/reference.ts.
 * layer_norm's and softmax's bits equal the compositions they replace (composite.ts keeps them).
 */
export const ROW_OPS = ['layer_norm', 'layer_norm_grad', 'softmax', 'softmax_grad'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type CompareOp = (typeof COMPARE_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
export type MovementOp = (typeof MOVEMENT_OPS)[number];
export type IndexOp = (typeof INDEX_OPS)[number];
export type RowOp = (typeof ROW_OPS)[number];
export type Op = UnaryOp | BinaryOp | CompareOp | ReduceOp | MovementOp | IndexOp | RowOp | (typeof OTHER_OPS)[number];

/** Attributes of an op invocation: small JSON values (axes, shapes, flags). */
export type Attrs = Readonly<Record<string, number | boolean | string | readonly number[]>>;

const isIn = <T extends string>(list: readonly T[]) => (op: string): op is T => (list as readonly string[]).includes(op);
export const isUnary = isIn(UNARY_OPS);
export const isBinary = isIn(BINARY_OPS);
export const isCompare = isIn(COMPARE_OPS);
export const isReduce = isIn(REDUCE_OPS);
