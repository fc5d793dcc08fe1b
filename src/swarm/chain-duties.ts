/**
 * A SAPO node's duties on the SwarmCoordinator (docs/swarm-chain.md) as pure functions: the node's knowledge of each
 * round in, the chain actions due at the current block out. The node's loop (node/swarm-node-chain.ts) reads the
 * block number, asks `dutiesAt` what to do, performs the actions at the edge and records their results here.
 *
 * How SAPO rounds map to the coordinator's: they are the same rounds. A node driving the coordinator runs its SAPO
 * clock on the chain's block number (`sapoClock`): SAPO round r lasts the coordinator's commit window of round r,
 * [START + r·COMMIT_BLOCKS, START + (r+1)·COMMIT_BLOCKS). So the rollout a node publishes in round r, the policy that
 * generated it and the peers' rollouts of round r-1 its last GRPO step trained on are known at the start of round r,
 * within the window where they are committed; and a rollout committed in round r by its author is in the used root
 * a user commits in round r+1, which is what the coordinator's use proofs require. A node that falls behind the
 * clock (a slow round, an RPC outage) skips to the clock's round, as SAPO nodes do, and commits from there: a round
 * whose window it missed is dropped, never committed late.
 *
 * Use rewards: a user logs the used leaves of its commit in round r+1 (SwarmCoordinator.commit, Committed). Once round
 * r+1's commit window has closed every such leaf is known: the node reads them ('uses'), proves each use of one of its
 * own committed rollouts of round r by another node ('prove', before useEnd(r)), and after useEnd(r) collects its use
 * share ('collect-use') if it proved any and its claim of round r stood. The planner never proposes a leaf that is not
 * one of the node's own rollouts of the round, a user that is the node itself or did not log that leaf, or a use
 * already proven or given up (test/swarm/chain-duties.test.ts checks it over generated states).
 */
import type { Address, Hex } from 'viem';
import type { SwarmGroup } from '../chain/index.js';

/** The coordinator's immutable round lengths (SwarmCoordinator START, COMMIT_BLOCKS, CLAIM_BLOCKS, CHALLENGE_BLOCKS). */
export type CoordinatorClock = { start: bigint; commitBlocks: bigint; claimBlocks: bigint; challengeBlocks: bigint };

export type RoundSchedule = { opens: bigint; deadline: bigint; claimEnd: bigint; challengeEnd: bigint; useEnd: bigint };

/** The coordinator's schedule(round), computed from its immutables (the contract's own formula). */
export function scheduleOf(c: CoordinatorClock, round: bigint): RoundSchedule {
  const opens = c.start + round * c.commitBlocks;
  const deadline = opens + c.commitBlocks;
  const claimEnd = deadline + c.claimBlocks;
  const challengeEnd = claimEnd + c.challengeBlocks;
  return { opens, deadline, claimEnd, challengeEnd, useEnd: challengeEnd + c.commitBlocks };
}

/** The EVM keeps the last 256 block hashes: a beacon not fixed by then voids its round. */
export const BEACON_BLOCKS = 256n;

/** The unit of the SAPO clock when it runs on blocks: one block is this many clock "milliseconds". */
export const BLOCK_MS = 1_000;

/** The SAPO clock on blocks: genesis and round length for runSapoNode, and `now` from a block number. */
export function sapoClock(c: CoordinatorClock): { genesisMs: number; roundMs: number; now(block: bigint): number } {
  return { genesisMs: Number(c.start) * BLOCK_MS, roundMs: Number(c.commitBlocks) * BLOCK_MS, now: (block) => Number(block) * BLOCK_MS };
}

/** One of the node's own committed groups and its leaf (swarmRolloutLeaf(node, group)); its use is paid when it is useful. */
export type OwnRollout = { group: SwarmGroup; leaf: Hex };

/** A commitment of the next round by `user` and the rollout leaves it logged as used. */
export type UserLeaves = { user: Address; leaves: readonly Hex[] };

/** A use's key in `proven` and `useSkipped`: the user and the leaf (the coordinator counts each pair once). */
export const useKey = (user: Address, leaf: Hex) => `${user.toLowerCase()} ${leaf.toLowerCase()}`;

