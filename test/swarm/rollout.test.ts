import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRollout, reexecute } from '../../src/swarm/rollout-check.js';
import { rolloutCodec, rolloutSignatureValid, signRollout, MAX_ROLLOUT_BYTES, type Rollout } from '../../src/swarm/rollout-message.js';
import { openPolicyBlob } from '../../src/swarm/rollout-policy.js';
import { blobKey, finishRound, startRound } from '../../src/swarm/round.js';
import { HOSTILE_KINDS, type HostileKind } from '../../src/swarm/sapo-adversary.js';
import { simRound, type SimMember } from '../../src/swarm/sapo-sim.js';
import { MalformedMessageError } from '../../src/p2p/errors.js';
import { keyOf, peerIdOf, testConfig, testNodes } from './helpers.js';

const config = testConfig();
const [alice, bob] = testNodes(2, config);
const honest = startRound(alice, 0);
const tokenizerJson = JSON.stringify(alice.program.tokenizer.toJSON());

describe('rollout messages', () => {
  it('round-trip the codec, are signed by their node, and re-execute bit for bit from the policy blob', () => {
    const decoded = rolloutCodec.decode(rolloutCodec.encode('rollout', honest.rollout)).body;
    expect(decoded).toEqual(honest.rollout);
    expect(rolloutSignatureValid(decoded)).toBe(true);
    expect(checkRollout(config, alice.program.tokenizer, decoded, { round: 0, from: alice.id })).toEqual({ ok: true });
    const opened = openPolicyBlob(honest.blob.bytes, { hash: decoded.policy, cid: decoded.cid }, tokenizerJson);
    expect(opened.ok).toBe(true);
    if (opened.ok) expect(reexecute(config, opened.policy, decoded, decoded.groups)).toEqual({ ok: true });
  });

  it('an oversized message is refused by the codec', () => {
    const big = new Uint8Array(MAX_ROLLOUT_BYTES + 1);
    big[0] = 1;
    expect(() => rolloutCodec.decode(big)).toThrow(MalformedMessageError);
  });
});

/** Expected rejection of each hostile kind, as logged by an honest receiver. */
const EXPECTED: Record<HostileKind, string> = {
  'wrong-seed': 'wrong-seed',
  'forged-question': 'forged-question',
  'inflated-reward': 'inflated-reward',
  'unknown-policy': 'unknown-policy',
  'bad-policy-blob': 'bad-policy-blob',
  'wrong-policy-hash': 'bad-policy-blob',
  'not-reproduced': 'not-reproduced',
  replay: 'wrong-round',
  oversized: 'malformed',
  poisoned: 'forged-question',
};

