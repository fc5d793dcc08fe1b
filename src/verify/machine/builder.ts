/**
 * A small assembler, so that element programs read like the TypeScript they translate: each method
 * emits one instruction and returns its result as a virtual register; a number operand is a
 * constant (a float32 for float ops, an int32 for integer ops), emitted once. build() maps the
 * virtual registers onto r0..r31 by linear scan over live ranges. One program serves every output
 * element of an op: index() is the output index, which the machine starts with in INDEX_REGISTER.
 */
import { bitsOf } from '../../tensor/f32.js';
import { ElementProgramError } from './errors.js';
import { REGISTER_COUNT, type Instruction, type Opcode, type Program } from './isa.js';
import { INDEX_REGISTER } from './state.js';

/** A value of the program being built (a virtual register). */
export type Value = { readonly vreg: number };
/** A value, or a number to be loaded as a constant. */
export type Operand = Value | number;

type Draft = { op: Opcode; def: number | undefined; uses: number[]; imm: number; input: number };

export class ProgramBuilder {
  private readonly drafts: Draft[] = [];
  private readonly backEdges: { from: number; to: number }[] = [];
  private readonly constants = new Map<number, Value>();
  private readonly constantVregs = new Set<number>();
  private vregCount = 0;
  // Defined before the first instruction; build() pins it to INDEX_REGISTER.
  private readonly outputIndex: Value = { vreg: this.vregCount++ };

  // ---- constants and variables ----

  /** The output element's flat index: read it, never write into it. */
  index(): Value {
    return this.outputIndex;
  }

  /** The int32 (or raw word) n, emitted once and shared: never write into it. */
  int(n: number): Value {
    const bits = n >>> 0;
    let value = this.constants.get(bits);
    if (!value) {
      value = this.emit('const', undefined, [], bits);
      this.constants.set(bits, value);
      this.constantVregs.add(value.vreg);
    }
    return value;
  }

  /** The float32 x (which must be a float32 value; -0 and +0 are different constants). */
  float(x: number): Value {
    if (x === x && !Object.is(Math.fround(x), x)) throw new ElementProgramError('constant', `${x} is not a float32 value`);
    return this.int(bitsOf(x));
  }

  /** A fresh register holding the word `bits`, for a loop-carried value that `into` updates. */
  variable(bits: number): Value {
    return this.emit('const', undefined, [], bits >>> 0);
  }

  // ---- float ----

  fadd(a: Operand, b: Operand, into?: Value): Value { return this.emit('fadd', into, [this.f(a), this.f(b)]); }
  fsub(a: Operand, b: Operand, into?: Value): Value { return this.emit('fsub', into, [this.f(a), this.f(b)]); }
  fmul(a: Operand, b: Operand, into?: Value): Value { return this.emit('fmul', into, [this.f(a), this.f(b)]); }
  /** fma(a, b, c): a * b + c rounded once. */
  ffma(a: Operand, b: Operand, c: Operand, into?: Value): Value { return this.emit('ffma', into, [this.f(a), this.f(b), this.f(c)]); }
  fdiv(a: Operand, b: Operand): Value { return this.emit('fdiv', undefined, [this.f(a), this.f(b)]); }
  fsqrt(a: Operand): Value { return this.emit('fsqrt', undefined, [this.f(a)]); }
  fmin(a: Operand, b: Operand, into?: Value): Value { return this.emit('fmin', into, [this.f(a), this.f(b)]); }
  fmax(a: Operand, b: Operand, into?: Value): Value { return this.emit('fmax', into, [this.f(a), this.f(b)]); }
  feq(a: Operand, b: Operand): Value { return this.emit('feq', undefined, [this.f(a), this.f(b)]); }
  flt(a: Operand, b: Operand): Value { return this.emit('flt', undefined, [this.f(a), this.f(b)]); }
  fle(a: Operand, b: Operand): Value { return this.emit('fle', undefined, [this.f(a), this.f(b)]); }
  /** JavaScript's -x as -0 - x: the same bits for every non-NaN x (-(+0) = -0, -(-0) = +0). */
  fneg(a: Operand): Value { return this.fsub(-0, a); }

  // ---- conversions ----

  ftoi(a: Operand): Value { return this.emit('ftoi', undefined, [this.f(a)]); }
  itof(a: Operand): Value { return this.emit('itof', undefined, [this.i(a)]); }

  // ---- integer ----

  iadd(a: Operand, b: Operand, into?: Value): Value { return this.emit('iadd', into, [this.i(a), this.i(b)]); }
  isub(a: Operand, b: Operand, into?: Value): Value { return this.emit('isub', into, [this.i(a), this.i(b)]); }
  imul(a: Operand, b: Operand): Value { return this.emit('imul', undefined, [this.i(a), this.i(b)]); }
  iand(a: Operand, b: Operand): Value { return this.emit('iand', undefined, [this.i(a), this.i(b)]); }
  ior(a: Operand, b: Operand): Value { return this.emit('ior', undefined, [this.i(a), this.i(b)]); }
  ixor(a: Operand, b: Operand): Value { return this.emit('ixor', undefined, [this.i(a), this.i(b)]); }
  shl(a: Operand, b: Operand): Value { return this.emit('shl', undefined, [this.i(a), this.i(b)]); }
  shrS(a: Operand, b: Operand): Value { return this.emit('shr_s', undefined, [this.i(a), this.i(b)]); }
  shrU(a: Operand, b: Operand): Value { return this.emit('shr_u', undefined, [this.i(a), this.i(b)]); }
  ieq(a: Operand, b: Operand): Value { return this.emit('ieq', undefined, [this.i(a), this.i(b)]); }
  ilt(a: Operand, b: Operand): Value { return this.emit('ilt', undefined, [this.i(a), this.i(b)]); }
  ile(a: Operand, b: Operand): Value { return this.emit('ile', undefined, [this.i(a), this.i(b)]); }
  divu(a: Operand, b: Operand): Value { return this.emit('divu', undefined, [this.i(a), this.i(b)]); }
  remu(a: Operand, b: Operand): Value { return this.emit('remu', undefined, [this.i(a), this.i(b)]); }

