/**
 * The chainable surface of Tensor (x.add(y).exp().sum(-1)), as thin wrappers over ops.ts and
 * composite.ts, so that tensor.ts stays a plain data holder (after tinygrad's mixins).
 */
import { backward } from './autograd.js';
import * as c from './composite.js';
import type { DType } from './dtype.js';
import { hashTensor } from './hash.js';
import * as ops from './ops.js';
import type { TensorLike } from './ops.js';
import type { Shape } from './shape.js';
import { Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    maximum(b: TensorLike): Tensor;
    minimum(b: TensorLike): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sqrt(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    gelu(): Tensor;
    /** d/dx gelu(x), elementwise (the gelu_grad primitive). */
    geluGrad(): Tensor;
    relu(): Tensor;
    eq(b: TensorLike): Tensor;
    lt(b: TensorLike): Tensor;
    le(b: TensorLike): Tensor;
    sum(axis: number, keepDims?: boolean): Tensor;
    max(axis: number, keepDims?: boolean): Tensor;
    mean(axis: number, keepDims?: boolean): Tensor;
    argmax(axis: number, keepDims?: boolean): Tensor;
    reshape(shape: Shape): Tensor;
    permute(perm: readonly number[]): Tensor;
    transpose(a?: number, b?: number): Tensor;
    expand(shape: Shape): Tensor;
    slice(axis: number, start: number, end: number): Tensor;
    matmul(b: Tensor, options?: ops.MatmulOptions): Tensor;
    take(axis: number, index: Tensor): Tensor;
    takeAlong(axis: number, index: Tensor): Tensor;
    cast(dtype: DType): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    detach(): Tensor;
    backward(seed?: Tensor): void;
    hash(): string;
  }
}

const proto = Tensor.prototype;
for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const) {
  proto[op] = function (this: Tensor, b: TensorLike) { return ops.binary(op, this, b); };
}
for (const op of ['neg', 'abs', 'sqrt', 'exp', 'log', 'tanh', 'sigmoid', 'gelu'] as const) {
  proto[op] = function (this: Tensor) { return ops.unary(op, this); };
}
for (const op of ['eq', 'lt', 'le'] as const) {
  proto[op] = function (this: Tensor, b: TensorLike) { return ops.compare(op, this, b); };
}
proto.geluGrad = function () { return ops.unary('gelu_grad', this); };
proto.relu = function () { return c.relu(this); };
proto.sum = function (axis, keepDims) { return ops.sum(this, axis, keepDims); };
proto.max = function (axis, keepDims) { return ops.max(this, axis, keepDims); };
proto.mean = function (axis, keepDims) { return c.mean(this, axis, keepDims); };
proto.argmax = function (axis, keepDims) { return ops.argmax(this, axis, keepDims); };
proto.reshape = function (shape) { return ops.reshape(this, shape); };
proto.permute = function (perm) { return ops.permute(this, perm); };
proto.transpose = function (a, b) { return ops.transpose(this, a, b); };
proto.expand = function (shape) { return ops.expand(this, shape); };
proto.slice = function (axis, start, end) { return ops.slice(this, axis, start, end); };
proto.matmul = function (b, options) { return ops.matmul(this, b, options); };
proto.take = function (axis, index) { return ops.take(this, axis, index); };
proto.takeAlong = function (axis, index) { return ops.takeAlong(this, axis, index); };
proto.cast = function (dtype) { return ops.cast(this, dtype); };
proto.softmax = function (axis) { return c.softmax(this, axis); };
proto.logSoftmax = function (axis) { return c.logSoftmax(this, axis); };
proto.detach = function () { return c.detach(this); };
proto.backward = function (seed) { backward(this, seed); };
proto.hash = function () { return hashTensor(this); };
