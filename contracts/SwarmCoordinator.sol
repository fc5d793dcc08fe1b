// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDisputeClient, IDisputeResolver} from "./interfaces/IDisputeResolver.sol";
import {NodeRegistry} from "./NodeRegistry.sol";
import {Commitments} from "./Commitments.sol";
import {SwarmPrograms} from "./SwarmPrograms.sol";
import {SwarmAvailability} from "./SwarmAvailability.sol";
import {SwarmRollout} from "./SwarmRollout.sol";

/**
 * @title SwarmCoordinator: RL swarm rounds on chain, paid by verified score and verified use
 * @notice A round clock on block numbers that nobody runs (docs/swarm-chain.md). Round r:
 *
 * 1. Commit window, blocks [START + r·COMMIT_BLOCKS, deadline(r)), deadline(r) = START + (r+1)·COMMIT_BLOCKS: each
 *    registered, active node {commit}s once, with {COMMIT_BOND}: its rollout groups' Merkle root (leaves
 *    {SwarmRollout.leaf}(node, question index, group hash, useful)), its policy hash (the root of its policy's state-tree leaves), the rollout
 *    leaves of round r-1 its GRPO step trained on (their root, `usedRoot`, computed here; the leaves logged) and its
 *    model config, which names the
 *    evaluation program (rules fixed here at deployment).
 * 2. The beacon: blockhash(deadline(r)), the first block after the commit window, fixed by anyone ({fixBeacon})
 *    once that block is mined and within 256 blocks of it (the EVM forgets older hashes). Nobody fixed it in time:
 *    the round is void ({fixBeacon} then records that), nobody is paid for it and every bond comes back.
 * 3. Claim window, until claimEnd(r) = deadline(r) + CLAIM_BLOCKS: a node that committed {claimScore}s, with
 *    {CLAIM_BOND}, its evaluation score: the run root of its evaluation program (the committed policy on the round's
 *    held-out tasks drawn from the beacon). The contract computes h_0 of that program itself ({SwarmPrograms.evalH0}:
 *    the policy's leaves, checked against the committed policy hash, and the beacon's eval data) and checks that the
 *    score leaf opens in h_K, leaf K of the run root.
 * 4. Challenge window, until challengeEnd(r) = claimEnd(r) + CHALLENGE_BLOCKS: anyone but the node
 *    {challengeScore}s a claim with {CLAIM_BOND} and its own run root: a dispute in {GAME} over the evaluation
 *    program (rules: the claim's h_0 and the program's facts). Each challenger plays its own game; the claim is
 *    refuted at its node's first loss. The ruling ({resolveDispute}): a loser's bond is half burned
 *    ({LOSER_BURN_BPS}), half to the winner (for a winning node, held and paid with its bonds at {collect}, or to
 *    whoever later refutes it); "both lost": both bonds are burned. A refuted claim earns nothing.
 * 5. After challengeEnd(r) and once no dispute of round r is in play, each node {collect}s its bonds back and its
 *    share of the round's score reward: (1 - USE_SHARE_BPS) of {REWARD_PER_ROUND}, split by verified score
 *    (claims not refuted). Use: a contributor {proveUse}s that a rollout leaf naming it is in its own rolloutsRoot
 *    of round r and in another node's usedRoot of round r+1, until useEnd(r) = challengeEnd(r+1); then it
 *    {collectUse}s USE_SHARE_BPS of round r's reward, split by proven uses, if its own claim of round r stood.
 *
 * A rollout group is the output of its rollout program (its author's policy of round r-1 on the question its index
 * draws from the swarm's beacon): anyone may {challengeRollout} it until challengeEnd(r); a refuted group is never
 * paid for use and takes its author's commit bond.
 *
 * Data availability (a claimer made to publish its committed policy on chain, docs/swarm-chain.md) is served by
 * {AVAILABILITY}, a SwarmAvailability this constructor creates; the bonds it takes stay here.
 *
 * No reward without a commitment that could have been challenged: the score share needs a claim that stood its
 * challenge window; the use share needs the contributor's own standing claim of that round.
 *
 * Tokens: the pool (REWARD_PER_ROUND x ROUNDS, pulled from the deployer in the constructor) and every bond
 * are held here; out go rewards, returned bonds, prizes and burns. Shares nobody earned (no verified score, no
 * proven use, rounding) stay in the contract, unpaid. Conservation (a property test): pool + bonds in = rewards +
 * bonds out + prizes + burns + what is held.
 *
 * No owner, no admin function: the rules are immutable from deployment.
 */
