/** The chain side of a SAPO round as a pure planner (src/swarm/chain-duties.ts): which action is due at which block. */
import { expect, test } from 'vitest';
import type { Address } from 'viem';
import { dutiesAt, ended, noDuties, scheduleOf, started, updateRound, type DutyAction } from '../../src/swarm/chain-duties.js';

const clock = { start: 100n, commitBlocks: 10n, claimBlocks: 20n, challengeBlocks: 20n };
const self = '0x00000000000000000000000000000000000000aa' as Address;
const peer = '0x00000000000000000000000000000000000000bb' as Address;
const at = (d: ReturnType<typeof noDuties>, block: bigint, sample = () => true) => dutiesAt(d, { block, clock, self, sample }).map((a) => a.kind + (a.kind === 'check' ? ` ${a.node.slice(-2)}` : ''));

test('the schedule mirrors the contract: commit window, claim and challenge windows after it', () => {
  expect(scheduleOf(clock, 2n)).toEqual({ opens: 120n, deadline: 130n, claimEnd: 150n, challengeEnd: 170n, useEnd: 180n });
});

test('a round: commit in its window, then beacon, claim, watch and check, collect after the challenge window', () => {
  let d = updateRound(noDuties(), 2n, () => ({ ready: true }));
  expect(at(d, 119n)).toEqual([]);
  expect(at(d, 120n)).toEqual(['commit']);
  d = updateRound(d, 2n, () => ({ committed: true }));
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
  expect(at(d, 140n)).toEqual(['watch']);
  // Collect waits for the challenge window and for the disputes over its own claim.
  expect(at(d, 170n)).toEqual([]);
  d = updateRound(ended(d, check), 2n, () => ({ checked: [peer], defending: false }));
  expect(at(d, 170n)).toEqual(['collect']);
  d = updateRound(d, 2n, () => ({ collected: true }));
  expect(at(d, 500n)).toEqual([]);
});

test('after an outage the node does only what the current block still allows: no late commit or claim', () => {
  const d = updateRound(noDuties(), 2n, () => ({ ready: true }));
  expect(at(d, 135n)).toEqual(['watch']);
  expect(at(d, 170n)).toEqual(['drop']);
  const committed = updateRound(d, 2n, () => ({ committed: true, beacon: '0x01' }));
  expect(at(committed, 150n)).toEqual(['watch']);
  expect(at(committed, 170n)).toEqual(['collect']);
});

test('a void round returns the commit bond at once; a round watched only is dropped', () => {
  const voided = updateRound(noDuties(), 2n, () => ({ ready: true, committed: true, beacon: 'void' }));
  expect(at(voided, 400n)).toEqual(['collect']);
  const watched = updateRound(noDuties(), 2n, () => ({ beacon: 'void' }));
  expect(at(watched, 400n)).toEqual(['drop']);
});