/** What the node knows and has done in one round. */
export type RoundDuty = {
  round: bigint;
  /** The node published its rollout of this round (its commitment's inputs are ready). */
  ready: boolean;
  committed: boolean;
  /** The round's beacon once read or fixed; 'void' when nobody fixed it within 256 blocks. */
  beacon?: Hex | 'void';
  claimed: boolean;
  /** Disputes against the node's claim are being watched and played until the challenge window ends. */
  defending: boolean;
  /** Peers' claims seen on chain, and those already checked (or passed over by the sample). */
  claims: readonly Address[];
  checked: readonly Address[];
  collected: boolean;
  /** Why the round was given up (a window missed), if it was. */
  dropped?: string;
  /** The node's own rollouts it committed this round (their leaves are what it may prove the use of). */
  rollouts: readonly OwnRollout[];
  /** The node's claim was refuted (it earns no use share then). */
  refuted: boolean;
  /** The next round's commitments with their used leaves, once read (after the next round's commit window). */
  users?: readonly UserLeaves[];
  /** Uses proven (useKey), and uses given up after failures. */
  proven: readonly string[];
  useSkipped: readonly string[];
  /** Why the use part of the round is over: its share collected, or nothing to collect (and why). */
  useOver?: string;
  /**
   * Peers whose policy could not be fetched and was requested on chain (docs/swarm-chain.md, "Data availability"):
   * watched until published (then checked, even past the round's challenge window: `late`) or forfeited.
   */
  awaiting?: readonly Address[];
  late?: readonly Address[];
};

export type Duties = { rounds: ReadonlyMap<bigint, RoundDuty>; busy: ReadonlySet<string> };

export type DutyAction =
  | { kind: 'commit'; round: bigint }
  | { kind: 'beacon'; round: bigint }
  | { kind: 'claim'; round: bigint }
  | { kind: 'watch'; round: bigint }
  | { kind: 'check'; round: bigint; node: Address }
  | { kind: 'collect'; round: bigint }
  | { kind: 'uses'; round: bigint }
  | { kind: 'prove'; round: bigint; user: Address; rollout: OwnRollout }
  | { kind: 'collect-use'; round: bigint }
  | { kind: 'use-over'; round: bigint; reason: string }
  | { kind: 'await-policy'; round: bigint }
  | { kind: 'drop'; round: bigint; reason: string };

/** An action's key in `busy` (one of each in flight at a time). */
export const actionKey = (a: DutyAction) => `${a.kind} ${a.round}${a.kind === 'check' ? ` ${a.node}` : a.kind === 'prove' ? ` ${useKey(a.user, a.rollout.leaf)}` : ''}`;

export const noDuties = (): Duties => ({ rounds: new Map(), busy: new Set() });

const blank = (round: bigint): RoundDuty => ({ round, ready: false, committed: false, claimed: false, defending: false, claims: [], checked: [], collected: false, rollouts: [], refuted: false, proven: [], useSkipped: [] });

/** The duties with round `round` changed by `patch` (created if new). */
export function updateRound(d: Duties, round: bigint, patch: (r: RoundDuty) => Partial<RoundDuty>): Duties {
  const r = d.rounds.get(round) ?? blank(round);
  return { ...d, rounds: new Map(d.rounds).set(round, { ...r, ...patch(r) }) };
}

export const started = (d: Duties, a: DutyAction): Duties => ({ ...d, busy: new Set(d.busy).add(actionKey(a)) });
export function ended(d: Duties, a: DutyAction): Duties {
  const busy = new Set(d.busy);
  busy.delete(actionKey(a));
  return { ...d, busy };
}

/** Whether the node is through with a round: collected (bonds and score share) and its use part over, or dropped. */
export const roundDone = (r: RoundDuty) => r.dropped !== undefined || (r.collected && r.useOver !== undefined);

/** The uses of the node's own useful groups by other nodes in what they logged: (user, rollout) pairs, each once. */
export function usesOf(r: RoundDuty, self: Address): { user: Address; rollout: OwnRollout }[] {
  const own = new Map(r.rollouts.filter((x) => x.group.useful).map((x) => [x.leaf.toLowerCase(), x]));
  const out = new Map<string, { user: Address; rollout: OwnRollout }>();
  for (const u of r.users ?? []) {
    if (u.user.toLowerCase() === self.toLowerCase()) continue;
    for (const leaf of u.leaves) {
      const rollout = own.get(leaf.toLowerCase());
      if (rollout) out.set(useKey(u.user, leaf), { user: u.user, rollout });
    }
  }
  return [...out.values()];
}

/**
 * The actions due at block `block`. `sample(round, node)` says whether this node re-executes a peer's claim (the
 * --check fraction). Actions already in flight are not repeated; an action whose window has closed is never due:
 * after an outage the node resumes with what the current block still allows.
 */