  // ---- data and control ----

  /** cond != 0 ? a : b, raw bits. */
  select(cond: Value, a: Value, b: Value, into?: Value): Value { return this.emit('select', into, [cond, a, b]); }

  /** Word `offset + address` of input `input`. */
  load(input: number, address: Value, offset = 0): Value {
    return this.emit('load', undefined, [address], offset >>> 0, input);
  }

  /**
   * Runs `body` `count` times (nothing when count is 0) with induction variables: vars[k] starts at
   * inductions[k].start (a copy, when it is a value) and grows by inductions[k].step after each pass.
   * Counts down to 0 with jnz, so every element of an op runs the same number of passes.
   * A constant first asked for inside `body` is re-made on every pass: make loop invariants before.
   */
  loop(count: number, inductions: readonly { start: Operand; step: number }[], body: (vars: Value[]) => void): void {
    if (count <= 0) return;
    const vars = inductions.map(({ start }) => (typeof start === 'number' ? this.variable(start) : this.iadd(start, 0)));
    // Constants the loop's own bookkeeping reads are made before it, so each pass does not redo them.
    const steps = inductions.map(({ step }) => this.int(step));
    const one = this.int(1);
    const counter = this.variable(count);
    const top = this.drafts.length;
    body(vars);
    steps.forEach((step, k) => this.iadd(vars[k], step, vars[k]));
    this.isub(counter, one, counter);
    this.backEdges.push({ from: this.drafts.length, to: top });
    this.emit('jnz', undefined, [counter], top);
  }

  halt(result: Value): Program {
    this.emit('halt', undefined, [result]);
    return this.build();
  }

  // ---- internals ----

  private f(x: Operand): Value { return typeof x === 'number' ? this.float(x) : x; }
  private i(x: Operand): Value { return typeof x === 'number' ? this.int(x) : x; }

  private emit(op: Opcode, into: Value | undefined, uses: Value[], imm = 0, input = 0): Value {
    if (into && (this.constantVregs.has(into.vreg) || into === this.outputIndex)) throw new ElementProgramError(op, 'writes into a shared constant or the index');
    const def = op === 'halt' || op === 'jnz' ? undefined : (into ?? { vreg: this.vregCount++ });
    this.drafts.push({ op, def: def?.vreg, uses: uses.map((u) => u.vreg), imm, input });
    return def ?? { vreg: -1 };
  }

  /** Assigns physical registers; a register is reused once its value's last reader has read it. */
  private build(): Instruction[] {
    const start = new Array<number>(this.vregCount).fill(Infinity);
    const end = new Array<number>(this.vregCount).fill(-1);
    // The index is live from before instruction 0, so it is allocated first, into the lowest register.
    start[this.outputIndex.vreg] = -1;
    this.drafts.forEach((d, at) => {
      for (const v of d.def === undefined ? d.uses : [...d.uses, d.def]) {
        start[v] = Math.min(start[v], at);
        end[v] = Math.max(end[v], at);
      }
    });
    // A value live into a loop must survive every pass: stretch it to the loop's back edge.
    for (const { from, to } of this.backEdges) {
      for (let v = 0; v < this.vregCount; v++) if (start[v] < to && end[v] >= to) end[v] = Math.max(end[v], from);
    }
    const order = [...start.keys()].sort((x, y) => start[x] - start[y] || x - y);
    const physical = new Array<number>(this.vregCount);
    const free = Array.from({ length: REGISTER_COUNT }, (_, r) => r);
    let active: number[] = [];
    for (const v of order) {
      // A value whose last read is this instruction frees its register for this instruction's result.
      for (const w of active.filter((w) => end[w] <= start[v])) free.push(physical[w]);
      active = active.filter((w) => end[w] > start[v]);
      free.sort((x, y) => x - y);
      const r = free.shift();
      if (r === undefined) throw new ElementProgramError('program', `needs more than ${REGISTER_COUNT} registers`);
      physical[v] = r;
      active.push(v);
    }
    if (physical[this.outputIndex.vreg] !== INDEX_REGISTER) throw new ElementProgramError('program', `the index is not in r${INDEX_REGISTER}`);
    return this.drafts.map(({ op, def, uses, imm, input }) => {
      const [a, b, c] = uses.map((u) => physical[u]);
      const d = def === undefined ? 0 : physical[def];
      if (op === 'select' || op === 'ffma') return { op, d, a, b, imm: c };
      if (op === 'load') return { op, d, a, b: input, imm };
      return { op, d, a: a ?? 0, b: b ?? 0, imm };
    });
  }
}
