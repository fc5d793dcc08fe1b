import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/index.js';
import { decodeCheckpoint, encodeCheckpoint, CorruptCheckpointError } from '../../src/train/index.js';
import { meanParams, nesterovStep, nolocoStep } from '../../src/train/outer.js';
import { deltaDigest, genesisCommitment, outerAsTrainState, outerFromTrainState, outerStateHash, roundCommitment, SHARED_STATE, type OuterState } from '../../src/train/diloco-program.js';
import { checkClaim, checkDelta, checkHistory, checkLink, shapesOf, spotCheckSelection, type RoundLink } from '../../src/swarm/diloco.js';
import { simulateDiloco, type RoundRecord, type SimSnapshot } from '../../src/swarm/diloco-sim.js';
import { nolocoGroups } from '../../src/swarm/noloco.js';
import { bundle, node22, runInNode } from '../engines/engines.js';
import { microRun } from './diloco-helpers.js';

const f = Math.fround;
const t = (...xs: number[]) => new Tensor(new Float32Array(xs), [xs.length]);
const bits = (x: Tensor) => Array.from(new Uint32Array((x.data as Float32Array).slice().buffer));

function run(options: Parameters<typeof simulateDiloco>[0], from?: SimSnapshot): { records: RoundRecord[]; snapshot: SimSnapshot } {
  const records: RoundRecord[] = [];
  const snapshot = simulateDiloco({ ...options, onRound: (r) => records.push(r) }, from);
  return { records, snapshot };
}

describe('outer optimizers', () => {
  it('Nesterov SGD is PyTorch\'s formula, one float32 rounding per op', () => {
    const [p, v, g] = [0.5, 0.25, -0.3];
    const { params, momentum } = nesterovStep({ w: t(p) }, { w: t(v) }, { w: t(g) }, { lr: 0.7, momentum: 0.9 });
    const v1 = f(f(f(v) * f(0.9)) + f(g));
    const p1 = f(f(p) - f(f(f(g) + f(v1 * f(0.9))) * f(0.7)));
    expect(bits(momentum.w)).toEqual(bits(t(v1)));
    expect(bits(params.w)).toEqual(bits(t(p1)));
  });

  it('averages in the order given, from +0', () => {
    const sets = [{ w: t(1e8) }, { w: t(1) }, { w: t(-1e8) }];
    expect(meanParams(sets).w.data[0]).toBe(f(f(f(f(0 + 1e8) + 1) - 1e8) / 3));
    expect(meanParams([sets[0], sets[2], sets[1]]).w.data[0]).toBe(f(1 / 3)); // another order, other bits
  });

  it('NoLoCo pulls a pair toward its mean and applies the mean pseudo-gradient', () => {
    const own = { params: { w: t(1) }, momentum: { w: t(0) } };
    const { params } = nolocoStep(own, { deltas: [{ w: t(0.2) }, { w: t(0.4) }], outers: [{ w: t(1) }, { w: t(3) }] }, { lr: 0.5, momentum: 0.9 });
    // d = 0.9*0 - 0.5*0.3 + 0.5*(2 - 1) = 0.35
    expect(params.w.data[0]).toBeCloseTo(1.35, 6);
  });
});