describe('hostile peers', () => {
  it.each(HOSTILE_KINDS)('%s is rejected, its sender named, and the honest nodes carry on', (kind) => {
    let members: SimMember[] = testNodes(3, config).map((node, i) => ({ node, hostile: i === 2 ? kind : undefined }));
    const hostile = members[2].node.id;
    const all = [];
    for (const round of [0, 1]) {
      const { members: next, result } = simRound(members, round);
      members = next;
      all.push(result);
    }
    for (const r of all) {
      // No honest peer is ever rejected.
      expect(r.verdicts.filter((v) => v.peer !== hostile)).toEqual([]);
    }
    // Replays exist from round 1 on; every other attack is seen in round 0.
    const seen = all[kind === 'replay' ? 1 : 0].verdicts.filter((v) => v.peer === hostile);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(new Set(seen.map((v) => v.kind))).toEqual(new Set([EXPECTED[kind]]));
    for (const v of seen) expect(v.reason.length).toBeGreaterThan(10);
    const droppedForGood = !['replay', 'oversized'].includes(kind);
    for (const m of members.slice(0, 2)) {
      expect(m.node.round).toBe(2);
      expect(m.node.dropped.has(hostile)).toBe(droppedForGood);
    }
    // Honest nodes accepted each other's rollouts in both rounds (and the replayer's honest round 0).
    all.forEach((r, round) => {
      for (const m of r.metrics.slice(0, 2)) expect(m.rolloutsIn).toBe(config.own * (kind === 'replay' && round === 0 ? 2 : 1));
    });
  });

  it('a completion may hold only ids the rollout program samples: a PAD, byte or other task\'s character is refused', () => {
    const tokenizer = alice.program.tokenizer;
    // modular's alphabet has no 'b' (brackets'), so the program never samples it; nor PAD, nor a byte token.
    for (const token of [tokenizer.padId, 2 + 'x'.charCodeAt(0), tokenizer.encode('b')[0]]) {
      const r: Rollout = structuredClone(honest.rollout);
      r.groups[0].completions[0].tokens = [token];
      r.groups[0].completions[0].reward = 0;
      const { sig: _s, ...body } = r;
      const verdict = checkRollout(config, tokenizer, signRollout(body, keyOf(0)), { round: 0, from: alice.id });
      expect(verdict).toMatchObject({ ok: false, kind: 'bad-completion' });
      if (!verdict.ok) expect(verdict.reason).toMatch(/outside the swarm's tasks' characters/);
    }
  });

  it('a slow node skips to the current round: its started round is dropped, not replayed', () => {
    const started = startRound(bob, 0);
    const skipped = startRound(started.node, 3);
    expect(skipped.rollout.round).toBe(3);
    const done = finishRound(skipped.node, { rollouts: [{ from: alice.id, rollout: honest.rollout }], blobs: new Map() });
    expect(done.node.round).toBe(4);
    expect(done.verdicts.map((v) => v.kind)).toEqual(['wrong-round']);
    expect(() => startRound(done.node, 2)).toThrow(/behind/);
  });

  it('property: any edit of a signed rollout is rejected, whoever signs it, and the receiver keeps working', () => {
    const tampered = fc.record({
      field: fc.constantFrom('taskSeed', 'seed', 'token', 'length', 'reward', 'prompt', 'answer', 'round', 'node', 'index', 'task', 'completions', 'policy'),
      group: fc.nat(config.own - 1),
      completion: fc.nat(config.completions - 1),
      delta: fc.integer({ min: 1, max: 5 }),
      resign: fc.boolean(),
    });
    fc.assert(
      fc.property(tampered, ({ field, group, completion, delta, resign }) => {
        const r: Rollout = structuredClone(honest.rollout);
        const g = r.groups[group];
        const c = g.completions[completion];
        switch (field) {
          case 'taskSeed': g.taskSeed += delta; break;
          case 'seed': c.seed += delta; break;
          case 'token': c.tokens = c.tokens.length ? [(c.tokens[0] + delta) % 280, ...c.tokens.slice(1)] : [258 + delta]; break;
          case 'length': c.tokens = c.tokens.length ? c.tokens.slice(1) : [258 + delta]; break;
          case 'reward': c.reward = 1 - c.reward; break;
          case 'prompt': g.prompt = `${delta}${g.prompt}`; break;
          case 'answer': g.answer = `${g.answer}${delta}`; break;
          case 'round': r.round += delta; break;
          case 'node': r.node = peerIdOf(2); break;
          case 'index': g.index = (g.index + delta) % 32; break;
          case 'task': g.task = 'addition'; break;
          case 'completions': g.completions = g.completions.slice(1); break;
          case 'policy': r.policy = r.policy.replace(/^./, (x) => (x === 'a' ? 'b' : 'a')); break;
        }
        if (JSON.stringify({ ...r, sig: 0 }) === JSON.stringify({ ...honest.rollout, sig: 0 })) return true;
        const { sig: _s, ...body } = r;
        const sent = resign ? signRollout(body, keyOf(0)) : r;
        const started = startRound(bob, 0);
        const done = finishRound(started.node, { rollouts: [{ from: alice.id, rollout: sent }], blobs: new Map([[blobKey(alice.id, honest.blob.cid), honest.blob.bytes]]) });
        expect(done.verdicts.length).toBe(1);
        expect(done.verdicts[0].peer).toBe(alice.id);
        expect(done.metrics.rolloutsIn).toBe(0);
        expect(done.node.round).toBe(1);
      }),
      { numRuns: 40 },
    );
  });
});
