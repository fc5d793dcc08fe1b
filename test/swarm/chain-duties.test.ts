/** The chain side of a SAPO round as a pure planner (src/swarm/chain-duties.ts): which action is due at which block. */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { Address, Hex } from 'viem';
import { actionKey, dutiesAt, ended, noDuties, roundDone, scheduleOf, started, updateRound, useKey, type DutyAction, type Duties, type OwnRollout } from '../../src/swarm/chain-duties.js';

const clock = { start: 100n, commitBlocks: 10n, claimBlocks: 20n, challengeBlocks: 20n };
const self = '0x00000000000000000000000000000000000000aa' as Address;
const peer = '0x00000000000000000000000000000000000000bb' as Address;
const other = '0x00000000000000000000000000000000000000cc' as Address;
const leaf = (i: number) => `0x${i.toString(16).padStart(64, '0')}` as Hex;
const rollout = (i: number, useful = true): OwnRollout => ({ group: { index: i, groupHash: `0x${(1000 + i).toString(16).padStart(64, '0')}`, useful }, leaf: leaf(i) });
const plan = (d: Duties, block: bigint, sample = () => true) => dutiesAt(d, { block, clock, self, sample });
const at = (d: Duties, block: bigint, sample = () => true) =>
  plan(d, block, sample).map((a) => a.kind + (a.kind === 'check' ? ` ${a.node.slice(-2)}` : a.kind === 'prove' ? ` ${a.user.slice(-2)} ${Number(BigInt(a.rollout.leaf))}` : ''));

test('the schedule mirrors the contract: commit window, claim and challenge windows after it', () => {
  expect(scheduleOf(clock, 2n)).toEqual({ opens: 120n, deadline: 130n, claimEnd: 150n, challengeEnd: 170n, useEnd: 180n });
});

test('a round: commit in its window, then beacon, claim, watch and check, collect after the challenge window', () => {
  let d = updateRound(noDuties(), 2n, () => ({ ready: true }));
  expect(at(d, 119n)).toEqual([]);
  expect(at(d, 120n)).toEqual(['commit']);
  d = updateRound(d, 2n, () => ({ committed: true, rollouts: [rollout(1)] }));
  expect(at(d, 130n)).toEqual([]);
  expect(at(d, 131n)).toEqual(['beacon', 'watch']);
  d = updateRound(d, 2n, () => ({ beacon: '0x01', claims: [self, peer] }));
  // Peers are checked once the node's own claim is in.
  expect(at(d, 131n)).toEqual(['claim', 'watch']);
  d = updateRound(d, 2n, () => ({ claimed: true, defending: true }));
  expect(at(d, 131n)).toEqual(['watch', 'check bb']);
  expect(at(d, 131n, () => false)).toEqual(['watch']);
  const check: DutyAction = { kind: 'check', round: 2n, node: peer };
  d = started(d, check);
  // Round 3's commit window has closed at 140: every used leaf of round 2's rollouts is logged.
  expect(at(d, 139n)).toEqual(['watch']);
  expect(at(d, 140n)).toEqual(['watch', 'uses']);
  d = updateRound(d, 2n, () => ({ users: [{ user: peer, leaves: [leaf(7)] }] }));
  // Nobody logged one of its rollouts as used: the use part is over (collectUse would pay nothing).
  expect(plan(d, 141n).filter((a) => a.kind !== 'watch')).toEqual([{ kind: 'use-over', round: 2n, reason: 'no other node logged one of its rollouts as used' }]);
  d = updateRound(d, 2n, () => ({ useOver: 'no other node logged one of its rollouts as used' }));
  // Collect waits for the challenge window and for the disputes over its own claim.
  expect(at(d, 170n)).toEqual([]);
  d = updateRound(ended(d, check), 2n, () => ({ checked: [peer], defending: false }));
  expect(at(d, 170n)).toEqual(['collect']);
  expect(roundDone(d.rounds.get(2n)!)).toBe(false);
  d = updateRound(d, 2n, () => ({ collected: true }));
  expect(roundDone(d.rounds.get(2n)!)).toBe(true);
  expect(at(d, 500n)).toEqual([]);
});