contract SwarmCoordinator is IDisputeClient {
    using SafeERC20 for IERC20;

    /**
     * @notice The programs the swarm admits for one model config: its evaluation program's facts tree and steps
     * (src/swarm/eval-program.ts evalFacts; steps must be SwarmPrograms.evalSteps()), the leaf count of its policies'
     * state trees, which the facts assume, and its GRPO step (`grpo`: the step program's facts and its slots' layout,
     * src/swarm/grpo-step-facts.ts grpoStepFacts for the swarm's config).
     */
    struct EvalProgram {
        bytes32 modelConfig;
        bytes32 factsRoot;
        uint64 factsSize;
        uint64 steps;
        uint32 policyLeafCount;
        GrpoStep grpo;
        RolloutStep rollout;
    }

    /**
     * @notice A model config's rollout program (one step: a group's generation, src/swarm/rollout-program.ts): its
     * facts tree, its tokens generated per completion (K) and the digits of the swarm's addition task. L and W are
     * its GRPO step's completions and width.
     */
    struct RolloutStep {
        bytes32 factsRoot;
        uint64 factsSize;
        uint32 maxTokens;
        uint32 digits;
    }

    /// @notice A model config's GRPO step program (one step): its facts tree, and the layout of the groups in its state.
    struct GrpoStep {
        bytes32 factsRoot;
        uint64 factsSize;
        SwarmPrograms.GrpoLayout layout;
    }

    /// @notice Round lengths in blocks, and when round 0 starts.
    struct Timing {
        uint64 start;
        uint32 commitBlocks;
        uint32 claimBlocks;
        uint32 challengeBlocks;
    }

    /// @notice What the deployment fixes: bonds, the reward per round and the rounds paid, the use share.
    struct Economics {
        uint128 commitBond;
        uint128 claimBond;
        uint128 rewardPerRound;
        uint32 rounds;
        uint16 useShareBps;
    }

    /// @notice A node's commitment of one round, its score claim and what it earned.
    struct Entry {
        bytes32 rolloutsRoot;
        bytes32 policyHash;
        bytes32 usedRoot;
        bytes32 modelConfig;
        bytes32 runRoot; // the claim's run root (0: no claim)
        bytes32 h0; // the claim's h_0, computed here
        uint32 score; // the claimed score (an integer: a count of right answers)
        uint32 openDisputes;
        uint32 uses; // proven uses of this node's rollouts of this round (against standing steps)
        uint32 usedBy; // uses proven against this node's step (of the previous round's rollouts)
        bool committed;
        bool claimed;
        bool refuted;
        bool collected;
        bool useCollected;
        bool stepRefuted; // the GRPO step behind usedRoot lost a step dispute: its used root is void
        bool commitBondLost; // a refuted step or rollout group of this commit took its commit bond
        uint128 held; // losing challengers' unburned halves, paid with the node's bonds or to whoever refutes it
        uint128 stepHeld; // the same for step and rollout disputes, paid with the commit bond
    }

    /// @notice A round's beacon and totals.
    struct Round {
        bytes32 beacon;
        bool void;
        uint32 commits;
        uint32 openDisputes; // score, step and rollout disputes of the round's entries
        uint32 openStepDisputes;
        uint32 openRolloutDisputes;
        uint64 totalScore; // of the claims not refuted
        uint64 totalUses; // of the claims not refuted, against steps not refuted
    }

    /// @notice A dispute this coordinator opened in {GAME}.
    struct DisputeRecord {
        uint64 round;
        address node;
        address challenger;
        bool open;
        Kind kind;
        bytes32 leaf; // a rollout dispute's group leaf
    }

    /// @notice What a dispute is over: the node's score claim, its GRPO step (its commit's used root), or one of its rollout groups.
    enum Kind { Score, Step, Rollout }

    /// @notice A rollout group of a round: the uses proven of it not yet taken back, and whether a dispute refuted it.
    struct GroupRecord {
        uint32 uses;
        bool refuted;
    }

    /// @notice A GRPO step's two policies as state-tree leaves: `prev` its start (the node's policy of the round before), `next` its result (the round's).
    struct StepPolicies {
        bytes32[] prev;
        bytes32[] next;
    }

    /**
     * @notice A leaf's RFC 6962 audit path in a tree of `size` leaves. A use proof's sizes are the prover's word, which
     * is enough: leaves and nodes hash with different prefixes, so a path that reaches the root puts the leaf in the
     * tree whatever the size claimed (only its position could be misstated, and no rule reads it).
     */
    struct MerklePath {
        uint64 index;
        uint64 size;
        bytes32[] path;
    }

    /// @notice Which Merkle path of a use proof did not verify.
    enum Proof { OwnRollouts, UsedRollouts }

    /// @notice Share of a dispute loser's bond that is burned, in basis points (the rest goes to the winner).
    uint256 public constant LOSER_BURN_BPS = 5_000;
    ERC20Burnable public immutable TOKEN;
    NodeRegistry public immutable REGISTRY;
    IDisputeResolver public immutable GAME;
    /// @notice The programs' state hashing (h_0 of an evaluation, a score's opening): a stateless contract of its own, for room (SwarmPrograms.sol).
    SwarmPrograms public immutable PROGRAMS;
    /// @notice The data-availability requests against this coordinator's claims: a contract of its own, for room, created by this constructor (SwarmAvailability.sol).
    SwarmAvailability public immutable AVAILABILITY;
    uint64 public immutable START;
    uint32 public immutable COMMIT_BLOCKS;
    uint32 public immutable CLAIM_BLOCKS;
    uint32 public immutable CHALLENGE_BLOCKS;
    uint128 public immutable COMMIT_BOND;
    /// @notice The bond of a score claim and of each challenge of one.
    uint128 public immutable CLAIM_BOND;
    uint128 public immutable REWARD_PER_ROUND;
    /// @notice Rounds 0 .. ROUNDS-1 are paid REWARD_PER_ROUND each; the pool is their sum.
    uint32 public immutable ROUNDS;
    uint16 public immutable USE_SHARE_BPS;
    /// @notice The swarm's id (its first SWARM_ID_LENGTH bytes, at most 32), whose rounds' rollout beacons are roundBeacon(id, round) (SwarmRollout.roundBeacon).
    bytes32 public immutable SWARM_ID;
    uint256 public immutable SWARM_ID_LENGTH;

    mapping(bytes32 modelConfig => EvalProgram) private _programs;
    bytes32[] private _modelConfigs;
    mapping(bytes32 modelConfig => bytes) private _programsEncoded;
    mapping(uint256 round => Round) private _rounds;
    mapping(uint256 round => mapping(address node => Entry)) private _entries;
    mapping(uint256 disputeId => DisputeRecord) private _disputes;
    /// @notice The contributor of each use proven, by keccak256(round, leaf, user).
    mapping(bytes32 useKey => address contributor) private _usesProven;
    /// @notice The leaves of the uses proven against a user's step (one per use, Entry.usedBy of them; at most its slots), what a refuted step takes back.
    mapping(uint256 round => mapping(address user => mapping(uint256 i => bytes32 leaf))) private _usesAgainst;
    mapping(uint256 round => mapping(bytes32 leaf => GroupRecord)) private _groups;
    /// @notice `node` committed round `round`; `usedLeaves` are the leaves of its `usedRoot` (what contributors prove use with).
    event Committed(uint256 indexed round, address indexed node, bytes32 rolloutsRoot, bytes32 policyHash, bytes32 usedRoot, bytes32 modelConfig, bytes32[] usedLeaves);
    event BeaconFixed(uint256 indexed round, bytes32 beacon, uint256 beaconBlock);
    /// @notice Nobody fixed round `round`'s beacon within 256 blocks: the round is void, its bonds come back.
    event RoundVoided(uint256 indexed round);
    event ScoreClaimed(uint256 indexed round, address indexed node, bytes32 runRoot, uint32 score, bytes32 h0);
    event ScoreChallenged(uint256 indexed round, address indexed node, address indexed challenger, bytes32 challengerRoot, uint256 disputeId);
    /// @notice Dispute `disputeId` over `node`'s claim of `round` ended: `winner` (address(0): both lost); `burned` was burned.
    event ScoreDisputeResolved(uint256 indexed round, address indexed node, uint256 indexed disputeId, address winner, uint256 prize, uint256 burned);
    event UseProven(uint256 indexed round, address indexed contributor, address indexed user, bytes32 leaf);
    event StepChallenged(uint256 indexed round, address indexed node, address indexed challenger, bytes32 challengerRoot, uint256 disputeId, bytes32 runRoot, bytes32 h0);
    /// @notice Step or rollout dispute `disputeId` over `node`'s commit of round `round` (`leaf`: the rollout group; 0 for a step) ended: `winner` (address(0): both lost).
    event CommitDisputeResolved(uint256 indexed round, address indexed node, uint256 indexed disputeId, Kind kind, bytes32 leaf, address winner, uint256 prize, uint256 burned);
    /// @notice `challenger` contests `author`'s rollout group `leaf` of round `round` with its run root `challengerRoot`: dispute `disputeId` over the group's rollout program.
    event RolloutChallenged(uint256 indexed round, address indexed author, address indexed challenger, bytes32 leaf, bytes32 challengerRoot, uint256 disputeId);
    /// @notice `node` collected round `round`: `bonds` (its own bonds and held prizes) and `reward` (its score share).
    event Collected(uint256 indexed round, address indexed node, uint256 bonds, uint256 reward);
    event UseCollected(uint256 indexed round, address indexed node, uint256 reward);
    /// @notice The deployment's parameters are out of range: `field` names the one.
    error SwarmConfigInvalid(string field);
    /// @notice `node` is not a registered, active node of the registry.
    error SwarmNotRegistered(address node);
    /// @notice Round `round`'s commit window is [opens, closes); it is block `blockNumber`.
    error SwarmCommitClosed(uint256 round, uint256 blockNumber, uint256 opens, uint256 closes);
    /// @notice `node` already committed in round `round`.
    error SwarmAlreadyCommitted(uint256 round, address node);
    /// @notice No evaluation program is admitted for model config `modelConfig`.
    error SwarmModelUnknown(bytes32 modelConfig);
    /// @notice A root must not be zero.
    error SwarmZeroHash();
    /// @notice Round `round`'s beacon block `beaconBlock` is not mined yet (it is block `blockNumber`).
    error SwarmBeaconTooEarly(uint256 round, uint256 blockNumber, uint256 beaconBlock);
    /// @notice Round `round`'s beacon is already fixed.
    error SwarmBeaconAlreadyFixed(uint256 round);
    /// @notice Round `round`'s beacon is not fixed yet: call fixBeacon(round) first.
    error SwarmBeaconUnfixed(uint256 round);
    /// @notice Round `round` is void (nobody fixed its beacon in time): only collect returns its bonds.
    error SwarmRoundVoid(uint256 round);
    /// @notice `node` has no commitment in round `round`.
    error SwarmNoCommitment(uint256 round, address node);
    /// @notice `node` already claimed a score in round `round`.
    error SwarmAlreadyClaimed(uint256 round, address node);
    /// @notice Round `round`'s claim window closed at block `claimEnd` (it is block `blockNumber`).
    error SwarmClaimClosed(uint256 round, uint256 blockNumber, uint256 claimEnd);
    /// @notice The policy leaves hash to `got`; the node committed `committed`.
    error SwarmPolicyMismatch(uint256 round, address node, bytes32 got, bytes32 committed);
    /// @notice The claim's openings do not verify: h_K is not leaf K of the run root, or the score leaf is not in h_K.
    error SwarmProofInvalid();
    /// @notice A Merkle path (`what`) of a use proof does not verify.
    error SwarmUseProofInvalid(Proof what);
    /// @notice The claim sends `got` policy leaves; the model config's policies have `want`.
    error SwarmPolicyLayout(uint256 got, uint256 want);
    /// @notice `node` has no score claim in round `round`.
    error SwarmNoClaim(uint256 round, address node);
    /// @notice `node`'s claim of round `round` is already refuted.
    error SwarmClaimRefuted(uint256 round, address node);
    /// @notice Round `round`'s challenge window closed at block `challengeEnd` (it is block `blockNumber`).
    error SwarmChallengeClosed(uint256 round, uint256 blockNumber, uint256 challengeEnd);
    /// @notice A node cannot challenge its own claim.
    error SwarmSelfChallenge(address node);
    /// @notice The challenger's run root equals the claim's.
    error SwarmChallengeRootMatches(bytes32 root);
    /// @notice Only the game resolves disputes; `caller` is not it.
    error SwarmUnauthorizedResolver(address caller);
    /// @notice Only this coordinator's SwarmAvailability moves request bonds and forfeits claims; `caller` is not it.
    error SwarmUnauthorizedAvailability(address caller);
    /// @notice Dispute `disputeId` is not one this coordinator has open.
    error SwarmDisputeUnknown(uint256 disputeId);
    /// @notice The game returned an id already in use (a game bug); nothing changed.
    error SwarmDisputeIdReused(uint256 disputeId);
    /// @notice `winner` is neither party of dispute `disputeId` (nor address(0)).
    error SwarmWinnerInvalid(uint256 disputeId, address winner);
    /// @notice A use is proven by another node's commitment of the next round: `user` is the contributor itself or did not commit.
    error SwarmUserInvalid(uint256 round, address user);
    /// @notice Use proofs for round `round`'s rollouts closed at block `useEnd` (it is block `blockNumber`).
    error SwarmUseClosed(uint256 round, uint256 blockNumber, uint256 useEnd);
    /// @notice This rollout's use by `user` is already counted.
    error SwarmUseAlreadyProven(uint256 round, bytes32 leaf, address user);
    /// @notice Round `round` pays out from block `from` (it is block `blockNumber`).
    error SwarmTooEarly(uint256 round, uint256 blockNumber, uint256 from);
    /// @notice `open` disputes of round `round` are in play; its payouts wait for their rulings.
    error SwarmDisputesOpen(uint256 round, uint256 open);
    /// @notice `node` already collected this round (or this round's use share).
    error SwarmAlreadyCollected(uint256 round, address node);
    /// @notice `node`'s claim of round `round` did not stand (none, or refuted): no use share.
    error SwarmNotEligible(uint256 round, address node);
    /// @notice A commit with used groups needs the node's commit of round `round` - 1, where its step started: there is none.
    error SwarmNoPreviousCommit(uint256 round, address node);
    /// @notice The commit lists `got` used groups; the model config's GRPO step has `slots` slots.
    error SwarmTooManyUsed(uint256 got, uint256 slots);
    /// @notice `node`'s commit of round `round` lists no used group: there is no step to dispute.
    error SwarmNoStep(uint256 round, address node);
    /// @notice `node`'s GRPO step of round `round` is already refuted.
    error SwarmStepRefuted(uint256 round, address node);
    /// @notice Step challenges of round `round` closed at block `closes` (it is block `blockNumber`).
    error SwarmStepChallengeClosed(uint256 round, uint256 blockNumber, uint256 closes);
    /// @notice The used groups give the used root `got`; the node committed `committed`.
    error SwarmUsedMismatch(bytes32 got, bytes32 committed);
    /// @notice The rollout group `leaf` of round `round` was refuted by a rollout dispute: no use of it counts, no challenge of it opens.
    error SwarmGroupRefuted(uint256 round, bytes32 leaf);
    /// @notice `open` data-availability requests of round `round` are unsettled; its payouts wait for them.
    error SwarmRequestsOpen(uint256 round, uint256 open);

    /**
     * @param token The bond and reward token (burnable).
     * @param registry Nodes must be registered and active here to commit.
     * @param game The dispute game (an IDisputeResolver that calls {resolveDispute} back).
     * @param swarmPrograms This build's SwarmPrograms, which computes the programs' state hashes.
     * @param timing Round lengths in blocks; `start` 0 means this block.
     * @param economics Bonds, reward per round, paid rounds, use share (basis points).
     * @param programs The evaluation programs admitted, one per model config.
     * @param swarmId The swarm's id (1 to 32 bytes): its rounds' rollout beacons are roundBeacon(swarmId, round).
     * @dev Pulls the pool (rewardPerRound x rounds) from msg.sender: approve this contract's (predicted) address first.
     */
    constructor(
        ERC20Burnable token,
        NodeRegistry registry,
        IDisputeResolver game,
        SwarmPrograms swarmPrograms,
        Timing memory timing, Economics memory economics, EvalProgram[] memory programs, bytes memory swarmId) {
        if (timing.commitBlocks == 0) revert SwarmConfigInvalid("commitBlocks");
        if (timing.claimBlocks == 0) revert SwarmConfigInvalid("claimBlocks");
        if (timing.challengeBlocks == 0) revert SwarmConfigInvalid("challengeBlocks");
        if (economics.claimBond < 2) revert SwarmConfigInvalid("claimBond");
        if (economics.commitBond < 2) revert SwarmConfigInvalid("commitBond");
        if (economics.useShareBps > 10_000) revert SwarmConfigInvalid("useShareBps");
        if (programs.length == 0) revert SwarmConfigInvalid("programs");
        TOKEN = token;
        REGISTRY = registry;
        GAME = game;
        PROGRAMS = swarmPrograms;
        if (swarmId.length == 0 || swarmId.length > 32) revert SwarmConfigInvalid("swarmId");
        SWARM_ID = bytes32(swarmId);
        SWARM_ID_LENGTH = swarmId.length;
        AVAILABILITY = new SwarmAvailability(registry, swarmPrograms, timing.challengeBlocks, economics.claimBond);
        START = timing.start == 0 ? uint64(block.number) : timing.start;
        COMMIT_BLOCKS = timing.commitBlocks;
        CLAIM_BLOCKS = timing.claimBlocks;
        CHALLENGE_BLOCKS = timing.challengeBlocks;
        COMMIT_BOND = economics.commitBond;
        CLAIM_BOND = economics.claimBond;
        REWARD_PER_ROUND = economics.rewardPerRound;
        ROUNDS = economics.rounds;
        USE_SHARE_BPS = economics.useShareBps;
        uint256 evalSteps = swarmPrograms.evalSteps();
        for (uint256 i = 0; i < programs.length; ++i) {
            EvalProgram memory p = programs[i];
            if (p.modelConfig == bytes32(0) || _programs[p.modelConfig].steps != 0) revert SwarmConfigInvalid("programs.modelConfig");
            if (p.steps != evalSteps || p.factsSize == 0) revert SwarmConfigInvalid("programs.steps");
            if (p.policyLeafCount == 0) revert SwarmConfigInvalid("programs.policyLeafCount");
            SwarmPrograms.GrpoLayout memory l = p.grpo.layout;
            if (p.grpo.factsSize == 0 || l.slots == 0 || l.slots > 100 || l.completions == 0 || l.width == 0) revert SwarmConfigInvalid("programs.grpo");
            if (p.rollout.factsSize == 0) revert SwarmConfigInvalid("programs.rollout");
            SwarmRollout.checkLayout(SwarmRollout.Layout(l.completions, l.width, p.rollout.maxTokens, p.rollout.digits));
            _programs[p.modelConfig] = p;
            _programsEncoded[p.modelConfig] = abi.encode(p);
            _modelConfigs.push(p.modelConfig);
        }
        uint256 pool = uint256(economics.rewardPerRound) * economics.rounds;
        if (pool != 0) IERC20(address(token)).safeTransferFrom(msg.sender, address(this), pool);
    }

    // ---------------------------------------------------------------- the clock

    /// @notice The round whose commit window block `blockNumber` is in (0 before START).
    function roundAt(uint256 blockNumber) public view returns (uint256) {
        return blockNumber < START ? 0 : (blockNumber - START) / COMMIT_BLOCKS;
    }

    /// @notice The round whose commit window is open now.
    function currentRound() external view returns (uint256) {
        return roundAt(block.number);
    }

    /**
     * @notice Round `round`'s blocks: commits in [opens, deadline); the beacon is blockhash(deadline); claims before
     * claimEnd; challenges before challengeEnd; use proofs of its rollouts before useEnd.
     */
    function schedule(uint256 round) public view returns (uint256 opens, uint256 deadline, uint256 claimEnd, uint256 challengeEnd, uint256 useEnd) {
        opens = START + round * COMMIT_BLOCKS;
        deadline = opens + COMMIT_BLOCKS;
        claimEnd = deadline + CLAIM_BLOCKS;
        challengeEnd = claimEnd + CHALLENGE_BLOCKS;
        useEnd = challengeEnd + COMMIT_BLOCKS; // challengeEnd(round + 1)
    }

    // ---------------------------------------------------------------- commit

    /**
     * @notice A registered node's commitment of round `round`, with {COMMIT_BOND} (approve it first). `usedLeaves` are
     * the rollout leaves of round `round` - 1 its GRPO step trained on: the used root is computed here from them and
     * they are logged in {Committed}, so every contributor can find its own leaves and prove their use with a path
     * (docs/swarm-chain.md, "Use"): a used root cannot be committed without publishing its leaves. Each leaf is
     * {SwarmRollout.leaf}(author, index, groupHash, useful) of a group the step trained on, in batch order, at most the model config's GRPO
     * step slots; the step started from the node's committed policy of round `round` - 1, which must exist, so that
     * anyone can dispute the step ({challengeStep}).
     */
    function commit(uint256 round, bytes32 rolloutsRoot, bytes32 policyHash, bytes32[] calldata usedLeaves, bytes32 modelConfig) external {
        (uint256 opens, uint256 deadline,,,) = schedule(round);
        if (block.number < opens || block.number >= deadline) revert SwarmCommitClosed(round, block.number, opens, deadline);
        if (!REGISTRY.isActive(msg.sender)) revert SwarmNotRegistered(msg.sender);
        Entry storage e = _entries[round][msg.sender];
        if (e.committed) revert SwarmAlreadyCommitted(round, msg.sender);
        if (_programs[modelConfig].steps == 0) revert SwarmModelUnknown(modelConfig);
        if (rolloutsRoot == bytes32(0) || policyHash == bytes32(0)) revert SwarmZeroHash();
        if (usedLeaves.length != 0) {
            if (usedLeaves.length > _programs[modelConfig].grpo.layout.slots) revert SwarmTooManyUsed(usedLeaves.length, _programs[modelConfig].grpo.layout.slots);
            if (round == 0 || !_entries[round - 1][msg.sender].committed) revert SwarmNoPreviousCommit(round, msg.sender);
        }
        e.committed = true;
        e.rolloutsRoot = rolloutsRoot;
        e.policyHash = policyHash;
        bytes32 usedRoot = Commitments.rootOfLeaves(usedLeaves);
        e.usedRoot = usedRoot;
        e.modelConfig = modelConfig;
        _rounds[round].commits += 1;
        emit Committed(round, msg.sender, rolloutsRoot, policyHash, usedRoot, modelConfig, usedLeaves);
        if (COMMIT_BOND != 0) IERC20(address(TOKEN)).safeTransferFrom(msg.sender, address(this), COMMIT_BOND);
    }

    // ---------------------------------------------------------------- beacon

    /**
     * @notice Fixes round `round`'s beacon, blockhash(deadline(round)), by anyone once that block is mined; past 256
     * blocks the EVM has forgotten it and the round becomes void instead (nothing reverts: the void is recorded).
     */
    function fixBeacon(uint256 round) external {
        Round storage r = _rounds[round];
        if (r.void) revert SwarmRoundVoid(round);
        if (r.beacon != bytes32(0)) revert SwarmBeaconAlreadyFixed(round);
        (, uint256 deadline,,,) = schedule(round);
        if (block.number <= deadline) revert SwarmBeaconTooEarly(round, block.number, deadline);
        bytes32 beacon = blockhash(deadline);
        if (beacon == bytes32(0)) {
            r.void = true;
            emit RoundVoided(round);
            return;
        }
        r.beacon = beacon;
        emit BeaconFixed(round, beacon, deadline);
    }

    // ---------------------------------------------------------------- claim

    /**
     * @notice The node's evaluation score of round `round`, with {CLAIM_BOND}: `runRoot` is the root of its
     * evaluation run's state hashes h_0 .. h_K; `scoreBits` the score as float32 bits; `policyLeaves` the committed
     * policy's state-tree leaves (their root must be the committed policy hash); `proof` opens h_K as leaf K of
     * `runRoot` and the score leaf in h_K.
     */
    function claimScore(uint256 round, bytes32 runRoot, uint32 scoreBits, bytes32[] calldata policyLeaves, SwarmPrograms.ScoreProof calldata proof) external {
        Entry storage e = _entries[round][msg.sender];
        if (!e.committed) revert SwarmNoCommitment(round, msg.sender);
        if (e.claimed) revert SwarmAlreadyClaimed(round, msg.sender);
        Round storage r = _rounds[round];
        bytes32 beacon = _claimableBeacon(r, round);
        if (runRoot == bytes32(0)) revert SwarmZeroHash();
        (bytes32 h0, uint32 score) = _checkClaim(round, e, beacon, runRoot, scoreBits, policyLeaves, proof);
        e.claimed = true;
        e.runRoot = runRoot;
        e.h0 = h0;
        e.score = score;
        r.totalScore += score;
        emit ScoreClaimed(round, msg.sender, runRoot, score, h0);
        IERC20(address(TOKEN)).safeTransferFrom(msg.sender, address(this), CLAIM_BOND);
    }

    /// @dev h_0 and the score of a claim, after checking its policy against the commitment and its score's opening in the run.
    function _checkClaim(uint256 round, Entry storage e, bytes32 beacon, bytes32 runRoot, uint32 scoreBits, bytes32[] calldata policyLeaves, SwarmPrograms.ScoreProof calldata proof)
        private
        view
        returns (bytes32 h0, uint32 score)
    {
        // The facts describe the model config's state layout: a policy of another leaf count is not its program's.
        uint256 want = _programs[e.modelConfig].policyLeafCount;
        if (policyLeaves.length != want) revert SwarmPolicyLayout(policyLeaves.length, want);
        bytes32 policyHash;
        bool opens;
        (policyHash, h0, score, opens) = PROGRAMS.scoreClaim(beacon, policyLeaves, runRoot, scoreBits, proof);
        if (policyHash != e.policyHash) revert SwarmPolicyMismatch(round, msg.sender, policyHash, e.policyHash);
        if (!opens) revert SwarmProofInvalid();
    }

    /// @dev The round's beacon, if claims are open: not void, beacon fixed, before claimEnd.
    function _claimableBeacon(Round storage r, uint256 round) private view returns (bytes32 beacon) {
        if (r.void) revert SwarmRoundVoid(round);
        beacon = r.beacon;
        if (beacon == bytes32(0)) revert SwarmBeaconUnfixed(round);
        (,, uint256 claimEnd,,) = schedule(round);
        if (block.number >= claimEnd) revert SwarmClaimClosed(round, block.number, claimEnd);
    }

    // ---------------------------------------------------------------- challenge

    /**
     * @notice Contests `node`'s claim of round `round` with {CLAIM_BOND} and the challenger's own run root of the
     * same evaluation program: opens a dispute in {GAME} with the program's rules and the claim's h_0.
     */
    function challengeScore(uint256 round, address node, bytes32 challengerRoot) external returns (uint256 disputeId) {
        Entry storage e = _entries[round][node];
        if (!e.claimed) revert SwarmNoClaim(round, node);
        if (e.refuted) revert SwarmClaimRefuted(round, node);
        uint256 challengeEnd = challengeEndOf(round, node);
        if (block.number >= challengeEnd) revert SwarmChallengeClosed(round, block.number, challengeEnd);
        if (msg.sender == node) revert SwarmSelfChallenge(node);
        if (challengerRoot == bytes32(0)) revert SwarmZeroHash();
        if (challengerRoot == e.runRoot) revert SwarmChallengeRootMatches(challengerRoot);
        e.openDisputes += 1;
        _rounds[round].openDisputes += 1;
        EvalProgram storage p = _programs[e.modelConfig];
        // Interactions: the token (ours, no hooks) and the game are fixed at deployment.
        IERC20(address(TOKEN)).safeTransferFrom(msg.sender, address(this), CLAIM_BOND);
        disputeId = GAME.openDispute(round, IDisputeResolver.Rules(e.h0, p.factsRoot, p.factsSize, p.steps), node, msg.sender, e.runRoot, challengerRoot);
        if (_disputes[disputeId].node != address(0)) revert SwarmDisputeIdReused(disputeId);
        _disputes[disputeId] = DisputeRecord(uint64(round), node, msg.sender, true, Kind.Score, 0);
        emit ScoreChallenged(round, node, msg.sender, challengerRoot, disputeId);
    }

    /**
     * @notice Contests `node`'s GRPO step behind its commit of round `round` (docs/swarm-chain.md, "The GRPO step") with
     * {COMMIT_BOND} and the challenger's own run root of the step: `policies` the leaves of the node's committed
     * policy of round `round` - 1 (the step's start, `prev`) and of its policy of round `round` (`next`), `used` the
     * groups its used leaves name, in order. The node's run root is computed here ({SwarmPrograms.grpoStepRun}):
     * it never posts one. Until useEnd(round - 1) = challengeEnd(round); any number of challengers, each its own game.
     */
    function challengeStep(uint256 round, address node, bytes32 challengerRoot, StepPolicies calldata policies, SwarmRollout.Group[] calldata used)
        external
        returns (uint256 disputeId)
    {
        _checkStepChallenge(round, node, challengerRoot);
        (bytes32 h0, bytes32 runRoot) = _stepRun(round, node, policies, used);
        if (challengerRoot == runRoot) revert SwarmChallengeRootMatches(challengerRoot);
        disputeId = _openCommitDispute(round, node, Kind.Step, 0, challengerRoot, h0, runRoot);
    }

    /// @dev What a step challenge needs before its roots are computed: a step, not refuted, its window, another sender.
    function _checkStepChallenge(uint256 round, address node, bytes32 challengerRoot) private view {
        Entry storage e = _entries[round][node];
        if (e.usedRoot == bytes32(0)) revert SwarmNoStep(round, node);
        if (e.stepRefuted) revert SwarmStepRefuted(round, node);
        if (_rounds[round].void) revert SwarmRoundVoid(round);
        (,,,, uint256 closes) = schedule(round - 1);
        if (block.number >= closes) revert SwarmStepChallengeClosed(round, block.number, closes);
        if (msg.sender == node) revert SwarmSelfChallenge(node);
        if (challengerRoot == bytes32(0)) revert SwarmZeroHash();
    }

    /// @dev Round `round`'s rollout beacon, roundBeacon(swarm id, round).
    function _rolloutBeacon(uint256 round) private view returns (bytes32) {
        bytes memory id = new bytes(SWARM_ID_LENGTH);
        bytes32 word = SWARM_ID;
        // The id is 1 to 32 bytes: its allocation holds the whole word.
        assembly ("memory-safe") {
            mstore(add(id, 32), word)
        }
        return SwarmRollout.roundBeacon(id, round);
    }

    /**
     * @dev Takes the challenger's {COMMIT_BOND} and opens a one-step dispute in {GAME} over `node`'s commit of round
     * `round`: its GRPO step (`kind` Step) or its rollout group `leaf` (`kind` Rollout), with that program's facts.
     */
    function _openCommitDispute(uint256 round, address node, Kind kind, bytes32 leaf, bytes32 challengerRoot, bytes32 h0, bytes32 runRoot) private returns (uint256 disputeId) {
        Round storage r = _rounds[round];
        r.openDisputes += 1;
        if (kind == Kind.Step) r.openStepDisputes += 1;
        else r.openRolloutDisputes += 1;
        IERC20(address(TOKEN)).safeTransferFrom(msg.sender, address(this), COMMIT_BOND);
        EvalProgram storage p = _programs[_entries[round][node].modelConfig];
        (bytes32 factsRoot, uint64 factsSize) = kind == Kind.Step ? (p.grpo.factsRoot, p.grpo.factsSize) : (p.rollout.factsRoot, p.rollout.factsSize);
        disputeId = GAME.openDispute(round, IDisputeResolver.Rules(h0, factsRoot, factsSize, 1), node, msg.sender, runRoot, challengerRoot);
        if (_disputes[disputeId].node != address(0)) revert SwarmDisputeIdReused(disputeId);
        _disputes[disputeId] = DisputeRecord(uint64(round), node, msg.sender, true, kind, leaf);
        if (kind == Kind.Step) emit StepChallenged(round, node, msg.sender, challengerRoot, disputeId, runRoot, h0);
        else emit RolloutChallenged(round, node, msg.sender, leaf, challengerRoot, disputeId);
    }

    /// @dev h_0 and the node's run root of its step of round `round`, after checking the policies and groups against its commitments.
    function _stepRun(uint256 round, address node, StepPolicies calldata policies, SwarmRollout.Group[] calldata used)
        private
        view
        returns (bytes32 h0, bytes32 runRoot)
    {
        SwarmPrograms.GrpoLayout memory layout = _stepLayout(round, node, policies.prev.length, policies.next.length);
        SwarmPrograms.StepRun memory run = PROGRAMS.grpoStepRun(policies.prev, policies.next, used, layout);
        bytes32 committed = _entries[round - 1][node].policyHash;
        if (run.prevHash != committed) revert SwarmPolicyMismatch(round - 1, node, run.prevHash, committed);
        Entry storage e = _entries[round][node];
        if (run.nextHash != e.policyHash) revert SwarmPolicyMismatch(round, node, run.nextHash, e.policyHash);
        if (run.usedRoot != e.usedRoot) revert SwarmUsedMismatch(run.usedRoot, e.usedRoot);
        return (run.h0, run.runRoot);
    }

    /// @dev The step's slot layout, after checking that both policies have the model config's leaf count.
    function _stepLayout(uint256 round, address node, uint256 prevCount, uint256 nextCount) private view returns (SwarmPrograms.GrpoLayout memory) {
        EvalProgram storage p = _programs[_entries[round][node].modelConfig];
        uint256 want = p.policyLeafCount;
        if (prevCount != want) revert SwarmPolicyLayout(prevCount, want);
        if (nextCount != want) revert SwarmPolicyLayout(nextCount, want);
        return p.grpo.layout;
    }

    /**
     * @notice Contests `group` of `group.author`'s commit of round `round` (docs/swarm-chain.md, "The rollout program")
     * with {COMMIT_BOND} and the challenger's own run root of the group's rollout program: `proof` opens the group's
     * leaf in the author's rolloutsRoot, `policyLeaves` are the leaves of the policy the same commit names (the policy
     * a node starts round `round` with generates that round's groups). The author's run root is computed here
     * ({SwarmPrograms.rolloutRun}, from the round's rollout beacon): it never posts one. Until the round's
     * challengeEnd, while its commit bond is still held; any number of challengers, each its own game.
     */
    function challengeRollout(uint256 round, SwarmRollout.Group calldata group, MerklePath calldata proof, bytes32[] calldata policyLeaves, bytes32 challengerRoot)
        external
        returns (uint256 disputeId)
    {
        bytes32 leaf = _checkRolloutChallenge(round, group, proof, challengerRoot);
        SwarmPrograms.RolloutRun memory run = _rolloutRun(round, group, policyLeaves);
        if (challengerRoot == run.runRoot) revert SwarmChallengeRootMatches(challengerRoot);
        disputeId = _openCommitDispute(round, group.author, Kind.Rollout, leaf, challengerRoot, run.h0, run.runRoot);
    }

    /// @dev The group's rollout program from the author's committed policy of round `round`: h_0 and the author's run root.
    function _rolloutRun(uint256 round, SwarmRollout.Group calldata group, bytes32[] calldata policyLeaves) private view returns (SwarmPrograms.RolloutRun memory run) {
        address author = group.author;
        EvalProgram storage p = _programs[_entries[round][author].modelConfig];
        if (policyLeaves.length != p.policyLeafCount) revert SwarmPolicyLayout(policyLeaves.length, p.policyLeafCount);
        SwarmPrograms.GrpoLayout storage l = p.grpo.layout;
        SwarmRollout.Layout memory layout = SwarmRollout.Layout(l.completions, l.width, p.rollout.maxTokens, p.rollout.digits);
        run = PROGRAMS.rolloutRun(_rolloutBeacon(round), policyLeaves, group, layout);
        bytes32 committed = _entries[round][author].policyHash;
        if (run.policyHash != committed) revert SwarmPolicyMismatch(round, author, run.policyHash, committed);
    }

    /// @dev What a rollout challenge needs before its roots are computed: the group in the author's commit, not refuted, the window, another sender.
    function _checkRolloutChallenge(uint256 round, SwarmRollout.Group calldata group, MerklePath calldata proof, bytes32 challengerRoot) private view returns (bytes32 leaf) {
        address author = group.author;
        if (_rounds[round].void) revert SwarmRoundVoid(round);
        (,,, uint256 closes,) = schedule(round);
        if (block.number >= closes) revert SwarmChallengeClosed(round, block.number, closes);
        if (msg.sender == author) revert SwarmSelfChallenge(author);
        if (challengerRoot == bytes32(0)) revert SwarmZeroHash();
        leaf = SwarmRollout.leaf(author, group.index, group.groupHash, group.useful);
        if (_groups[round][leaf].refuted) revert SwarmGroupRefuted(round, leaf);
        if (!Commitments.opensInPlace(leaf, proof.index, proof.size, proof.path, _entries[round][author].rolloutsRoot)) revert SwarmUseProofInvalid(Proof.OwnRollouts);
    }

    /**
     * @dev The ruling of a step or rollout dispute. The node's first loss refutes its step (its used root is void: the
     * uses proven against it leave their contributors' counts and the round's total) or the group (its uses leave its
     * author's count and the round's total; no further use of it counts), and takes its commit bond unless an earlier
     * refutation of the same commit took it: half to the challenger with what the node held, half burned (both lost:
     * all burned). A win holds the challenger's unburned half for the node, paid with its commit bond. A ruling after
     * the step or group was refuted refunds its challenger.
     */
    function _resolveCommitDispute(uint256 disputeId, DisputeRecord storage d, address winner) private {
        uint256 round = d.round;
        address node = d.node;
        address challenger = d.challenger;
        Entry storage e = _entries[round][node];
        Round storage r = _rounds[round];
        bool step = d.kind == Kind.Step;
        r.openDisputes -= 1;
        if (step) r.openStepDisputes -= 1;
        else r.openRolloutDisputes -= 1;
        uint256 bond = COMMIT_BOND;
        uint256 burned = (bond * LOSER_BURN_BPS) / 10_000;
        uint256 prize = bond - burned;
        if (step ? e.stepRefuted : _groups[round][d.leaf].refuted) return _commitRuling(disputeId, d, winner, 0, 0, bond);
        if (winner == node) {
            e.stepHeld += uint128(prize);
            _commitRuling(disputeId, d, winner, prize, burned, 0);
            TOKEN.burn(burned);
            return;
        }
        if (step) _voidStep(round, node, e);
        else _voidGroup(round, node, d.leaf);
        if (e.commitBondLost) return _commitRuling(disputeId, d, winner, 0, 0, bond);
        e.commitBondLost = true;
        uint256 held = e.stepHeld;
        e.stepHeld = 0;
        if (winner == address(0)) {
            _commitRuling(disputeId, d, winner, 0, 2 * bond + held, 0);
            TOKEN.burn(2 * bond + held);
            return;
        }
        _commitRuling(disputeId, d, winner, prize + held, burned, bond + prize + held);
        TOKEN.burn(burned);
    }

    /// @dev Logs a step or rollout ruling and pays the challenger `paid`.
    function _commitRuling(uint256 disputeId, DisputeRecord storage d, address winner, uint256 prize, uint256 burned, uint256 paid) private {
        emit CommitDisputeResolved(d.round, d.node, disputeId, d.kind, d.leaf, winner, prize, burned);
        if (paid != 0) IERC20(address(TOKEN)).safeTransfer(d.challenger, paid);
    }

    /// @dev A refuted step: its used root is void, and the uses proven against it leave their groups', contributors' and round's counts.
    function _voidStep(uint256 round, address node, Entry storage e) private {
        e.stepRefuted = true;
        mapping(uint256 => bytes32) storage leaves = _usesAgainst[round][node];
        Round storage prev = _rounds[round - 1];
        for (uint256 i = 0; i < e.usedBy; ++i) {
            GroupRecord storage g = _groups[round - 1][leaves[i]];
            // A refuted group's uses were taken back with it.
            if (g.refuted) continue;
            g.uses -= 1;
            Entry storage c = _entries[round - 1][_usesProven[keccak256(abi.encode(round - 1, leaves[i], node))]];
            c.uses -= 1;
            if (!c.refuted) prev.totalUses -= 1;
        }
    }

    /// @dev A refuted rollout group: its uses leave its author's and the round's counts, and no further use of it counts.
    function _voidGroup(uint256 round, address author, bytes32 leaf) private {
        GroupRecord storage g = _groups[round][leaf];
        g.refuted = true;
        uint32 uses = g.uses;
        g.uses = 0;
        Entry storage a = _entries[round][author];
        a.uses -= uses;
        if (!a.refuted) _rounds[round].totalUses -= uses;
    }

    /// @inheritdoc IDisputeClient
    function resolveDispute(uint256 disputeId, address winner) external {
        if (msg.sender != address(GAME)) revert SwarmUnauthorizedResolver(msg.sender);
        DisputeRecord storage d = _disputes[disputeId];
        if (!d.open) revert SwarmDisputeUnknown(disputeId);
        address node = d.node;
        address challenger = d.challenger;
        if (winner != node && winner != challenger && winner != address(0)) revert SwarmWinnerInvalid(disputeId, winner);
        d.open = false;
        if (d.kind != Kind.Score) return _resolveCommitDispute(disputeId, d, winner);
        uint256 round = d.round;
        Entry storage e = _entries[round][node];
        Round storage r = _rounds[round];
        e.openDisputes -= 1;
        r.openDisputes -= 1;
        uint256 bond = CLAIM_BOND;
        if (e.refuted) {
            // Already refuted by another challenger: this one gets its whole bond back.
            emit ScoreDisputeResolved(round, node, disputeId, winner, 0, 0);
            IERC20(address(TOKEN)).safeTransfer(challenger, bond);
            return;
        }
        uint256 burned = (bond * LOSER_BURN_BPS) / 10_000;
        uint256 prize = bond - burned;
        if (winner == node) {
            e.held += uint128(prize);
            emit ScoreDisputeResolved(round, node, disputeId, winner, prize, burned);
            TOKEN.burn(burned);
            return;
        }
        // The node's first loss: the claim is refuted and leaves the round's totals (its proven uses too).
        e.refuted = true;
        r.totalScore -= e.score;
        r.totalUses -= e.uses;
        uint256 held = e.held;
        e.held = 0;
        if (winner == address(0)) {
            // Nobody computed the program: both bonds and what the node held are burned.
            emit ScoreDisputeResolved(round, node, disputeId, winner, 0, 2 * bond + held);
            TOKEN.burn(2 * bond + held);
            return;
        }
        emit ScoreDisputeResolved(round, node, disputeId, winner, prize + held, burned);
        IERC20(address(TOKEN)).safeTransfer(challenger, bond + prize + held);
        TOKEN.burn(burned);
    }

    // ---------------------------------------------------------------- data availability

    /// @notice Until which block `node`'s claim of round `round` can be challenged: the round's challengeEnd, or later once a requested policy was published.
    function challengeEndOf(uint256 round, address node) public view returns (uint256 challengeEnd) {
        (,,, challengeEnd,) = schedule(round);
        (uint256 late,) = AVAILABILITY.lateWindow(round, node);
        if (late > challengeEnd) challengeEnd = late;
    }

    /// @notice For {AVAILABILITY}: takes a data-availability request's bond (`amount`) from `requester` (who approved this contract).
    function holdRequestBond(address requester, uint256 amount) external {
        _onlyAvailability();
        IERC20(address(TOKEN)).safeTransferFrom(requester, address(this), amount);
    }

    /// @notice For {AVAILABILITY}: pays a request's bond (`amount`) to `to`, the node that published the policy asked for.
    function payRequestBond(address to, uint256 amount) external {
        _onlyAvailability();
        IERC20(address(TOKEN)).safeTransfer(to, amount);
    }

    /**
     * @notice For {AVAILABILITY}: `node` withheld its policy of round `round` past the request's deadline. Its claim is
     * refuted as by a lost score dispute (half its claim bond burned, the rest and what it held to `requester`; its
     * score and uses leave the round's totals), and `requester` gets its bond `refund` back; a claim refuted meanwhile
     * only refunds.
     */
    function forfeitClaim(uint256 round, address node, address requester, uint256 refund) external returns (uint256 prize, uint256 burned) {
        _onlyAvailability();
        Entry storage e = _entries[round][node];
        if (!e.refuted) {
            e.refuted = true;
            _rounds[round].totalScore -= e.score;
            _rounds[round].totalUses -= e.uses;
            burned = (uint256(CLAIM_BOND) * LOSER_BURN_BPS) / 10_000;
            prize = CLAIM_BOND - burned + e.held;
            e.held = 0;
            TOKEN.burn(burned);
        }
        IERC20(address(TOKEN)).safeTransfer(requester, refund + prize);
    }

    function _onlyAvailability() private view {
        if (msg.sender != address(AVAILABILITY)) revert SwarmUnauthorizedAvailability(msg.sender);
    }

    // ---------------------------------------------------------------- use

    /**
     * @notice msg.sender proves that its useful rollout group `groupHash`, question `index`, of round `round` (the leaf
     * {SwarmRollout.leaf}(msg.sender, index, groupHash, true), opened by `own` in its own rolloutsRoot) was used by
     * `user`'s training step (the same leaf opened by `used` in user's usedRoot of round `round` + 1). Counted once
     * per (leaf, user), only for a group not refuted ({challengeRollout}) of a prover whose claim of round `round`
     * stands: a refuted claim takes its uses out of the round's total, so a cheat's proofs do not shrink the honest
     * shares. A group whose rewards are all equal (useful = 0) teaches nothing and is never paid.
     */
    function proveUse(uint256 round, uint32 index, bytes32 groupHash, address user, MerklePath calldata own, MerklePath calldata used) external {
        Entry storage e = _entries[round][msg.sender];
        if (!e.committed) revert SwarmNoCommitment(round, msg.sender);
        if (!e.claimed || e.refuted) revert SwarmNotEligible(round, msg.sender);
        Entry storage u = _entries[round + 1][user];
        if (user == msg.sender || !u.committed) revert SwarmUserInvalid(round, user);
        if (u.stepRefuted) revert SwarmStepRefuted(round + 1, user);
        (,,,, uint256 useEnd) = schedule(round);
        if (block.number >= useEnd) revert SwarmUseClosed(round, block.number, useEnd);
        bytes32 leaf = SwarmRollout.leaf(msg.sender, index, groupHash, true);
        GroupRecord storage g = _groups[round][leaf];
        if (g.refuted) revert SwarmGroupRefuted(round, leaf);
        bytes32 key = keccak256(abi.encode(round, leaf, user));
        if (_usesProven[key] != address(0)) revert SwarmUseAlreadyProven(round, leaf, user);
        if (!Commitments.opensInPlace(leaf, own.index, own.size, own.path, e.rolloutsRoot)) revert SwarmUseProofInvalid(Proof.OwnRollouts);
        if (!Commitments.opensInPlace(leaf, used.index, used.size, used.path, u.usedRoot)) revert SwarmUseProofInvalid(Proof.UsedRollouts);
        _usesProven[key] = msg.sender;
        _usesAgainst[round + 1][user][u.usedBy++] = leaf;
        g.uses += 1;
        e.uses += 1;
        _rounds[round].totalUses += 1;
        emit UseProven(round, msg.sender, user, leaf);
    }

    // ---------------------------------------------------------------- payouts

    /// @notice Round `round`'s reward: REWARD_PER_ROUND for rounds below ROUNDS, else 0; and its use part.
    function rewardOf(uint256 round) internal view returns (uint256 total, uint256 usePart) {
        total = round < ROUNDS ? REWARD_PER_ROUND : 0;
        usePart = (total * USE_SHARE_BPS) / 10_000;
    }

    /**
     * @notice After round `round`'s challenge window and once none of its disputes is in play (or at once when the
     * round is void): msg.sender's bonds back (the claim bond and held prizes only if its claim stood) and its share
     * of the round's score reward.
     */
    function collect(uint256 round) external {
        Entry storage e = _entries[round][msg.sender];
        if (!e.committed) revert SwarmNoCommitment(round, msg.sender);
        if (e.collected) revert SwarmAlreadyCollected(round, msg.sender);
        Round storage r = _rounds[round];
        uint256 reward;
        // A refuted step or rollout group took the commit bond; a commit that won such disputes holds their prizes.
        uint256 bonds = e.commitBondLost ? 0 : COMMIT_BOND + e.stepHeld;
        e.stepHeld = 0;
        // Step disputes may be open in a round voided meanwhile: the commit bond waits for them too.
        if (r.void && r.openDisputes != 0) revert SwarmDisputesOpen(round, r.openDisputes);
        if (!r.void) {
            (,,, uint256 challengeEnd,) = schedule(round);
            SwarmAvailability.RoundAvailability memory ra = AVAILABILITY.getRoundAvailability(round);
            // A policy published late for a request opened a late challenge window: payouts wait for it too.
            if (ra.challengeEnd > challengeEnd) challengeEnd = ra.challengeEnd;
            if (block.number < challengeEnd) revert SwarmTooEarly(round, block.number, challengeEnd);
            if (r.openDisputes != 0) revert SwarmDisputesOpen(round, r.openDisputes);
            if (ra.openRequests != 0) revert SwarmRequestsOpen(round, ra.openRequests);
            if (e.claimed && !e.refuted) {
                bonds += CLAIM_BOND + e.held;
                e.held = 0;
                (uint256 total, uint256 usePart) = rewardOf(round);
                if (r.totalScore != 0) reward = ((total - usePart) * e.score) / r.totalScore;
            }
        }
        e.collected = true;
        emit Collected(round, msg.sender, bonds, reward);
        if (bonds + reward != 0) IERC20(address(TOKEN)).safeTransfer(msg.sender, bonds + reward);
    }

    /// @notice After useEnd(round): msg.sender's share of round `round`'s use reward, by proven uses, if its claim of that round stood.
    function collectUse(uint256 round) external {
        Entry storage e = _entries[round][msg.sender];
        if (e.useCollected) revert SwarmAlreadyCollected(round, msg.sender);
        Round storage r = _rounds[round];
        (,,,, uint256 useEnd) = schedule(round);
        (uint256 late, bool requested) = AVAILABILITY.lateWindow(round, msg.sender);
        if (late > useEnd) useEnd = late;
        if (block.number < useEnd) revert SwarmTooEarly(round, block.number, useEnd);
        if (e.openDisputes != 0) revert SwarmDisputesOpen(round, e.openDisputes);
        // Uses count only against standing steps: the users' step disputes (round + 1) must be ruled first.
        uint32 stepDisputes = _rounds[round + 1].openStepDisputes;
        if (stepDisputes != 0) revert SwarmDisputesOpen(round + 1, stepDisputes);
        // ... and against groups not refuted: the round's rollout disputes must be ruled too.
        uint32 rolloutDisputes = r.openRolloutDisputes;
        if (rolloutDisputes != 0) revert SwarmDisputesOpen(round, rolloutDisputes);
        if (requested) revert SwarmRequestsOpen(round, 1);
        if (!e.claimed || e.refuted || r.void) revert SwarmNotEligible(round, msg.sender);
        (, uint256 usePart) = rewardOf(round);
        uint256 reward = r.totalUses == 0 ? 0 : (usePart * e.uses) / r.totalUses;
        e.useCollected = true;
        emit UseCollected(round, msg.sender, reward);
        if (reward != 0) IERC20(address(TOKEN)).safeTransfer(msg.sender, reward);
    }

    // ---------------------------------------------------------------- read

    function getEntry(uint256 round, address node) external view returns (Entry memory) {
        return _entries[round][node];
    }

    function getRound(uint256 round) external view returns (Round memory) {
        return _rounds[round];
    }

    /// @notice The program admitted for `modelConfig`, ABI-encoded as one EvalProgram (empty: none); kept encoded, for room (src/chain swarmProgramOnChain decodes it).
    function programOf(bytes32 modelConfig) external view returns (bytes memory) {
        return _programsEncoded[modelConfig];
    }

    function modelConfigs() external view returns (bytes32[] memory) {
        return _modelConfigs;
    }
}