describe('NoLoCo pairing', () => {
  it('is the same from any roster order, covers everyone once, and changes with the round', () => {
    const groups = nolocoGroups(7, 3, [5, 1, 4, 0, 2, 3, 7, 6]);
    expect(nolocoGroups(7, 3, [0, 1, 2, 3, 4, 5, 6, 7])).toEqual(groups);
    expect(groups.flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(groups.every((g) => g.length === 2)).toBe(true);
    const rounds = new Set(Array.from({ length: 8 }, (_, r) => JSON.stringify(nolocoGroups(7, r, [0, 1, 2, 3, 4, 5, 6, 7]))));
    expect(rounds.size).toBeGreaterThan(1);
    expect(nolocoGroups(7, 0, [0, 1, 2]).map((g) => g.length)).toEqual([3]);
  });
});

describe('a DiLoCo run', () => {
  it('gives every worker the same outer state, the same on every run, and learns', () => {
    const a = run(microRun('diloco', { rounds: 4 }));
    const b = run(microRun('diloco', { rounds: 4 }));
    expect(b.records.map((r) => r.commitment)).toEqual(a.records.map((r) => r.commitment));
    const hashes = new Set([...a.snapshot.workers.values()].map((w) => outerStateHash(w.outer)));
    expect(hashes.size).toBe(1);
    expect(a.records.every((r) => r.accepted.length === 4)).toBe(true);
    expect(a.records[3].loss).toBeLessThan(a.records[0].loss);
  });

  it('NoLoCo keeps one outer state per worker, reproducibly', () => {
    const a = run(microRun('noloco'));
    const b = run(microRun('noloco'));
    expect(b.records.map((r) => r.commitment)).toEqual(a.records.map((r) => r.commitment));
    expect(a.records[2].states).toHaveLength(4);
  });

  it('catches a forged delta by re-execution, excludes it with the reason, and goes on', () => {
    const forge = (round: number, worker: number, honest: Record<string, Tensor>) =>
      round === 1 && worker === 2 ? Object.fromEntries(Object.entries(honest).map(([k, v]) => [k, v.mul(2)])) : undefined;
    const { records } = run(microRun('diloco', { forge, spotCheckFraction: 1 }));
    expect(records[1].accepted).toEqual([0, 1, 3]);
    expect(records[1].refused).toEqual([{ worker: 2, round: 1, reason: expect.stringMatching(/re-execution .* a forged delta/) }]);
    expect(records[2].accepted).toEqual([0, 1, 2, 3]); // back in once honest
    const unchecked = run(microRun('diloco', { forge, spotCheckFraction: 0 }));
    expect(unchecked.records[1].accepted).toEqual([0, 1, 2, 3]); // without spot-checks the forgery goes through
  });

  it('leaves a late worker out, lets one leave and another join mid-run, and they rebase on the outer state', () => {
    const online = (r: number) => (r === 0 ? [0, 1, 2] : r === 1 ? [0, 1, 3] : [0, 1, 2, 3]);
    const late = (r: number) => (r === 1 ? [1] : []);
    const { records, snapshot } = run(microRun('diloco', { online, late, rounds: 4 }));
    expect(records.map((r) => r.accepted)).toEqual([[0, 1, 2], [0, 3], [0, 1, 2, 3], [0, 1, 2, 3]]);
    expect(records[1].late).toEqual([1]);
    expect(new Set([...snapshot.workers.values()].map((w) => outerStateHash(w.outer))).size).toBe(1);
  });

  it('a worker that stops and resumes from its committed state reaches the same state as one that never stopped', () => {
    const straight = run(microRun('diloco', { rounds: 4 }));
    const half = run(microRun('diloco', { rounds: 2 }));
    // "Crash": keep only the checkpoint bytes each worker committed, then resume from them.
    const restored = new Map(
      [...half.snapshot.workers].map(([w, s]) => {
        const bytes = encodeCheckpoint(outerAsTrainState(s.outer), { jobId: 'x', spec: microRun('diloco').program.spec, tokenizer: { kind: 'char', alphabet: '' } as never });
        return [w, { outer: outerFromTrainState(decodeCheckpoint(bytes, 'outer').state) }];
      }),
    );
    const resumed = run(microRun('diloco', { rounds: 4 }), { round: half.snapshot.round, workers: restored, commitment: half.snapshot.commitment });
    expect(resumed.records.map((r) => r.commitment)).toEqual(straight.records.slice(2).map((r) => r.commitment));
  });
});

describe('the commitment chain a joiner checks', () => {
  const setup = microRun('diloco', { rounds: 3 });
  const { records, snapshot } = run(setup);
  const links: RoundLink[] = records.map((r) => ({ round: r.round, deltas: r.deltas, states: r.states, commitment: r.commitment }));
  const genesis = genesisCommitment(setup.program);
  const state = outerStateHash(snapshot.workers.get(0)!.outer);
  const head = { round: 2, commitment: records[2].commitment, state };

  it('accepts the state the rounds committed, chained from the spec', () => {
    expect(links.map((l, r) => checkLink(r === 0 ? genesis : links[r - 1].commitment, l))).toEqual([undefined, undefined, undefined]);
    expect(checkHistory(genesis, links, head)).toBeUndefined();
  });

  it('refuses a forged state blob: one that hashes to its own claim but is not the committed state', () => {
    // A well-formed outer state (its blob hashes to this), announced with the run's real close and chain.
    const forged = outerStateHash({ ...snapshot.workers.get(0)!.outer, round: 3, momentum: snapshot.workers.get(0)!.outer.params });
    expect(checkHistory(genesis, links, { ...head, state: forged })).toMatch(/is not a state that round 2's commitment commits: a forged state/);
  });

  it('refuses a chain that is not the run\'s: another genesis, a link changed, a link missing, a close it does not end at', () => {
    expect(checkHistory(outerStateHash({ round: 0, params: snapshot.workers.get(0)!.outer.params, momentum: snapshot.workers.get(0)!.outer.momentum }), links, head)).toMatch(/round 0's commitment .* is not what/);
    // A forger rewrites round 1's state and recomputes its commitment: round 2's link no longer follows.
    const rewritten = links.map((l) => ({ ...l }));
    rewritten[1] = { ...rewritten[1], states: [{ worker: SHARED_STATE, hash: 'ab'.repeat(32) }] };
    rewritten[1].commitment = roundCommitment({ ...rewritten[1], previous: links[0].commitment });
    expect(checkHistory(genesis, rewritten, head)).toMatch(/round 2's commitment .* is not what its deltas, states and the previous commitment give/);
    expect(checkHistory(genesis, [links[0], links[2]], { ...head, round: 1 })).toMatch(/link 1 of the history is of round 2/);
    expect(checkHistory(genesis, links.slice(0, 2), head)).toMatch(/the history has 2 rounds, the close is of round 2/);
    expect(checkHistory(genesis, links, { ...head, commitment: 'cd'.repeat(32) })).toMatch(/the history ends at commitment .* the close claims cdcd/);
  });
});

describe('bad input to a round', () => {
  const params = { 'a.weight': t(1, 2), 'b.bias': t(3) };
  const digest = deltaDigest(params);
  const view = { round: 5, roster: new Set([0, 1, 2]) };

  it('refuses a delta of the wrong shape, a wrong digest, a non-finite value, each with the reason', () => {
    expect(checkDelta(shapesOf(params), params, digest)).toBeUndefined();
    const wrong = { 'a.weight': t(1, 2, 3), 'b.bias': t(3) };
    expect(checkDelta(shapesOf(params), wrong, deltaDigest(wrong))).toMatch(/tensor a.weight has shape \[3\], expected \[2\]/);
    expect(checkDelta(shapesOf(params), { 'a.weight': t(1, 2) }, digest)).toMatch(/1 tensors, the model has 2/);
    expect(checkDelta(shapesOf(params), { 'a.weight': t(1, 2), 'b.bias': t(4) }, digest)).toMatch(/hash to .* but it claims/);
    const nan = { 'a.weight': t(1, NaN), 'b.bias': t(3) };
    expect(checkDelta(shapesOf(params), nan, deltaDigest(nan))).toMatch(/non-finite/);
  });

  it('refuses an unknown worker and a replayed delta from an old round', () => {
    expect(checkClaim(view, { round: 5, worker: 1, digest })).toBeUndefined();
    expect(checkClaim(view, { round: 5, worker: 9, digest })).toMatch(/worker 9 is not on this run's roster/);
    expect(checkClaim(view, { round: 4, worker: 1, digest })).toMatch(/round 4 is over .* replayed/);
  });

  it('refuses a state blob whose tensors do not hash to its claim', () => {
    const outer: OuterState = { round: 3, params, momentum: { 'a.weight': t(0, 0), 'b.bias': t(0) } };
    const bytes = encodeCheckpoint(outerAsTrainState(outer), { jobId: 'x', spec: microRun('diloco').program.spec, tokenizer: { kind: 'char', alphabet: '' } as never });
    expect(outerStateHash(outerFromTrainState(decodeCheckpoint(bytes, 'state').state))).toBe(outerStateHash(outer));
    bytes[bytes.length - 2] ^= 0x10;
    expect(() => decodeCheckpoint(bytes, 'state blob')).toThrow(CorruptCheckpointError);
  });

  it('spot-checks the same workers on every peer, about the fraction asked', () => {
    const workers = Array.from({ length: 200 }, (_, i) => i);
    const picked = spotCheckSelection(1, 4, workers, 0.25);
    expect(spotCheckSelection(1, 4, [...workers].reverse(), 0.25)).toEqual(picked);
    expect(picked.length).toBeGreaterThan(25);
    expect(picked.length).toBeLessThan(75);
  });
});

describe('reproducibility', () => {
  it('the outer state is the same bits in another process, with 1 and 2 threads, and on Node 22', async () => {
    const entry = 'test/swarm/fixtures/outer-entry.ts';
    const [file, binary] = await Promise.all([bundle(entry, 'node'), node22()]);
    const [n20, n22] = await Promise.all([runInNode(process.execPath, file), runInNode(binary, file)]);
    const here = ['diloco', 'noloco'].map((mode) => run(microRun(mode as 'diloco')).records.map((r) => r.commitment).join(',')).join(' ');
    expect(n20).toBe(here);
    expect(n22).toBe(n20);
  }, 120_000);
});
