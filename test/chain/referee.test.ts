/**
 * The on-chain one-step referee (contracts/MachineStep.sol, contracts/OneStepReferee.sol) against the TypeScript
 * machine and referee: (a) every opcode, random and special operands, post-state hashes compared; (b) a real
 * dispute played in TypeScript, its one-step proof ruled by the contract, plus one load per input source kind
 * proven against the game's real roots; (c) tampered proofs revert with named errors.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import type { Address, Hex, PublicClient } from 'viem';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients, deployContract } from '../../src/chain/clients.js';
import { read, send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { MachineStepHarnessAbi, MachineStepHarnessBytecode } from '../../src/chain/generated/MachineStepHarness.js';
import { OneStepRefereeAbi, OneStepRefereeBytecode } from '../../src/chain/generated/OneStepReferee.js';
import { encodeOneStep, encodeStateHex, REFEREE_LOSERS, REFEREE_SOURCES, type RuleArgs } from '../../src/chain/referee.js';
import { replayToStep } from '../../src/train/index.js';
import {
  adversary, decodeProgram, encodeProgram, executeStep, initialState, playGame, replayParty, ruleInstruction, run, stateHashOf, step, toMachineState,
  type Move, type Position,
} from '../../src/verify/index.js';
import { encodeDescriptor, opRuleOf, ruleOpening } from '../../src/verify/game/op-rule.js';
import { programAt } from '../../src/verify/game/element-level.js';
import { honest, rules, runOf, type Run } from '../verify/game-helpers.js';
import { encodeCaseArgs, machineCases, OPCODES, syntheticLoad } from './referee-harness.js';
import { expectRevert } from './mycel-fixture.js';

let anvil: Anvil;
let publicClient: PublicClient;
let wallet: MycelWalletClient;
let harness: Address;
let referee: Address;

beforeAll(async () => {
  anvil = await startAnvil({ gasLimit: 1_000_000_000n });
  const clients = createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(anvil.accounts[0].privateKey) });
  publicClient = clients.publicClient as PublicClient;
  wallet = clients.walletClient as MycelWalletClient;
  harness = (await deployContract(wallet, { abi: MachineStepHarnessAbi, bytecode: MachineStepHarnessBytecode })).address;
  referee = (await deployContract(wallet, { abi: OneStepRefereeAbi, bytecode: OneStepRefereeBytecode })).address;
});

afterAll(() => anvil?.stop());

const stepBatch = (args: ReturnType<typeof encodeCaseArgs>) =>
  read<readonly Hex[]>(publicClient, { address: harness, abi: MachineStepHarnessAbi, functionName: 'stepBatch', args });
const harnessStep = (pre: Hex, program: Hex, loaded: number) =>
  read<Hex>(publicClient, { address: harness, abi: MachineStepHarnessAbi, functionName: 'step', args: [pre, program, loaded] });
const rule = (args: RuleArgs) => read<readonly [number, Hex]>(publicClient, { address: referee, abi: OneStepRefereeAbi, functionName: 'rule', args });
const programHex = (p: Parameters<typeof encodeProgram>[0]): Hex => `0x${Buffer.from(encodeProgram(p)).toString('hex')}`;

describe('MachineStep is bit-exact with src/verify/machine step()', () => {
  test.each(OPCODES)('%s: 300 random and special cases give the same post-state hash', async (op) => {
    const cases = machineCases(op, 300, 1000 + OPCODES.indexOf(op));
    const got = await stepBatch(encodeCaseArgs(cases));
    const mismatches = cases.map((c, i) => (got[i] === `0x${c.post}` ? -1 : i)).filter((i) => i >= 0);
    expect(mismatches.map((i) => ({ ins: cases[i].program[cases[i].state.pc], regs: [...cases[i].state.registers] }))).toEqual([]);
  });

  test('encode(decode(s)) is encodeState, and the state hash is stateHashOf', async () => {
    const c = machineCases('fadd', 1, 5)[0];
    const post = step(c.program, c.state, c.memory);
    const [pre, prog] = [encodeStateHex(c.state), programHex(c.program)];
    expect(await harnessStep(pre, prog, 0)).toBe(encodeStateHex(post));
    const hash = await read<Hex>(publicClient, { address: harness, abi: MachineStepHarnessAbi, functionName: 'hashOf', args: [pre] });
    expect(hash).toBe(`0x${stateHashOf(c.state)}`);
  });

  test('initialStateHash(i) is stateHashOf(initialState(i)): r0 = i, all else 0', async () => {
    for (const i of [0, 1, 37, 65535, 0x80000000, 0xffffffff]) {
      const got = await read<Hex>(publicClient, { address: harness, abi: MachineStepHarnessAbi, functionName: 'initialStateHash', args: [i] });
      expect(got).toBe(`0x${stateHashOf(initialState(i))}`);
    }
  });

  test('faults: pc outside the program, unknown opcode, register above r31, as the TS machine and decoder reject them', async () => {
    const c = machineCases('iadd', 1, 9)[0];
    const pre = encodeStateHex({ ...c.state, halted: false, pc: 5 });
    const short = programHex([{ op: 'iadd', d: 1, a: 2, b: 3, imm: 0 }]);
    expect(() => step(decodeProgram(Buffer.from(short.slice(2), 'hex')), { ...c.state, halted: false, pc: 5 }, [])).toThrow(/outside the program/);
    await expectRevert(harnessStep(pre, short, 0), 'MachinePcOutOfRange', [5, 1n]);
    const pre0 = encodeStateHex({ ...c.state, halted: false, pc: 0 });
    const bad = (bytes: number[]) => `0x${Buffer.from(bytes).toString('hex')}` as Hex;
    for (const [bytes, error] of [
      [[0x13, 0, 0, 0, 0, 0, 0, 0], 'MachineBadOpcode'],
      [[0x20, 32, 0, 0, 0, 0, 0, 0], 'MachineBadRegister'],
      [[0x20, 0, 0, 40, 0, 0, 0, 0], 'MachineBadRegister'],
      [[0x12, 0, 0, 0, 0, 0, 0, 32], 'MachineBadRegister'],
    ] as const) {
      expect(() => decodeProgram(Uint8Array.from(bytes))).toThrow(/Cannot decode element program/);
      await expectRevert(harnessStep(pre0, bad([...bytes]), 0), error);
    }
    // load's b is an input number, not a register: 40 decodes.
    expect(decodeProgram(Uint8Array.from([0x11, 0, 0, 40, 0, 0, 0, 0]))[0].b).toBe(40);
    await harnessStep(pre0, bad([0x11, 0, 0, 40, 0, 0, 0, 0]), 7);
  });
});

describe('OneStepReferee rules as src/verify/referee.ts ruleInstruction', () => {
  const T = 3;
  let cheatGame: Awaited<ReturnType<typeof playGame>>;
  let honestParty: ReturnType<typeof replayParty>;
  let good: Run;

  beforeAll(async () => {
    good = await runOf(honest);
    const writer = (rules.structure(T).stateOutputs.find((s) => s.name === 'params.blocks.0.qkv.weight')!.source as { index: number }).index;
    const cheat = await runOf(adversary.flipOpOutput(honest, T, writer, 37, 3));
    honestParty = replayParty({ role: 'challenger', program: honest, reference: honest, store: good.store, record: good.record });
    const solver = replayParty({ role: 'solver', program: cheat.program, reference: honest, store: cheat.store, record: cheat.record });
    cheatGame = await playGame(rules, solver, honestParty, { solverRoot: cheat.record.commitment!, challengerRoot: good.record.commitment! });
  }, 120_000);

  test('a cheating solver: the game\'s own one-step proof, ruled on chain, loses the solver', async () => {
    expect(cheatGame.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: T });
    const accepted = cheatGame.moves.filter((m) => !m.rejected);
    const k = accepted.findIndex((m) => m.move.kind === 'prove');
    const pos = accepted[k - 1].position;
    const move = accepted[k].move as Extract<Move, { kind: 'prove' }>;
    const ts = ruleInstruction(rules, pos, move);
    const [loser, post] = await rule(encodeOneStep(rules, pos, move));
    expect(REFEREE_LOSERS[loser]).toBe(ts.loser);
    expect(REFEREE_LOSERS[loser]).toBe('solver');
    expect(post).toBe(`0x${pos.nodeChallenger}`);
  });

  test.each(REFEREE_SOURCES)('a load from a %s input, proven against the game\'s roots, rules as TS (solver lies, then both)', async (kind) => {
    const s = rules.structure(T);
    const base = cheatGame.moves.filter((m) => !m.rejected).find((m) => m.position.phase === 'prove')!.position;
    const before = await replayToStep(honest, good.store, good.record, T - 1);
    const e = executeStep(honest, before);
    // The first op with an input of this kind whose last element's program loads it.
    let found: { pos: Position; move: Extract<Move, { kind: 'prove' }> } | undefined;
    for (let op = 0; op < s.ops.length && !found; op++) {
      const b = s.ops[op].inputs.findIndex((x) => x.source.kind === kind);
      if (b < 0) continue;
      const element = s.ops[op].output.shape.reduce((x, y) => x * y, 1) - 1;
      const program = programAt(rules, T, op, element);
      const memory = e.ops[op].inputs.map((t) => (t.data instanceof Int32Array ? t.data : new Int32Array(t.data.buffer, t.data.byteOffset, t.data.length)));
      const { states, result } = run(program, memory, element, { keepStates: true });
      const lo = states!.findIndex((st) => !st.halted && program[st.pc].op === 'load' && program[st.pc].b === b);
      if (lo < 0) continue;
      const pos: Position = {
        ...base, turn: 'either', op, element, lo, n: 1, agreed: stateHashOf(states![lo]),
        nodeSolver: 'cd'.repeat(32), nodeChallenger: stateHashOf(states![lo + 1]), valueSolver: result, valueChallenger: result,
      };
      const move = (await honestParty.move(pos, rules)) as Extract<Move, { kind: 'prove' }>;
      found = { pos, move };
    }
    if (!found) {
      console.warn(`no op of step ${T} loads a ${kind} input; skipped`);
      return;
    }
    const { pos, move } = found;
    expect(move.kind).toBe('prove');
    expect(move.opening).not.toBeNull();
    const ts = ruleInstruction(rules, pos, move);
    const [loser, post] = await rule(encodeOneStep(rules, pos, move));
    expect([REFEREE_LOSERS[loser], post]).toEqual([ts.loser, `0x${pos.nodeChallenger}`]);
    expect(ts.loser).toBe('solver');
    const both = { ...pos, nodeChallenger: 'ef'.repeat(32) };
    const [loser2] = await rule(encodeOneStep(rules, both, move));
    expect(REFEREE_LOSERS[loser2]).toBe(ruleInstruction(rules, both, move).loser);
    expect(REFEREE_LOSERS[loser2]).toBe('both');
  }, 60_000);

  test('the TypeScript referee rejects what the contract rejects: another instruction, a tampered path, another rule', async () => {
    const accepted = cheatGame.moves.filter((m) => !m.rejected);
    const k = accepted.findIndex((m) => m.move.kind === 'prove');
    const pos = accepted[k - 1].position;
    const move = accepted[k].move as Extract<Move, { kind: 'prove' }>;
    const committed = opRuleOf(rules.structure(pos.t), pos.op);
    const pc = toMachineState(move.pre).pc;
    const instruction = committed.program[pc];
    const opening = ruleOpening(committed, pc, instruction.op === 'load' ? instruction.b : undefined);
    expect(ruleInstruction(rules, pos, move, { instruction, opening }).loser).toBe('solver');
    const other = { ...instruction, d: (instruction.d + 1) % 32 };
    expect(() => ruleInstruction(rules, pos, move, { instruction: other, opening })).toThrow(/not the committed/);
    const flipped = opening.instructionProof.map((h, i) => (i === 0 ? h.map((x, j) => (j === 0 ? x ^ 1 : x)) : h));
    expect(() => ruleInstruction(rules, pos, move, { instruction, opening: { ...opening, instructionProof: flipped } })).toThrow(/not the committed/);
    expect(() => ruleInstruction(rules, pos, move, { instruction, opening: { ...opening, programLength: opening.programLength + 1 } })).toThrow(/not the committed/);
    const [, , , , opRule, program] = encodeOneStep(rules, pos, move);
    expect(opRule).toBe(`0x${Buffer.from(committed.rule).toString('hex')}`);
    await expectRevert(rule([...encodeOneStep(rules, pos, move).slice(0, 4), opRule, { ...program, programLength: program.programLength + 1 }] as unknown as RuleArgs), 'RefereeOpRuleMismatch');
  });
});

describe('OneStepReferee rejects tampered proofs with named errors', () => {
  const flip = (h: Hex, at = 10): Hex => `${h.slice(0, at)}${h[at] === '0' ? '1' : '0'}${h.slice(at + 1)}` as Hex;

  test('a valid synthetic load rules against the lying solver', async () => {
    const { args, post } = syntheticLoad();
    const [loser, got] = await rule(args);
    expect([REFEREE_LOSERS[loser], got]).toEqual(['solver', `0x${post}`]);
  });

  test('pre-state not the agreed one', async () => {
    const [pre, ...rest] = syntheticLoad().args;
    await expectRevert(rule([flip(pre, 20), ...rest]), 'RefereeStateNotAgreed');
  });

  test('a chunk word changed, or a chunk path hash changed, or a path of the wrong length', async () => {
    const [pre, ins, pos, load, opRule, program] = syntheticLoad().args;
    await expectRevert(rule([pre, ins, pos, { ...load, chunk: flip(load.chunk, 100) }, opRule, program]), 'RefereeSourceNotProven');
    await expectRevert(rule([pre, ins, pos, { ...load, chunkProof: [flip(load.chunkProof[0]), ...load.chunkProof.slice(1)] }, opRule, program]), 'RefereeSourceNotProven');
    await expectRevert(rule([pre, ins, pos, { ...load, chunkProof: load.chunkProof.slice(1) }, opRule, program]), 'RefereeChunkNotInTree');
  });

  test('a source path hash changed; a committed descriptor with another leaf index, name, shape or source', async () => {
    const [pre, ins, pos, load, opRule, program] = syntheticLoad().args;
    await expectRevert(rule([pre, ins, pos, { ...load, sourceProof: [flip(load.sourceProof[0]), ...load.sourceProof.slice(1)] }, opRule, program]), 'RefereeSourceNotProven');
    for (const committed of [{ leaf: 4 }, { name: 'params.x' }, { shape: [128, 512] }, { source: 0 }]) {
      await expectRevert(rule(syntheticLoad({ committed }).args), 'RefereeSourceNotProven');
    }
  });

  test('a chunk of the wrong length, an address outside the (committed) tensor', async () => {
    const [pre, ins, pos, load, opRule, program] = syntheticLoad().args;
    await expectRevert(rule([pre, ins, pos, { ...load, chunk: load.chunk.slice(0, -8) as Hex }, opRule, program]), 'RefereeBadChunkLength');
    await expectRevert(rule(syntheticLoad({ committed: { shape: [100, 256] } }).args), 'RefereeLoadOutOfRange');
  });

  test('an opening that does not lead to the committed op rule: another rule, length, input count or inputs root', async () => {
    const [pre, ins, pos, load, opRule, program] = syntheticLoad().args;
    await expectRevert(rule([pre, ins, pos, load, flip(opRule), program]), 'RefereeOpRuleMismatch');
    await expectRevert(rule([pre, ins, pos, load, opRule, { ...program, programLength: program.programLength + 1 }]), 'RefereeOpRuleMismatch');
    await expectRevert(rule([pre, ins, pos, load, opRule, { ...program, inputCount: 3 }]), 'RefereeOpRuleMismatch');
    // A load rebuilds the inputs root from its descriptor's path: the sent one is unread.
    const [loser] = await rule([pre, ins, pos, load, opRule, { ...program, inputsRoot: flip(program.inputsRoot) }]);
    expect(REFEREE_LOSERS[loser]).toBe('solver');
  });

  test('an instruction that is not the program\'s at pre.pc: another one, a bad one, a tampered or short path', async () => {
    const [pre, ins, pos, load, opRule, program] = syntheticLoad().args;
    const other = `${ins.slice(0, 4)}08${ins.slice(6)}` as Hex; // load into r8 instead of r7
    const otherInput = `${ins.slice(0, 8)}00${ins.slice(10)}` as Hex; // load from input 0, with input 1's descriptor
    for (const bad of [other, otherInput, '0x2020000000000000', '0x1300000000000000'] as Hex[]) {
      await expectRevert(rule([pre, bad, pos, load, opRule, program]), 'RefereeOpRuleMismatch');
    }
    const path = program.instructionProof;
    await expectRevert(rule([pre, ins, pos, load, opRule, { ...program, instructionProof: [...path.slice(0, -1), flip(path[path.length - 1])] }]), 'RefereeOpRuleMismatch');
    await expectRevert(rule([pre, ins, pos, load, opRule, { ...program, instructionProof: path.slice(1) }]), 'RefereeOpRuleMismatch', [2, `0x${'00'.repeat(32)}`, opRule]);
  });

  test('a load descriptor that is not the rule\'s input: another leaf, name, shape, source, leaf count, dtype, or a tampered path', async () => {
    const { args: [pre, ins, pos, load, opRule, program], descriptor } = syntheticLoad();
    for (const changed of [{ leaf: 4 }, { name: 'params.x' }, { shape: [128, 512] }, { source: 0 }, { leafCount: 21 }, { dtype: 2 }]) {
      const other = { ...load, descriptor: `0x${Buffer.from(encodeDescriptor({ ...descriptor, ...changed })).toString('hex')}` as Hex };
      await expectRevert(rule([pre, ins, pos, other, opRule, program]), 'RefereeOpRuleMismatch');
    }
    await expectRevert(rule([pre, ins, pos, load, opRule, { ...program, inputProof: [flip(program.inputProof[0])] }]), 'RefereeOpRuleMismatch');
  });

  test('a committed descriptor that is not an encodeDescriptor (an unknown source, bytes past its name)', async () => {
    await expectRevert(rule(syntheticLoad({ committed: { source: 7 } }).args), 'RefereeBadDescriptor');
    const [pre, ins, pos, load, opRule, program] = syntheticLoad().args;
    await expectRevert(rule([pre, ins, pos, { ...load, descriptor: `${load.descriptor}00` as Hex }, opRule, program]), 'RefereeOpRuleMismatch');
  });
});
