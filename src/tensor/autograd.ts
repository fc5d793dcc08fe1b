/**
 * Reverse-mode autograd. Each primitive's derivative is one row of GRAD (after tinygrad's
 * gradient.py), written with the same primitive ops, so a backward pass is itself a trace of
 * primitives that the verifier can re-execute. The walk order is fixed (reverse topological order
 * by a depth-first search over inputs in argument order), so gradient sums happen in a fixed order.
 */
import { ShapeError } from './errors.js';
import type { Attrs, Op } from './op.js';
import * as ops from './ops.js';
import { sameShape, type Shape } from './shape.js';
import { noGrad } from './tape.js';
import type { Tensor } from './tensor.js';

/** A row of the gradient table; `needs[i]` says whether input i wants a gradient (rows may skip the rest). */
type GradFn = (g: Tensor, out: Tensor, inputs: readonly Tensor[], attrs: Attrs, needs: readonly boolean[]) => (Tensor | null)[];

const num = (attrs: Attrs, key: string) => attrs[key] as number;

/** Sums a broadcast gradient back to the shape of the operand it came from. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  let t = g;
  while (t.rank > shape.length) t = ops.sum(t, 0);
  shape.forEach((d, i) => {
    if (d === 1 && t.shape[i] !== 1) t = ops.sum(t, i, true);
  });
  return t;
}

const GRAD: Partial<Record<Op, GradFn>> = {
  neg: (g) => [ops.unary('neg', g)],
  abs: (g, _o, [x]) => [ops.where(ops.compare('lt', x, 0), ops.unary('neg', g), g)],
  sqrt: (g, out) => [ops.binary('div', g, ops.binary('add', out, out))],
  exp: (g, out) => [ops.binary('mul', g, out)],
  log: (g, _o, [x]) => [ops.binary('div', g, x)],
  tanh: (g, out) => [ops.binary('mul', g, ops.binary('sub', 1, ops.binary('mul', out, out)))],
  sigmoid: (g, out) => [ops.binary('mul', g, ops.binary('mul', out, ops.binary('sub', 1, out)))],
  gelu: (g, _o, [x]) => [ops.binary('mul', g, ops.unary('gelu_grad', x))],

  add: (g, _o, [a, b]) => [sumTo(g, a.shape), sumTo(g, b.shape)],
  sub: (g, _o, [a, b]) => [sumTo(g, a.shape), sumTo(ops.unary('neg', g), b.shape)],
  mul: (g, _o, [a, b], _a, [needA, needB]) => [
    needA ? sumTo(ops.binary('mul', g, b), a.shape) : null,
    needB ? sumTo(ops.binary('mul', g, a), b.shape) : null,
  ],
  div: (g, out, [a, b], _a, [needA, needB]) => [
    needA ? sumTo(ops.binary('div', g, b), a.shape) : null,
    needB ? sumTo(ops.unary('neg', ops.binary('div', ops.binary('mul', g, out), b)), b.shape) : null,
  ],
  maximum: (g, _o, [a, b]) => pickBy(ops.compare('le', b, a), g, a, b),
  minimum: (g, _o, [a, b]) => pickBy(ops.compare('le', a, b), g, a, b),

  where: (g, _o, [cond, a, b]) => [null, sumTo(ops.where(cond, g, 0), a.shape), sumTo(ops.where(cond, 0, g), b.shape)],

  sum: (g, _o, [x], attrs) => [ops.expand(attrs.keepDims ? g : unsqueeze(g, num(attrs, 'axis')), x.shape)],
  max: (g, _o, [x], attrs) => {
    // The whole gradient goes to the first maximum, as the argmax picks it.
    const axis = num(attrs, 'axis');
    const index = ops.argmax(x, axis, true);
    const gk = attrs.keepDims ? g : unsqueeze(g, axis);
    return [ops.scatterAddAlong(gk, axis, index, x.shape[axis])];
  },

  reshape: (g, _o, [x]) => [ops.reshape(g, x.shape)],
  permute: (g, _o, _i, attrs) => {
    const perm = attrs.perm as readonly number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [ops.permute(g, inverse)];
  },
  expand: (g, _o, [x]) => [sumTo(g, x.shape)],
  slice: (g, _o, [x], attrs) => {
    const axis = num(attrs, 'axis');
    const parts = [];
    const zeros = (n: number) => ops.expand(ops.reshape(ops.constant(0), x.shape.map(() => 1)), x.shape.map((d, i) => (i === axis ? n : d)));
    if (num(attrs, 'start') > 0) parts.push(zeros(num(attrs, 'start')));
    parts.push(g);
    if (num(attrs, 'end') < x.shape[axis]) parts.push(zeros(x.shape[axis] - num(attrs, 'end')));
    return [parts.length === 1 ? g : ops.concat(parts, axis)];
  },
  concat: (g, _o, xs, attrs) => {
    const axis = num(attrs, 'axis');
    let at = 0;
    return xs.map((x) => ops.slice(g, axis, at, (at += x.shape[axis])));
  },

  take: (g, _o, [x, index], attrs) => [ops.scatterAdd(g, num(attrs, 'axis'), index, x.shape[num(attrs, 'axis')]), null],
  scatter_add: (g, _o, [, index], attrs) => [ops.take(g, num(attrs, 'axis'), index), null],
  take_along: (g, _o, [x, index], attrs) => [ops.scatterAddAlong(g, num(attrs, 'axis'), index, x.shape[num(attrs, 'axis')]), null],
  scatter_add_along: (g, _o, [, index], attrs) => [ops.takeAlong(g, num(attrs, 'axis'), index), null],

  // One fused primitive each; not differentiable twice (layer_norm_grad and softmax_grad have no row).
  layer_norm: (g, _o, [x], attrs) => [ops.layerNormGrad(x, g, num(attrs, 'eps'))],
  softmax: (g, out) => [ops.softmaxGrad(out, g)],

  matmul: (g, _o, [a, b], attrs, [needA, needB]) => {
    const ta = attrs.transposeA as boolean;
    const tb = attrs.transposeB as boolean;
    // out = op(A) op(B); dop(A) = g op(B)^T, dop(B) = op(A)^T g, then undo the operand's own transpose.
    const da = () => (ta ? ops.matmul(b, g, { transposeA: tb, transposeB: true }) : ops.matmul(g, b, { transposeB: !tb }));
    const db = () => (tb ? ops.matmul(g, a, { transposeA: true, transposeB: ta }) : ops.matmul(a, g, { transposeA: !ta }));
    return [needA ? sumBatch(da(), a.shape) : null, needB ? sumBatch(db(), b.shape) : null];
  },
};

/** A shared plain-matrix operand of a batched matmul gets the sum of its per-batch gradients. */
function sumBatch(g: Tensor, shape: Shape): Tensor {
  let t = g;
  while (t.rank > shape.length) t = ops.sum(t, 0);
  return t;
}

