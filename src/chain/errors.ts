/**
 * Chain errors as MycelErrors: every custom error of the mycel contracts (and the OpenZeppelin ERC-20 errors they
 * bubble up) decoded by name and arguments, with a hint that names the fix; and the environment failures (wrong
 * chain, unreachable node, unfunded account, a spec that does not match its hash). {@link toMycelError} turns any
 * error thrown by viem into one of these.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  InsufficientFundsError,
  decodeErrorResult,
  formatUnits,
  type Abi,
  type Address,
  type Hash,
  type Hex,
} from 'viem';
import { DisputeGameAbi } from './generated/DisputeGame.js';
import { JobMarketAbi } from './generated/JobMarket.js';
import { MycelTokenAbi } from './generated/MycelToken.js';
import { NodeRegistryAbi } from './generated/NodeRegistry.js';
import { OneStepRefereeAbi } from './generated/OneStepReferee.js';
import { SwarmAvailabilityAbi } from './generated/SwarmAvailability.js';
import { SwarmCoordinatorAbi } from './generated/SwarmCoordinator.js';
import { SwarmProgramsAbi } from './generated/SwarmPrograms.js';
import { MycelError } from '../platform/errors.js';
import { ChainUnreachableError } from './clients.js';

/** Job phases, in the order of JobMarket.Phase. */
export const JOB_PHASES = ['None', 'Open', 'Claimed', 'Committed', 'Disputed', 'Finalized', 'Refuted', 'Expired'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

/**
 * Every error any mycel contract can revert with (the market bubbles up registry and token errors, the dispute game
 * the one-step referee's, the swarm coordinator its SwarmPrograms' and SwarmAvailability's).
 */
export const MYCEL_ERRORS_ABI = dedupe(
  [...JobMarketAbi, ...NodeRegistryAbi, ...MycelTokenAbi, ...DisputeGameAbi, ...OneStepRefereeAbi, ...SwarmCoordinatorAbi, ...SwarmProgramsAbi, ...SwarmAvailabilityAbi].filter((x) => x.type === 'error'),
);

function dedupe<T extends { name?: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((x) => (seen.has(x.name!) ? false : (seen.add(x.name!), true)));
}

const tokens = (n: unknown) => `${formatUnits(n as bigint, 18)} tokens`;
const when = (t: unknown) => `${new Date(Number(t) * 1000).toISOString()} (unix ${t})`;
const blocksUntil = (now: unknown, until: unknown) => `${BigInt(until as bigint) - BigInt(now as bigint)} blocks from the last one`;
const phase = (p: unknown) => JOB_PHASES[Number(p)] ?? `phase ${p}`;

type Explain = (a: readonly unknown[]) => { message: string; hints: string[] };

/** Per custom error: what went wrong, and what to do. */
const EXPLAIN: Record<string, Explain> = {
  ERC20InsufficientAllowance: ([spender, allowance, needed]) => ({
    message: `The token allowance of ${spender} is ${tokens(allowance)}; the call needs ${tokens(needed)}.`,
    hints: [`Approve ${spender} for ${tokens(needed)} first (the approve action), or post the job with a permit.`],
  }),
  ERC20InsufficientBalance: ([sender, balance, needed]) => ({
    message: `${sender} holds ${tokens(balance)}; the call needs ${tokens(needed)}.`,
    hints: [`Get at least ${tokens(BigInt(needed as bigint) - BigInt(balance as bigint))} more into ${sender}.`],
  }),
  ERC2612ExpiredSignature: ([deadline]) => ({
    message: `The permit signature expired at ${when(deadline)}.`,
    hints: ['Sign a new permit with a deadline in the future.'],
  }),
  ERC2612InvalidSigner: ([signer, owner]) => ({
    message: `The permit was signed by ${signer}, not by the owner ${owner}.`,
    hints: ['Sign the permit with the owner\'s key, over the token\'s EIP-712 domain and the owner\'s current nonce.'],
  }),
  NodeAlreadyRegistered: ([node]) => ({
    message: `${node} is already registered.`,
    hints: ['Nothing to do; to change the bond, requestWithdraw, withdraw after the delay, then register again.'],
  }),
  NodeStakeTooLow: ([, stake, minimum]) => ({
    message: `A stake of ${tokens(stake)} is below the registry minimum of ${tokens(minimum)}.`,
    hints: [`Register with a stake of at least ${tokens(minimum)}.`],
  }),
  NodeStakeTooHigh: ([, stake]) => ({ message: `A stake of ${tokens(stake)} does not fit 128 bits.`, hints: ['Stake less.'] }),
  NodePublicKeyLength: ([length]) => ({
    message: `The public key is ${length} bytes; it must be empty or the 64-byte uncompressed secp256k1 key.`,
    hints: ['Pass publicKeyOf(account): the uncompressed key without its 0x04 prefix.'],
  }),
  NodePublicKeyMismatch: ([node, keyAddress]) => ({
    message: `The public key belongs to ${keyAddress}, not to the sender ${node}.`,
    hints: ['Register from the account whose key you publish (one key is both the PeerId and the address).'],
  }),
  NodeNotRegistered: ([node]) => ({ message: `${node} is not a registered node.`, hints: ['Register it first (the register action).'] }),
  NodeUnbonding: ([node, unlockAt]) => ({
    message: `${node} is unbonding and cannot take jobs.`,
    hints: [`Withdraw from block ${unlockAt} on, then register again.`],
  }),
  NodeWithdrawNotRequested: ([node]) => ({
    message: `${node} has not requested to withdraw.`,
    hints: ['Call requestWithdraw first, then withdraw after the unbonding delay.'],
  }),
  NodeStillUnbonding: ([, now, unlockAt]) => ({
    message: `The bond unlocks at block ${unlockAt}, ${blocksUntil(now, unlockAt)}.`,
    hints: [`Wait until block ${unlockAt}, then withdraw.`],
  }),
  NodeStakeLocked: ([node, jobs]) => ({
    message: `${node} still holds ${jobs} open job(s); its bond is locked until they settle.`,
    hints: ['Commit, then let each job finalize, be resolved, or expire; then withdraw.'],
  }),
  RegistryUnauthorizedCaller: ([caller]) => ({ message: `${caller} is not the market.`, hints: ['Only the JobMarket may lock nodes.'] }),
  JobUnknown: ([jobId]) => ({ message: `No job has id ${jobId}.`, hints: ['Check the job id (ids run from 0 to jobCount - 1) and the market address.'] }),
  JobWrongPhase: ([jobId, actual, expected]) => ({
    message: `Job ${jobId} is ${phase(actual)}; this call needs it ${phase(expected)}.`,
    hints: ['Read the job (getJob) and call what its phase allows.'],
  }),
  JobNotSolver: ([jobId, caller, solver]) => ({
    message: `${caller} is not the solver of job ${jobId}; ${solver} is.`,
    hints: [`Send it from ${solver}.`],
  }),
  JobSelfChallenge: ([jobId]) => ({ message: `The solver cannot challenge its own root in job ${jobId}.`, hints: ['Challenge from another node.'] }),
  JobDeadlinePassed: ([jobId, , deadline]) => ({
    message: `The deadline of job ${jobId} passed at block ${deadline}.`,
    hints: ['Call expire to refund the submitter.'],
  }),
  JobDeadlineNotPassed: ([jobId, now, deadline]) => ({
    message: `The deadline of job ${jobId} is block ${deadline}, ${blocksUntil(now, deadline)}.`,
    hints: [`Wait until block ${deadline}, then expire it.`],
  }),
  JobChallengeWindowClosed: ([jobId, , ends]) => ({
    message: `The challenge window of job ${jobId} closed at block ${ends}.`,
    hints: ['Too late to challenge; finalize pays the solver once its disputes are over.'],
  }),
  JobChallengeWindowOpen: ([jobId, now, ends]) => ({
    message: `The challenge window of job ${jobId} is open until block ${ends}, ${blocksUntil(now, ends)}.`,
    hints: [`Wait until block ${ends}, then finalize.`],
  }),
  JobDisputesOpen: ([jobId, open]) => ({
    message: `Job ${jobId} has ${open} dispute(s) in play.`,
    hints: ['It finalizes once every dispute on it is over (each ends within twice the game clock); call finalize then.'],
  }),
  JobChallengeRootMatches: ([jobId]) => ({
    message: `Your root equals the solver's root for job ${jobId}: there is nothing to dispute.`,
    hints: ['Challenge only a root your own run contradicts.'],
  }),
  JobZeroHash: () => ({ message: 'A root or spec hash is zero.', hints: ['Pass the keccak256 of the spec, or the run root.'] }),
  JobRequestInvalid: ([field, value]) => ({
    message: `The job request's ${field} (${value}) is invalid.`,
    hints: ['steps (below 2^32), reward and stake must be positive, solversWanted must be 1, the deadline a future block, and the challenge window at least the market\'s MIN_CHALLENGE_WINDOW blocks.'],
  }),
  MarketUnauthorizedResolver: ([caller]) => ({ message: `${caller} is not the market's dispute resolver.`, hints: ['Only the resolver set at deployment resolves disputes.'] }),
  DisputeUnknown: ([id]) => ({ message: `Dispute ${id} is not open in this market.`, hints: ['Check the dispute id (getJob shows it).'] }),
  DisputeIdReused: ([id]) => ({ message: `The dispute resolver reused dispute id ${id}.`, hints: ['The resolver contract is faulty; this market cannot take challenges through it.'] }),
  DisputeWinnerInvalid: ([id, winner]) => ({ message: `${winner} is not a party to dispute ${id}.`, hints: ['The winner must be the solver or the challenger.'] }),
  JobRulesUnset: ([jobId]) => ({
    message: `Job ${jobId} has no dispute rules yet, so it cannot be claimed (a claimed job without rules could never be challenged).`,
    hints: ["The submitter sets them first: JobMarket.setRules(jobId, h0, factsRoot, factsSize) from the job's spec (jobFacts; the setRules action)."],
  }),
  // SwarmCoordinator (docs/swarm-chain.md): each says what to do instead.
  SwarmConfigInvalid: ([field]) => ({ message: `The swarm coordinator's ${field} is out of range.`, hints: ['Deploy with positive window lengths, commit and claim bonds of at least 2 (each is a dispute\'s stake), a GRPO step of 1-100 slots, a use share of at most 10,000 bps and one program per model config.'] }),
  SwarmNotRegistered: ([node]) => ({ message: `${node} is not a registered, active node.`, hints: ['Register in the NodeRegistry (the register action) before committing; a node that requested withdrawal cannot commit.'] }),
  SwarmCommitClosed: ([round, block, opens, closes]) => ({
    message: `Round ${round}'s commit window is blocks ${opens} to ${BigInt(closes as bigint) - 1n}; it is block ${block}.`,
    hints: ['Commit to the current round (currentRound()); a late commitment cannot enter a round whose beacon may already be known.'],
  }),
  SwarmAlreadyCommitted: ([round, node]) => ({ message: `${node} already committed in round ${round}.`, hints: ['One commitment per node and round; wait for the next round.'] }),
  SwarmModelUnknown: ([config]) => ({ message: `The coordinator admits no evaluation program for model config ${config}.`, hints: ['Commit with one of modelConfigs(); programs are fixed at deployment.'] }),
  SwarmZeroHash: () => ({ message: 'A root or policy hash is zero.', hints: ['Send the Merkle roots of what you committed.'] }),
  SwarmBeaconTooEarly: ([round, block, at]) => ({ message: `Round ${round}'s beacon is the hash of block ${at}, not mined yet (now ${block}).`, hints: [`Call fixBeacon after block ${at}.`] }),
  SwarmBeaconAlreadyFixed: ([round]) => ({ message: `Round ${round}'s beacon is already fixed.`, hints: ['Read it with getRound(round).'] }),
  SwarmBeaconUnfixed: ([round]) => ({ message: `Round ${round}'s beacon is not fixed yet.`, hints: [`Call fixBeacon(${round}) first (anyone may), within 256 blocks of its commit deadline.`] }),
  SwarmRoundVoid: ([round]) => ({ message: `Round ${round} is void: nobody fixed its beacon within 256 blocks.`, hints: ['Its bonds come back with collect; commit to the current round.'] }),
  SwarmNoCommitment: ([round, node]) => ({ message: `${node} has no commitment in round ${round}.`, hints: ['Only a node that committed in the round can claim, prove use or collect.'] }),
  SwarmAlreadyClaimed: ([round, node]) => ({ message: `${node} already claimed a score in round ${round}.`, hints: ['One claim per node and round.'] }),
  SwarmClaimClosed: ([round, block, end]) => ({ message: `Round ${round}'s claim window closed at block ${end} (now ${block}).`, hints: ['Claim within the round\'s claim window (schedule(round)).'] }),
  SwarmScoreInvalid: ([bits]) => ({ message: `Score bits 0x${Number(bits).toString(16)} are not a float32 whole number from 0 to 2^24.`, hints: ["Claim the evaluation's count of right answers as float32 bits."] }),
  SwarmPolicyMismatch: ([round, node, got, committed]) => ({ message: `The policy leaves hash to ${got}; ${node} committed ${committed} in round ${round}.`, hints: ['Send the state-tree leaves of the policy you committed, in order.'] }),
  SwarmProofInvalid: () => ({ message: "The claim's openings do not verify: h_K is not leaf K of the run root, or the score leaf is not in h_K.", hints: ['Send the run of the committed policy on this round\'s beacon and its score (scoreClaim builds the openings).'] }),
  SwarmUseProofInvalid: ([what]) => ({
    message: `A use proof's path does not verify: ${["the rollout leaf (naming the sender) in the sender's rolloutsRoot", "the rollout leaf in the user's usedRoot"][Number(what)] ?? what}.`,
    hints: ['Send the RFC 6962 audit path of your own rollout leaf in both committed trees.'],
  }),
  SwarmPolicyLayout: ([got, want]) => ({ message: `The claim sends ${got} policy leaves; policies of this model config have ${want}.`, hints: ["Send the committed policy's state-tree leaves, all of them, in order."] }),
  SwarmNoClaim: ([round, node]) => ({ message: `${node} has no score claim in round ${round}.`, hints: ['Only a claim can be challenged.'] }),
  SwarmClaimRefuted: ([round, node]) => ({ message: `${node}'s claim of round ${round} is already refuted.`, hints: ['Nothing to challenge: it earns nothing.'] }),
  SwarmChallengeClosed: ([round, block, end]) => ({ message: `Round ${round}'s challenge window closed at block ${end} (now ${block}).`, hints: ['The claim stands; collect pays it.'] }),
  SwarmSelfChallenge: ([node]) => ({ message: `${node} cannot challenge its own claim.`, hints: ['Challenge from another account.'] }),
  SwarmChallengeRootMatches: ([root]) => ({ message: `The challenger's run root ${root} is the claim's.`, hints: ['Challenge only a claim your own run disagrees with.'] }),
  SwarmUnauthorizedResolver: ([caller]) => ({ message: `${caller} is not the coordinator's dispute game.`, hints: ['Only the game set at deployment resolves disputes.'] }),
  SwarmUnauthorizedAvailability: ([caller]) => ({ message: `${caller} is not the coordinator's SwarmAvailability.`, hints: ['Request, publish and forfeit policies through the SwarmAvailability the coordinator created (its AVAILABILITY).'] }),
  SwarmDisputeUnknown: ([id]) => ({ message: `Dispute ${id} is not open at this coordinator.`, hints: ['Check the dispute id (ScoreChallenged events).'] }),
  SwarmDisputeIdReused: ([id]) => ({ message: `The game reused dispute id ${id}.`, hints: ['The game contract is faulty.'] }),
  SwarmWinnerInvalid: ([id, winner]) => ({ message: `${winner} is not a party to dispute ${id}.`, hints: ['The winner must be the node or the challenger.'] }),
  SwarmUserInvalid: ([round, user]) => ({ message: `${user} did not commit in round ${BigInt(round as bigint) + 1n} or is the prover itself.`, hints: ["A use is proven by another node's usedRoot of the next round."] }),
  SwarmUseClosed: ([round, block, end]) => ({ message: `Use proofs for round ${round}'s rollouts closed at block ${end} (now ${block}).`, hints: ['Prove uses before the next round\'s challenge window ends.'] }),
  SwarmUseAlreadyProven: ([round, leaf, user]) => ({ message: `The use of rollout leaf ${leaf} of round ${round} by ${user} is already counted.`, hints: ['Each (rollout, user) counts once.'] }),
  SwarmTooEarly: ([round, block, from]) => ({ message: `Round ${round} pays out from block ${from} (now ${block}).`, hints: [`Collect after block ${from}.`] }),
  SwarmDisputesOpen: ([round, open]) => ({ message: `${open} dispute(s) of round ${round} are in play.`, hints: ['Collect once they are ruled (each ends within twice the game\'s chess clock).'] }),
  SwarmAlreadyCollected: ([round, node]) => ({ message: `${node} already collected round ${round}.`, hints: ['Nothing more to collect for it.'] }),
  SwarmNotEligible: ([round, node]) => ({ message: `${node}'s claim of round ${round} did not stand (none, refuted, or the round is void): no use share.`, hints: ['A use share needs a standing score claim in the round of the rollouts.'] }),
  SwarmRequestClosed: ([round, block, end]) => ({ message: `Data-availability requests for round ${round} closed with its challenge window at block ${end} (now ${block}).`, hints: ["Request a claimer's policy within the round's challenge window."] }),
  SwarmAlreadyRequested: ([round, node]) => ({ message: `${node}'s policy of round ${round} was already requested.`, hints: ['One request per claim: watch its PolicyPublished events (getAvailability) instead.'] }),
  SwarmNoRequest: ([round, node]) => ({ message: `No data-availability request is open against ${node}'s claim of round ${round}.`, hints: ['Publish or forfeit only while a request is open (getAvailability): it may be answered or ended already.'] }),
  SwarmPublishClosed: ([round, node, block, deadline]) => ({ message: `${node}'s policy of round ${round} had to be published before block ${deadline} (now ${block}).`, hints: ['Too late: the request can now be forfeited, which refutes the claim.'] }),
  SwarmPublishOpen: ([round, node, block, deadline]) => ({ message: `${node} may still publish its policy of round ${round} until block ${deadline} (now ${block}).`, hints: [`Call forfeitUnavailable from block ${deadline} on.`] }),
  SwarmLeafAlreadyPublished: ([round, node, index]) => ({ message: `Leaf ${index} of ${node}'s policy of round ${round} is already published.`, hints: ['Publish each leaf once; getAvailability counts those published.'] }),
  SwarmPublishMismatch: ([round, node, index]) => ({ message: `The bytes published as leaf ${index} are not leaf ${index} of the policy ${node} committed in round ${round}.`, hints: ['Publish the committed policy\'s own tensors (state names, shapes and bytes), each with its path in the state tree.'] }),
  SwarmPartMalformed: ([index]) => ({ message: `Published leaf ${index} does not fit its form.`, hints: ['A header (index 0) is 16 bytes (u64 LE step, optimizer step); a tensor carries 4 bytes per element of its shape.'] }),
  SwarmNoPreviousCommit: ([round, node]) => ({
    message: `${node} lists used groups in round ${round} without a commit in round ${BigInt(round as bigint) - 1n}: its GRPO step has no committed start, so nobody could dispute it.`,
    hints: ['Commit with no used groups in a round after one you did not commit (train again from a committed policy).'],
  }),
  SwarmTooManyUsed: ([got, slots]) => ({ message: `The commit lists ${got} used groups; the model config's GRPO step has ${slots} slots.`, hints: ['List at most own + external groups: those the step trained on.'] }),
  SwarmNoStep: ([round, node]) => ({ message: `${node}'s commit of round ${round} lists no used group: there is no GRPO step to dispute.`, hints: ['Challenge a commit whose Committed log has used leaves.'] }),
  SwarmStepRefuted: ([round, node]) => ({ message: `${node}'s GRPO step of round ${round} is already refuted: its used root is void.`, hints: ['Nothing to challenge, and no use of it is paid.'] }),
  SwarmStepChallengeClosed: ([round, block, closes]) => ({ message: `Step challenges of round ${round} closed at block ${closes} (now ${block}).`, hints: ["Challenge a step before the round's challenge window ends (its rollouts' useEnd)."] }),
  SwarmUsedMismatch: ([got, committed]) => ({ message: `The used groups give the used root ${got}; the node committed ${committed}.`, hints: ["Send the groups of the node's Committed log, (author, group hash) in its order."] }),
  SwarmStepTooManyGroups: ([groups, slots]) => ({ message: `${groups} groups for a GRPO step of ${slots} slots.`, hints: ['A step trains on at most own + external groups.'] }),
  SwarmEvalNoPolicyLeaves: () => ({ message: 'No policy leaves were given.', hints: ["Send the policy's state-tree leaves, its header first."] }),
  SwarmRequestsOpen: ([round, open]) => ({ message: `${open} data-availability request(s) of round ${round} are unsettled.`, hints: ['Collect once each is published or forfeited (forfeitUnavailable, by anyone, after its deadline).'] }),
  // DisputeGame: each names what to send instead (docs/verification.md).
  DisputeOver: ([id]) => ({ message: `Dispute ${id} is over: it has a ruling.`, hints: ['Read getDispute(id).loser; nothing more can be sent.'] }),
  DisputeNotParty: ([id, caller]) => ({ message: `${caller} is neither the solver nor the challenger of dispute ${id}.`, hints: ["Send moves from the party's own key; anyone may only call timeout."] }),
  DisputeNotYourTurn: ([id, , turn, expected]) => ({
    message: `It is not your move in dispute ${id}: the game waits for the ${GAME_TURN_NAMES[Number(turn)] ?? turn} to send ${GAME_MOVE_NAMES[Number(expected)] ?? expected}.`,
    hints: ["Wait for the other party's move, or call timeout once its deadline (getDispute(id).deadline) has passed."],
  }),
  DisputeWrongMove: ([id, got, expected]) => ({
    message: `Dispute ${id} does not take ${GAME_MOVE_NAMES[Number(got)] ?? got} now.`,
    hints: [`Send ${GAME_MOVE_NAMES[Number(expected)] ?? expected} (expectedMove(id) says which).`],
  }),
  DisputeDeadlinePassed: ([id, block, deadline]) => ({
    message: `The mover's chess clock in dispute ${id} ran out at block ${deadline} (now ${block}).`,
    hints: ['The party to move has lost: anyone may call timeout(id).'],
  }),
  DisputeDeadlineNotPassed: ([id, block, deadline]) => ({
    message: `Dispute ${id}'s party to move still has time until block ${deadline} (now ${block}).`,
    hints: [`Call timeout after block ${deadline}.`],
  }),
  ProofInvalid: ([id, what, index]) => ({
    message: `A proof in the move on dispute ${id} does not verify: ${GAME_PROOF_NAMES[Number(what)] ?? what} at index ${index}.`,
    hints: ['Send the Merkle path of your own committed tree (encodeDisputeMove builds it from the TS move), or the job fact with its path in the facts tree.'],
  }),
  DisputeRulesInvalid: ([field, value]) => ({
    message: `The dispute's rules are invalid: ${field} is ${value}.`,
    hints: ['A client opens a dispute with steps in 1 .. 2^32 - 1 (the run trees have steps + 1 leaves).'],
  }),
  DisputePartiesInvalid: ([solver, challenger]) => ({
    message: `A dispute needs two different parties; got solver ${solver} and challenger ${challenger}.`,
    hints: ['The challenger must not be the solver, and neither the zero address.'],
  }),
  RulesAlreadySet: ([jobId]) => ({ message: `Job ${jobId}'s dispute rules are already set.`, hints: ['Rules are set once; read them with rulesOf(jobId).'] }),
  RulesNotSubmitter: ([jobId, , submitter]) => ({ message: `Only job ${jobId}'s submitter sets its rules.`, hints: [`Send setRules from ${submitter}.`] }),
  RulesTooLate: ([jobId, p]) => ({ message: `Job ${jobId} is ${phase(p)}: its rules can only be set while it is Open.`, hints: ['Post a new job and set its rules before anyone claims it.'] }),
  StepRootsEqual: ([id]) => ({ message: `Your step root equals the solver's in dispute ${id}.`, hints: ["Send your own step tree of step t, whose last leaf is your h_t."] }),
  ChunkLengthWrong: ([id, got, want]) => ({ message: `The opened chunk in dispute ${id} has ${got} bytes.`, hints: [`Send the whole chunk: ${want} bytes.`] }),
  NotFirstDifference: ([id, first]) => ({
    message: `Index ${first} in dispute ${id} is not where your list first differs from the solver's.`,
    hints: ["Send the first index where they differ, with the solver's hash there and the chain of its hashes after it."],
  }),
  ClaimCountWrong: ([id, got, want]) => ({ message: `The claim in dispute ${id} has ${got} hashes.`, hints: [`Send ${want} machine-state hashes.`] }),
  ElementNotFinal: ([id]) => ({
    message: `The final machine state sent in dispute ${id} is not halted with your element word in the halt's result register.`,
    hints: ["Send the element program's final state after its halt instruction."],
  }),
};

/** DisputeGame's enums, for the messages above (dispute-moves.ts has the TS move names in the same order). */
const GAME_TURN_NAMES = ['solver', 'challenger', 'either party', 'nobody'];
const GAME_MOVE_NAMES = ['commitStep', 'reveal', 'commitOp', 'openChunk', 'commitElement', 'claim', 'proveState', 'prove', 'timeout'];
const GAME_PROOF_NAMES = [
  "h_{t-1} in the solver's run tree", 'h_t (your run-tree leaf t)', "the step tree's last leaf", 'the step fact', 'the op fact', 'the frontier',
  'the chunk root', 'the chunk', "the solver's chunk", "the solver's half", 'the halt instruction', 'the state fact', 'the state header', 'the state source',
  'the step context (h_{t-1}, both h_t and step roots, the batch commitment: abi-encoded, as stored at commit-step)',
];

/** A mycel contract reverted with a custom error, decoded. Nothing was sent (it was caught in simulation). */
export class ContractRevertError extends MycelError {
  override name = 'ContractRevertError';
  readonly errorName: string;
  readonly args: readonly unknown[];
  constructor({ errorName, args, functionName, cause }: { errorName: string; args: readonly unknown[]; functionName: string; cause?: unknown }) {
    const explain = EXPLAIN[errorName]?.(args);
    super(explain?.message ?? `${functionName} reverted with ${errorName}(${args.map(String).join(', ')}).`, {
      metaMessages: explain?.hints ?? [],
      details: `${functionName} reverted: ${errorName}(${args.map(String).join(', ')})`,
      cause,
    });
    this.errorName = errorName;
    this.args = args;
  }
}

/** The spender's token allowance is short (ERC20InsufficientAllowance). */
export class InsufficientAllowanceError extends ContractRevertError {
  override name = 'InsufficientAllowanceError';
}

/** The account's token balance is short (ERC20InsufficientBalance). */
export class InsufficientTokenBalanceError extends ContractRevertError {
  override name = 'InsufficientTokenBalanceError';
}

/** A call reverted without a decodable reason. */
export class ContractCallError extends MycelError {
  override name = 'ContractCallError';
  constructor({ functionName, reason, cause }: { functionName: string; reason: string; cause?: unknown }) {
    super(`${functionName} failed: ${reason}.`, {
      metaMessages: ['Check the contract address and that it was deployed by deployMycel on this chain.'],
      cause,
    });
  }
}

/** A transaction was mined but reverted (the state changed between simulation and inclusion). */
export class TransactionRevertedError extends MycelError {
  override name = 'TransactionRevertedError';
  constructor({ hash, functionName, outOfGas }: { hash: Hash; functionName: string; outOfGas?: { limit: bigint } }) {
    super(
      outOfGas
        ? `The ${functionName} transaction ${hash} was mined but ran out of gas (it used all of its limit, ${outOfGas.limit}).`
        : `The ${functionName} transaction ${hash} was mined but reverted.`,
      {
        metaMessages: [
          outOfGas
            ? 'The gas estimate was too low for the state it met (the chain changed after the estimate); retry. Only its gas was spent.'
            : 'The chain changed after the simulation; read the state again and retry. Only its gas was spent.',
        ],
      },
    );
  }
}

/** The node's chain id is not the one the client was configured for. */
export class WrongChainError extends MycelError {
  override name = 'WrongChainError';
  constructor({ expected, actual, rpcUrl }: { expected: number; actual: number; rpcUrl: string }) {
    super(`The node at ${rpcUrl} is on chain ${actual}, not chain ${expected}.`, {
      metaMessages: [`Use chain id ${actual} (connect() reads it from the node), or point the RPC URL at a chain-${expected} node.`],
    });
  }
}

/** The sending account has no ETH for gas. */
export class AccountUnfundedError extends MycelError {
  override name = 'AccountUnfundedError';
  constructor({ address, cause }: { address: Address; cause?: unknown }) {
    super(`The account ${address} cannot pay for gas: its ETH balance is too low.`, {
      metaMessages: [`Send ETH to ${address} (on anvil: testClient.setBalance), then retry; nothing was sent.`],
      cause,
    });
  }
}

/** A job spec does not hash to the spec hash it is paired with. */
export class JobSpecMismatchError extends MycelError {
  override name = 'JobSpecMismatchError';
  constructor({ expected, actual, jobId }: { expected: Hex; actual: Hex; jobId?: bigint }) {
    super(`The job spec hashes to ${actual}, not to ${expected}${jobId === undefined ? '' : ` (job ${jobId})`}.`, {
      metaMessages: ['Fetch the spec again from the submitter (it is corrupt or for another job), or pass the matching spec hash.'],
    });
  }
}

/**
 * A job's dispute rules on chain (h_0 and the facts tree the submitter set) are not the ones its spec gives: a dispute
 * over it would be refereed by wrong facts, so an honest party could lose it.
 */
export class JobRulesMismatchError extends MycelError {
  override name = 'JobRulesMismatchError';
  constructor({ jobId, expected, actual }: { jobId: bigint; expected: { h0: Hex; root: Hex; size: bigint }; actual: { set: boolean; h0: Hex; factsRoot: Hex; factsSize: bigint } }) {
    super(
      actual.set
        ? `Job ${jobId}'s dispute rules on chain (h_0 ${actual.h0}, facts root ${actual.factsRoot}, ${actual.factsSize} facts) are not its spec's (h_0 ${expected.h0}, facts root ${expected.root}, ${expected.size} facts).`
        : `Job ${jobId} has no dispute rules on chain.`,
      { metaMessages: ['Do not stake on this job: a dispute over it could not be refereed by its spec. Report the submitter.'] },
    );
  }
}

/** Decodes revert data against every mycel error; undefined when it is not one of them. */
export function decodeMycelError(data: Hex): { errorName: string; args: readonly unknown[] } | undefined {
  try {
    const { errorName, args } = decodeErrorResult({ abi: MYCEL_ERRORS_ABI as Abi, data });
    return { errorName, args: args ?? [] };
  } catch {
    return undefined;
  }
}

/** Turns anything viem threw into a MycelError naming the cause and the fix. */
export function toMycelError(error: unknown, ctx: { functionName: string; rpcUrl?: string; account?: Address }): MycelError {
  if (error instanceof MycelError) return error;
  if (!(error instanceof BaseError)) return new ContractCallError({ functionName: ctx.functionName, reason: String((error as Error)?.message ?? error), cause: error });
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
  if (reverted) {
    let decoded = reverted.data ? { errorName: reverted.data.errorName, args: reverted.data.args ?? [] } : undefined;
    if (!decoded && reverted.raw) decoded = decodeMycelError(reverted.raw);
    if (decoded && decoded.errorName !== 'Error' && decoded.errorName !== 'Panic') {
      const Class =
        decoded.errorName === 'ERC20InsufficientAllowance'
          ? InsufficientAllowanceError
          : decoded.errorName === 'ERC20InsufficientBalance'
            ? InsufficientTokenBalanceError
            : ContractRevertError;
      return new Class({ ...decoded, functionName: ctx.functionName, cause: error });
    }
    return new ContractCallError({ functionName: ctx.functionName, reason: reverted.reason ?? reverted.shortMessage, cause: error });
  }
  if (error.walk((e) => e instanceof InsufficientFundsError) && ctx.account) return new AccountUnfundedError({ address: ctx.account, cause: error });
  if (/insufficient funds|gas required exceeds allowance/i.test(error.message) && ctx.account) {
    return new AccountUnfundedError({ address: ctx.account, cause: error });
  }
  if (error.walk((e) => e instanceof HttpRequestError)) return new ChainUnreachableError({ rpcUrl: ctx.rpcUrl ?? 'the RPC URL', cause: error });
  return new ContractCallError({ functionName: ctx.functionName, reason: error.shortMessage, cause: error });
}
