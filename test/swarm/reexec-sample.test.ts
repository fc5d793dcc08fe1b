/**
 * Which questions a checker re-executes must be unpredictable to the author. The draw was once seeded by
 * public inputs only (checker id, author id, round): a cheater could compute it for every peer and forge
 * exactly the questions no peer would re-execute. Generated adversaries do just that here, against
 * checkers whose draw is keyed by their private key: each forged question is now re-executed by each
 * checker with probability reexecFraction, so a checker catches the cheater as often as the fraction
 * says, and no honest rollout is ever rejected.
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { rewardOf } from '../../src/swarm/rollout-check.js';
import { signRollout, type Rollout } from '../../src/swarm/rollout-message.js';
import { reexecSeed, textSeed } from '../../src/swarm/rollout-seeds.js';
import { blobKey, createSapoNode, finishRound, SAPO_STREAM, startRound, type SapoNode } from '../../src/swarm/round.js';
import { Rng } from '../../src/tensor/index.js';
import { testConfig, testNodes } from './helpers.js';

const OWN = 8;
const CHECKERS = 3;
const [template] = testNodes(1, testConfig({ own: OWN, completions: 2, maxTokens: 2 }));
const { program, policy } = template;

const keyFrom = (n: number) => Uint8Array.from(createHash('sha256').update(`reexec-test-key/${n}`).digest());
const keyArb = fc.integer({ min: 0, max: 2 ** 31 }).map(keyFrom).filter((k) => secp256k1.utils.isValidSecretKey(k));

function nodeOf(key: Uint8Array, fraction: number, round: number): SapoNode {
  const config = testConfig({ own: OWN, completions: 2, maxTokens: 2, reexecFraction: fraction });
  return createSapoNode({ id: identityFromRaw(key).peerId.toString(), key, config, program, policy, round });
}

const draw = (rng: Rng, count: number, fraction: number) => Array.from({ length: count }, () => rng.uniform([1]).item() < fraction);

/** The old draw, from public inputs only: what the cheater computes for each of its peers. */
const publicDraw = (checker: string, author: string, round: number, fraction: number) =>
  draw(new Rng(textSeed(`${checker}/${author}`), SAPO_STREAM, round * 1024), OWN, fraction);

/** The checker's draw now: keyed by its private key. */
const privateDraw = (checker: SapoNode, author: string) => draw(new Rng(reexecSeed(checker.key, checker.config.swarmId, author, checker.round), SAPO_STREAM), OWN, checker.config.reexecFraction);

/**
 * The cheater's rollout with `forged` questions rewritten: every completion replaced by tokens its policy
 * did not generate (the right answer where it was not given, another answer where it was), each with the
 * reward the verifier really gives them, re-signed. Only re-execution can tell.
 */
function forge(cheater: SapoNode, honest: Rollout, forged: ReadonlySet<number>): Rollout {
  const { tokenizer } = cheater.program;
  const groups = honest.groups.map((g) => {
    if (!forged.has(g.index)) return g;
    const right = [...tokenizer.encode(g.answer)];
    const wrong = [...tokenizer.encode(g.answer === '0' ? '1' : '0')];
    const completions = g.completions.map((c) => {
      const tokens = c.tokens.join() === right.join() ? wrong : right;
      return { ...c, tokens, reward: rewardOf(cheater.config, tokenizer, g.task, g.prompt, tokens) };
    });
    return { ...g, completions };
  });
  const { sig: _sig, ...body } = honest;
  return signRollout({ ...body, groups }, cheater.key);
}

describe('re-execution sampling', () => {
  it('property: a cheater forging exactly the questions the public draw skipped is caught as often as the fraction says; honest rollouts always pass', () => {
    const trials: { p: number; caught: boolean }[] = [];
    let sampled = 0;
    let offered = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(keyArb, { minLength: CHECKERS + 1, maxLength: CHECKERS + 1, selector: (k) => k.join() }),
        fc.nat(10_000),
        fc.constantFrom(0.25, 0.5),
        (keys, round, fraction) => {
          const [cheater, ...checkers] = keys.map((k) => nodeOf(k, fraction, round));
          // The attack: forge every question that no peer re-executes under the public draw.
          const skipped = new Set(Array.from({ length: OWN }, (_, i) => i).filter((i) => checkers.every((c) => !publicDraw(c.id, cheater.id, round, fraction)[i])));
          fc.pre(skipped.size > 0);
          const started = [cheater, ...checkers].map((n) => startRound(n, round));
          const sent = forge(cheater, started[0].rollout, skipped);
          const blob = started[0].blob;
          const blobs = new Map([cheater, ...checkers].map((n) => [blobKey(n.id, blob.cid), blob.bytes]));
          checkers.forEach((checker, i) => {
            const peers = started.slice(1).filter((_, j) => j !== i);
            const rollouts = [{ from: cheater.id, rollout: sent }, ...peers.map((s) => ({ from: s.node.id, rollout: s.rollout }))];
            const done = finishRound(started[i + 1].node, { rollouts, blobs });
            // No honest peer is ever rejected; the cheater is rejected exactly when the private draw hits a forged question.
            expect(done.verdicts.filter((v) => v.peer !== cheater.id)).toEqual([]);
            const hits = privateDraw(checker, cheater.id).some((d, q) => d && skipped.has(q));
            expect(done.verdicts.map((v) => `${v.peer} ${v.kind}`)).toEqual(hits ? [`${cheater.id} not-reproduced`] : []);
            expect(done.node.dropped.has(cheater.id)).toBe(hits);
            expect(done.metrics.rolloutsIn).toBe(OWN * (hits ? CHECKERS - 1 : CHECKERS));
            trials.push({ p: 1 - (1 - fraction) ** skipped.size, caught: hits });
            sampled += done.metrics.reexecuted;
            offered += OWN * CHECKERS * fraction;
          });
        },
      ),
      { numRuns: 20 },
    );
    // Under the public draw the cheater was never caught; now each checker catches it with
    // probability 1 - (1 - f)^forged. Five standard deviations: a bound a correct draw does not miss.
    const expected = trials.reduce((a, t) => a + t.p, 0);
    const sd = Math.sqrt(trials.reduce((a, t) => a + t.p * (1 - t.p), 0));
    const caught = trials.filter((t) => t.caught).length;
    expect(trials.length).toBe(CHECKERS * 20);
    expect(Math.abs(caught - expected)).toBeLessThan(5 * sd);
    expect(caught).toBeGreaterThan(0);
    // And the questions re-executed overall are the fraction of those offered (within 25%).
    expect(sampled / offered).toBeGreaterThan(0.75);
    expect(sampled / offered).toBeLessThan(1.25);
  });

  it('the draw depends on the checker\'s key, not only on public names', () => {
    const [a, b] = [keyFrom(1), keyFrom(2)];
    const author = template.id;
    // Same claimed id, other keys: the draws differ (somewhere in 32 rounds), so knowing ids does not tell the draw.
    const draws = (key: Uint8Array) => Array.from({ length: 32 }, (_, r) => draw(new Rng(reexecSeed(key, 'test', author, r), SAPO_STREAM), OWN, 0.25).join());
    expect(draws(a)).not.toEqual(draws(b));
    expect(draws(a)).toEqual(draws(Uint8Array.from(a)));
    // Domain-separated: another swarm or author is another draw.
    expect(reexecSeed(a, 'test', author, 3)).not.toBe(reexecSeed(a, 'other', author, 3));
    expect(reexecSeed(a, 'test', author, 3)).not.toBe(reexecSeed(a, 'test', `${author}x`, 3));
  });
});
