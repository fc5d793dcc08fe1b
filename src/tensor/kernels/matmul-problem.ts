/**
 * A strided float32 matrix stack: element (batch, row, col) is at
 * data[offset + batch * strides[0] + row * strides[1] + col * strides[2]]. A stride of 0 broadcasts.
 */
export type MatOperand = {
  data: Float32Array;
  offset: number;
  strides: readonly [batch: number, row: number, col: number];
};

/**
 * out[b, i, j] = sum over k ascending of a[b, i, k] * b[b, k, j], for b < batch, i < m, j < n, with
 * `out` contiguous [batch, m, n] from offset 0.
 */
export type MatmulProblem = {
  a: MatOperand;
  b: MatOperand;
  out: Float32Array;
  batch: number;
  m: number;
  k: number;
  n: number;
};

/** Something that computes matmuls with exactly the reference semantics (see referenceMatmul). */
export interface MatmulKernel {
  readonly name: string;
  matmul(problem: MatmulProblem): void;
}