test('after an outage the node does only what the current block still allows: no late commit or claim', () => {
  const d = updateRound(noDuties(), 2n, () => ({ ready: true }));
  expect(at(d, 135n)).toEqual(['watch']);
  expect(at(d, 170n)).toEqual(['drop']);
  const committed = updateRound(d, 2n, () => ({ committed: true, beacon: '0x01', rollouts: [rollout(1)] }));
  // Its claim window passed: no claim, so no use share either.
  expect(at(committed, 150n)).toEqual(['watch', 'use-over']);
  expect(at(committed, 170n)).toEqual(['collect', 'use-over']);
  // A claim in flight at the window's end may have landed: the use part waits for it.
  expect(at(started(committed, { kind: 'claim', round: 2n }), 150n)).toEqual(['watch']);
  // (round 12's claim is another action)
  expect(at(started(committed, { kind: 'claim', round: 12n }), 150n)).toEqual(['watch', 'use-over']);
});

test('a void round returns the commit bond at once, with no use share; a round watched only is dropped', () => {
  const voided = updateRound(noDuties(), 2n, () => ({ ready: true, committed: true, beacon: 'void' }));
  expect(at(voided, 400n)).toEqual(['collect', 'use-over']);
  const watched = updateRound(noDuties(), 2n, () => ({ beacon: 'void' }));
  expect(at(watched, 400n)).toEqual(['drop']);
});

test('use: every logged use of its own rollouts by another node is proven once, in the use window; then the use share is collected', () => {
  let d = updateRound(noDuties(), 2n, () => ({ ready: true, committed: true, rollouts: [rollout(1), rollout(2), rollout(3, false)], beacon: '0x01', claimed: true }));
  d = updateRound(d, 2n, () => ({
    users: [
      { user: peer, leaves: [leaf(1), leaf(9), leaf(3)] }, // leaf 9 is someone else's rollout; leaf 3 its own but not payable (not useful)
      { user: self, leaves: [leaf(2)] }, // its own commitment: not a use by another
      { user: other, leaves: [leaf(2), leaf(1), leaf(2)] }, // listed twice: proven once
    ],
  }));
  expect(at(d, 150n)).toEqual(['watch', 'prove bb 1', 'prove cc 2', 'prove cc 1']);
  const prove = plan(d, 150n).find((a) => a.kind === 'prove')!;
  d = started(d, prove);
  expect(at(d, 151n)).toEqual(['watch', 'prove cc 2', 'prove cc 1']);
  d = updateRound(ended(d, prove), 2n, (r) => ({ proven: [...r.proven, useKey(peer, leaf(1))] }));
  // One given up after failures: not proposed again.
  d = updateRound(d, 2n, (r) => ({ useSkipped: [...r.useSkipped, useKey(other, leaf(2))] }));
  expect(at(d, 169n)).toEqual(['watch', 'prove cc 1']);
  // The window closed with a proof in flight: wait for it; then collect after the round's own collect.
  expect(at(started(d, { kind: 'prove', round: 2n, user: other, rollout: rollout(1) }), 180n)).toEqual(['collect']);
  expect(at(d, 180n)).toEqual(['collect']);
  d = updateRound(d, 2n, () => ({ collected: true }));
  expect(at(d, 180n)).toEqual(['collect-use']);
  d = updateRound(d, 2n, () => ({ useOver: 'collected' }));
  expect(roundDone(d.rounds.get(2n)!)).toBe(true);
});

test('use: nothing to prove or collect when its claim was refuted, when no use was proven in time, or when the leaves were never read', () => {
  const base = updateRound(noDuties(), 2n, () => ({ committed: true, rollouts: [rollout(1)], beacon: '0x01', claimed: true, collected: true }));
  expect(at(updateRound(base, 2n, () => ({ refuted: true })), 150n)).toEqual(['watch', 'use-over']);
  const used = updateRound(base, 2n, () => ({ users: [{ user: peer, leaves: [leaf(1)] }] }));
  expect(plan(used, 180n)).toEqual([{ kind: 'use-over', round: 2n, reason: 'no use proven before the use window closed' }]);
  expect(plan(base, 180n)).toEqual([{ kind: 'use-over', round: 2n, reason: 'the use window closed before the used leaves were read' }]);
});

const address = fc.constantFrom(self, peer, other, '0x00000000000000000000000000000000000000dd' as Address);
const leafIndex = fc.integer({ min: 0, max: 7 });