export function dutiesAt(d: Duties, o: { block: bigint; clock: CoordinatorClock; self: Address; sample: (round: bigint, node: Address) => boolean }): DutyAction[] {
  const out: DutyAction[] = [];
  const due = (a: DutyAction) => {
    if (!d.busy.has(actionKey(a)) && !out.some((x) => actionKey(x) === actionKey(a))) out.push(a);
  };
  for (const r of d.rounds.values()) {
    if (roundDone(r)) continue;
    const s = scheduleOf(o.clock, r.round);
    const b = o.block;
    // A round the node did not commit in (it joined late, or missed the window) is still watched: its peers' claims.
    if (!r.committed && r.ready && b >= s.opens && b < s.deadline) due({ kind: 'commit', round: r.round });
    if (b > s.deadline && r.beacon === undefined && b <= s.deadline + BEACON_BLOCKS && (r.committed || r.claims.length)) due({ kind: 'beacon', round: r.round });
    if (r.beacon === 'void') {
      if (r.committed && !r.collected) due({ kind: 'collect', round: r.round });
      if (r.committed && r.useOver === undefined) due({ kind: 'use-over', round: r.round, reason: 'the round is void: no use share' });
      else if (!r.committed) due({ kind: 'drop', round: r.round, reason: 'the round is void (its beacon was not fixed within 256 blocks)' });
      continue;
    }
    if (r.committed && !r.claimed && r.beacon !== undefined && b < s.claimEnd) due({ kind: 'claim', round: r.round });
    if (b > s.deadline && b < s.challengeEnd) due({ kind: 'watch', round: r.round });
    // Peers' claims are checked once the node's own claim is in (or cannot be): one evaluation at a time in the round.
    if (r.beacon !== undefined && b < s.challengeEnd && (r.claimed || !r.committed || b >= s.claimEnd)) {
      for (const node of r.claims) if (node.toLowerCase() !== o.self.toLowerCase() && !r.checked.includes(node) && o.sample(r.round, node)) due({ kind: 'check', round: r.round, node });
    }
    // Requested policies: watched until published or forfeited; a published one is checked in its late window.
    const awaiting = (r.awaiting ?? []).length > 0;
    if (awaiting) due({ kind: 'await-policy', round: r.round });
    for (const node of r.late ?? []) if (!r.checked.includes(node)) due({ kind: 'check', round: r.round, node });
    if (b >= s.challengeEnd && !r.committed) {
      // A watcher's round: once its checks are over there is nothing left.
      if (!awaiting && ![...d.busy].some((k) => k.startsWith(`check ${r.round} `))) due({ kind: 'drop', round: r.round, reason: 'watched to the end of its challenge window' });
      continue;
    }
    if (r.committed && !r.collected && b >= s.challengeEnd && !r.defending && !awaiting) due({ kind: 'collect', round: r.round });
    if (r.committed && r.useOver === undefined) useDuties(r, s, b, o.clock, o.self, (kind) => [...d.busy].some((k) => k === `${kind} ${r.round}` || k.startsWith(`${kind} ${r.round} `)), due);
  }
  return out;
}

/** The use part of a committed round (see the header): read the next round's used leaves, prove, collect, or say why not. */
function useDuties(r: RoundDuty, s: RoundSchedule, b: bigint, clock: CoordinatorClock, self: Address, busy: (kind: DutyAction['kind']) => boolean, due: (a: DutyAction) => void): void {
  const over = (reason: string) => due({ kind: 'use-over', round: r.round, reason });
  if (r.refuted) return over('its claim was refuted: no use share');
  if (!r.claimed && b >= s.claimEnd && !busy('claim')) return over('no claim of its own this round: no use share');
  if (!r.claimed) return;
  if (r.rollouts.length === 0) return over('no rollouts committed');
  // Every used leaf of round r's rollouts is in a commit of round r+1, all in once its commit window has closed.
  const next = scheduleOf(clock, r.round + 1n);
  if (r.users === undefined) {
    if (b >= s.useEnd) return over('the use window closed before the used leaves were read');
    if (b >= next.deadline) due({ kind: 'uses', round: r.round });
    return;
  }
  const uses = usesOf(r, self);
  const open = uses.filter((u) => !r.proven.includes(useKey(u.user, u.rollout.leaf)) && !r.useSkipped.includes(useKey(u.user, u.rollout.leaf)));
  if (b < s.useEnd) {
    for (const u of open) due({ kind: 'prove', round: r.round, ...u });
    if (uses.length === 0) over('no other node logged one of its rollouts as used');
    return;
  }
  // A proof in flight may have landed before useEnd: wait for it.
  if (busy('prove')) return;
  if (r.proven.length === 0) return over(uses.length ? 'no use proven before the use window closed' : 'no other node logged one of its rollouts as used');
  // After the round's collect: its disputes are over, so the claim stood (collectUse refuses otherwise).
  if (r.collected) due({ kind: 'collect-use', round: r.round });
}

