/**
 * The planner's data-availability duties (src/swarm/chain-duties.ts; docs/swarm-chain.md, "Data availability"): a
 * requested policy is followed until published or forfeited, past the round's challenge window; a published one is
 * checked in its late window; a watched round is not dropped, nor a committed one collected, while one is awaited.
 */
import { expect, test } from 'vitest';
import type { Address } from 'viem';
import { dutiesAt, noDuties, started, updateRound } from '../../src/swarm/chain-duties.js';

const clock = { start: 100n, commitBlocks: 10n, claimBlocks: 20n, challengeBlocks: 20n };
const self = '0x00000000000000000000000000000000000000aa' as Address;
const peer = '0x00000000000000000000000000000000000000bb' as Address;
// (The use part of a round, proving uses and collecting their share, is planned beside these: left out here.)
const USE = ['uses', 'prove', 'collect-use', 'use-over'];
const at = (d: ReturnType<typeof noDuties>, block: bigint) =>
  dutiesAt(d, { block, clock, self, sample: () => true }).filter((a) => !USE.includes(a.kind)).map((a) => a.kind + (a.kind === 'check' ? ` ${a.node.slice(-2)}` : ''));

test('a committed round: the awaited policy is followed past the challenge window, and the round is collected only once it is settled', () => {
  // Round 2: challengeEnd 170. The node claimed, checked the peer, could not fetch its policy and requested it.
  let d = updateRound(noDuties(), 2n, () => ({ ready: true, committed: true, beacon: '0x01', claimed: true, claims: [self, peer], checked: [peer], awaiting: [peer] }));
  expect(at(d, 160n)).toEqual(['watch', 'await-policy']);
  expect(at(d, 180n)).toEqual(['await-policy']);
  expect(at(started(d, { kind: 'await-policy', round: 2n }), 180n)).toEqual([]);
  // Published: checked again in its late window (past challengeEnd), once, and the round collected after.
  d = updateRound(d, 2n, () => ({ awaiting: [], late: [peer], checked: [] }));
  expect(at(d, 180n)).toEqual(['check bb', 'collect']);
  expect(at(d, 165n)).toEqual(['watch', 'check bb']);
  d = updateRound(d, 2n, () => ({ checked: [peer] }));
  expect(at(d, 180n)).toEqual(['collect']);
});

test('a watched round is not dropped while a policy is awaited', () => {
  let d = updateRound(noDuties(), 2n, () => ({ beacon: '0x01', claims: [peer], checked: [peer], awaiting: [peer] }));
  expect(at(d, 175n)).toEqual(['await-policy']);
  d = updateRound(d, 2n, () => ({ awaiting: [] }));
  expect(at(d, 175n)).toEqual(['drop']);
});