test('property: the planner never proposes proving a leaf that is not its own or not payable, a use by itself or not logged, or a use twice', () => {
  fc.assert(
    fc.property(
      fc.record({
        own: fc.uniqueArray(leafIndex, { maxLength: 4 }),
        unpaid: fc.array(leafIndex, { maxLength: 2 }),
        users: fc.option(fc.array(fc.record({ user: address, leaves: fc.array(leafIndex, { maxLength: 6 }) }), { maxLength: 4 }), { nil: undefined }),
        proven: fc.array(fc.tuple(address, leafIndex), { maxLength: 4 }),
        skipped: fc.array(fc.tuple(address, leafIndex), { maxLength: 2 }),
        busy: fc.array(fc.tuple(address, leafIndex), { maxLength: 2 }),
        claimed: fc.boolean(),
        refuted: fc.boolean(),
        collected: fc.boolean(),
        block: fc.bigInt({ min: 115n, max: 200n }),
      }),
      (g) => {
        let d = updateRound(noDuties(), 2n, () => ({
          committed: true, beacon: '0x01', claimed: g.claimed, refuted: g.refuted, collected: g.collected, rollouts: g.own.map((i) => rollout(i, !g.unpaid.includes(i))),
          users: g.users?.map((u) => ({ user: u.user, leaves: u.leaves.map(leaf) })),
          proven: g.proven.map(([u, i]) => useKey(u, leaf(i))), useSkipped: g.skipped.map(([u, i]) => useKey(u, leaf(i))),
        }));
        for (const [u, i] of g.busy) d = started(d, { kind: 'prove', round: 2n, user: u, rollout: rollout(i) });
        const actions = plan(d, g.block);
        expect(new Set(actions.map(actionKey)).size).toBe(actions.length);
        for (const a of actions.filter((x): x is DutyAction & { kind: 'prove' } => x.kind === 'prove')) {
          const key = useKey(a.user, a.rollout.leaf);
          expect(g.own.map(leaf)).toContain(a.rollout.leaf);
          expect(a.rollout).toEqual(rollout(Number(BigInt(a.rollout.leaf))));
          expect(g.unpaid).not.toContain(Number(BigInt(a.rollout.leaf)));
          expect(a.user).not.toBe(self);
          expect(g.users!.some((u) => u.user === a.user && u.leaves.map(leaf).includes(a.rollout.leaf))).toBe(true);
          expect(d.rounds.get(2n)!.proven).not.toContain(key);
          expect(d.rounds.get(2n)!.useSkipped).not.toContain(key);
          expect(d.busy.has(actionKey(a))).toBe(false);
          expect(g.claimed && !g.refuted && g.block < 180n).toBe(true);
        }
        if (actions.some((a) => a.kind === 'collect-use')) expect(g.claimed && !g.refuted && g.collected && g.proven.length > 0 && g.block >= 180n).toBe(true);
      },
    ),
    { numRuns: 500 },
  );
});

test('property: driven block by block, the node proves each use of its rollouts by another node exactly once and collects once', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(leafIndex, { minLength: 1, maxLength: 4 }),
      fc.array(fc.record({ user: address, leaves: fc.array(leafIndex, { maxLength: 6 }) }), { maxLength: 4 }),
      fc.integer({ min: 1, max: 5 }),
      (own, logged, step) => {
        // (one commitment per user per round, as the coordinator allows)
        const users = [...new Map(logged.map((u) => [u.user, { user: u.user, leaves: u.leaves.map(leaf) }])).values()];
        let d = updateRound(noDuties(), 2n, () => ({ committed: true, beacon: '0x01', claimed: true, collected: true, rollouts: own.map((i) => rollout(i)) }));
        const sent: string[] = [];
        let collects = 0;
        for (let b = 120n; b < 260n && !roundDone(d.rounds.get(2n)!); b += BigInt(step)) {
          for (const a of plan(d, b)) {
            if (a.kind === 'uses') d = updateRound(d, 2n, () => ({ users }));
            if (a.kind === 'prove') {
              sent.push(useKey(a.user, a.rollout.leaf));
              d = updateRound(d, 2n, (r) => ({ proven: [...r.proven, useKey(a.user, a.rollout.leaf)] }));
            }
            if (a.kind === 'collect-use') collects++;
            if (a.kind === 'collect-use' || a.kind === 'use-over') d = updateRound(d, 2n, () => ({ useOver: a.kind }));
          }
        }
        const expected = new Set(users.filter((u) => u.user !== self).flatMap((u) => u.leaves.filter((l) => own.map(leaf).includes(l)).map((l) => useKey(u.user, l))));
        expect(new Set(sent).size).toBe(sent.length);
        expect(new Set(sent)).toEqual(expected);
        expect(collects).toBe(expected.size > 0 ? 1 : 0);
        expect(roundDone(d.rounds.get(2n)!)).toBe(true);
      },
    ),
    { numRuns: 300 },
  );
});