function pickBy(firstWins: Tensor, g: Tensor, a: Tensor, b: Tensor): Tensor[] {
  return [sumTo(ops.where(firstWins, g, 0), a.shape), sumTo(ops.where(firstWins, 0, g), b.shape)];
}

function unsqueeze(t: Tensor, axis: number): Tensor {
  const shape = [...t.shape];
  shape.splice(axis, 0, 1);
  return ops.reshape(t, shape);
}

/**
 * Computes d(root)/d(leaf) for every leaf that requires gradients and adds it to leaf.grad. The
 * root's gradient seed is 1 (root must hold one element) unless `seed` is given.
 *
 * Like PyTorch without retain_graph, the graph is consumed: once a tensor's row has run, its gradient
 * and its tape entry are dropped, so activations and gradients are freed during the walk instead of
 * all living until its end (this halves the peak memory of a training step).
 */
export function backward(root: Tensor, seed?: Tensor): void {
  if (!seed && root.size !== 1) throw new ShapeError('backward', [root.shape], 'a one-element loss (or pass a seed gradient)');
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, seed ?? ops.constant(1)]]);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      order.pop();
      grads.delete(t);
      if (!g) continue;
      const node = t.node;
      if (!node) {
        t.grad = t.grad ? ops.binary('add', t.grad, g) : fitShape(g, t.shape);
        continue;
      }
      const rule = GRAD[node.op];
      if (!rule) throw new ShapeError('backward', [t.shape], `an op with a gradient, got ${node.op}`);
      const needs = node.inputs.map((input) => input.requiresGrad);
      const inputGrads = rule(fitShape(g, t.shape), t, node.inputs, node.attrs, needs);
      t.node = null;
      node.inputs.forEach((input, k) => {
        const ig = inputGrads[k];
        if (!ig || !input.requiresGrad) return;
        const previous = grads.get(input);
        grads.set(input, previous ? ops.binary('add', previous, ig) : ig);
      });
    }
  });
}

/** The seed constant is a scalar; anything else already has the tensor's shape. */
function fitShape(g: Tensor, shape: Shape): Tensor {
  return sameShape(g.shape, shape) ? g : ops.expand(ops.reshape(g, shape.map(() => 1)), shape);
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS (deep graphs would overflow the call stack); inputs in argument order.
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const inputs = top[0].node?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order;
}
