// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDisputeClient, IDisputeResolver} from "./interfaces/IDisputeResolver.sol";
import {NodeRegistry} from "./NodeRegistry.sol";

/**
 * @title JobMarket: jobs, escrow, stake and the challenge window
 * @notice Lifecycle of a job:
 *
 * Every deadline is a block number, and every duration a number of blocks (as the dispute game's chess clocks).
 *
 * 1. {postJob} (or {postJobWithPermit}): the submitter escrows `reward` and names the spec hash, the number of
 *    steps, the stake that solver and challenger each post, the commit deadline (a block) and the challenge window
 *    (blocks, at least {MIN_CHALLENGE_WINDOW}): sized from the job, so that a verifier can re-execute it in time.
 *    Phase Open.
 *    {setRules}: the submitter sets the job's dispute rules (h_0 and the facts tree of its step program), once,
 *    while the job is Open; solver and challenger check them against the spec before they stake.
 * 2. {claimJob}: a registered, active node escrows `stake` and becomes the job's solver, once the job has dispute
 *    rules ({setRules}); the registry locks its bond until the job settles. Phase Claimed.
 * 3. {commitRoot}: the solver commits its run root before the deadline; the job's challenge window opens. Phase
 *    Committed.
 * 4. {challenge}, by anyone but the solver while the window is open, any number of times: each challenger escrows
 *    `stake`, names its own root, and gets its own dispute in {RESOLVER}, opened with the job's rules (Phase Disputed
 *    while any is in play). A
 *    losing challenger never shields the solver from the next: the window runs on, and each game is independent.
 *    The resolver calls {resolveDispute} once per dispute (half of a loser's stake is burned, {LOSER_BURN_BPS}):
 *    - solver won: the challenger's stake is slashed; the half not burned is held for the solver (paid with the
 *      reward at {finalize}, or to whoever later proves the solver wrong);
 *    - challenger won (the solver's first loss): the job is Refuted. The solver's stake is slashed: the challenger
 *      gets its own stake back, the other half of the solver's and everything held; the submitter is refunded the
 *      reward; the solver's bond is unlocked;
 *    - nobody won (`winner` address(0): the referee matched neither party): both stakes are slashed as above, and
 *      the halves not burned, everything held and the reward go to the submitter, whose job neither computed
 *      (Refuted);
 *    - any ruling once the job is Refuted: the challenger gets its whole stake back (the solver's is already gone;
 *      the job's result is settled).
 * 5. {finalize}, by anyone once the window has closed and no dispute is in play (the solver never lost): the solver
 *    gets reward + stake + what it held, and the root is the job's verified result. Phase Finalized.
 * 6. {expire}, by anyone after the deadline with no committed root: the submitter gets the reward back and, if
 *    a solver claimed the job and did not commit, that solver's stake (Phase Expired).
 *
 * Conservation: tokens in = reward + the solver's stake + every challenger's stake; tokens out = payouts + burns,
 * equal once the job is settled and its last dispute resolved. Bounds: a job is settled at most `challengeWindow`
 * blocks plus one dispute's length (2 x the game's chess clock) after its commit.
 *
 * Why burn half rather than pay it to the submitter: a submitter (or a solver) who controls a second key could
 * otherwise stage disputes against itself at no cost; burning makes every dispute cost its loser half a stake
 * that nobody recovers. Why the unkept claim's stake goes to the submitter: a claim blocks the job until the
 * deadline; returning the stake would make blocking jobs free.
 *
 * No admin: the contract has no owner and no function that moves stake or reward except the rules above. The
 * resolver is set once, at deployment (immutable); only it can call {resolveDispute}, and only for a dispute
 * this market opened, with one of that dispute's two parties as winner.
 *
 * v1 limit: one solver per job. `solversWanted` must be 1; `verifiersWanted` is advisory (how many watchers the
 * submitter hopes for; any of them may challenge).
 */
contract JobMarket is IDisputeClient {
    using SafeERC20 for IERC20;

    enum Phase { None, Open, Claimed, Committed, Disputed, Finalized, Refuted, Expired }

    /// @notice What a submitter asks for.
    struct JobRequest {
        bytes32 specHash; // keccak256 of the job spec (model, data, hyper-parameters), published off chain
        uint64 steps; // steps of the run (the dispute game bisects over them)
        uint128 reward; // paid to a verified solver, escrowed at post
        uint128 stake; // posted by the solver at claim and by a challenger
        uint64 deadline; // block by which the solver must commit its root
        uint64 challengeWindow; // blocks a committed root can be challenged: time for a verifier to re-execute the job
        uint8 solversWanted; // must be 1 in v1
        uint8 verifiersWanted; // advisory
    }

    /// @notice A job's full state.
    struct Job {
        address submitter;
        uint64 deadline;
        Phase phase;
        uint8 solversWanted;
        uint8 verifiersWanted;
        address solver;
        uint64 challengeEnds; // block
        uint32 openDisputes; // disputes in play
        uint64 steps;
        uint64 challengeWindow; // blocks
        uint128 reward;
        uint128 stake;
        bytes32 specHash;
        bytes32 root; // the solver's committed root (the verified result once Finalized)
        uint128 held; // losing challengers' slashed stakes not burned, held for the solver until it is paid
        uint32 disputes; // disputes opened on the job so far
    }

    /// @notice A dispute the market opened: its job and challenger, and whether it is still in play.
    struct DisputeRecord {
        uint256 jobId;
        address challenger;
        bool open;
        bytes32 challengerRoot;
    }

    /// @notice A job's dispute rules (what {RESOLVER} referees its disputes by), set by its submitter while it is Open.
    struct Rules {
        bytes32 h0;
        bytes32 factsRoot;
        uint64 factsSize;
        bool set;
    }

    /// @notice Share of a dispute loser's stake that is burned, in basis points; the rest goes to the winner.
    uint256 public constant LOSER_BURN_BPS = 5_000;

    /// @notice The stake and reward token (burnable).
    ERC20Burnable public immutable TOKEN;
    /// @notice The node registry; claims need an active node.
    NodeRegistry public immutable REGISTRY;
    /// @notice The dispute game; the only caller of {resolveDispute}. Set once, at deployment.
    IDisputeResolver public immutable RESOLVER;
    /// @notice The least challenge window a job may ask for, in blocks.
    uint64 public immutable MIN_CHALLENGE_WINDOW;

    Job[] private _jobs;
    /// @dev Dispute id in the resolver → its record (challenger address(0): no such dispute).
    mapping(uint256 disputeId => DisputeRecord) private _disputeOf;
    mapping(uint256 jobId => Rules) private _rules;

    event JobPosted(
        uint256 indexed jobId,
        address indexed submitter,
        bytes32 specHash,
        uint64 steps,
        uint128 reward,
        uint128 stake,
        uint64 deadline,
        uint64 challengeWindow,
        uint8 solversWanted,
        uint8 verifiersWanted
    );
    event RulesSet(uint256 indexed jobId, bytes32 h0, bytes32 factsRoot, uint64 factsSize);
    event JobClaimed(uint256 indexed jobId, address indexed solver, uint128 stake);
    event RootCommitted(uint256 indexed jobId, address indexed solver, bytes32 root, uint64 challengeEnds);
    event JobChallenged(uint256 indexed jobId, address indexed challenger, bytes32 challengerRoot, uint256 disputeId);
    /// @notice A dispute over `jobId` ended: `winner` got its stake back plus `prize` (for a winning solver, held until it is paid); `burned` of the loser's stake was burned.
    event DisputeResolved(uint256 indexed jobId, uint256 indexed disputeId, address winner, address loser, uint256 prize, uint256 burned);
    /// @notice A dispute over an already refuted job ended: its challenger got its whole stake `refund` back.
    event DisputeRefunded(uint256 indexed jobId, uint256 indexed disputeId, address challenger, uint256 refund);
    /// @notice `root` is the verified result of `jobId`; `solver` was paid `paid` (reward + own stake + what it held).
    event JobFinalized(uint256 indexed jobId, address indexed solver, bytes32 root, uint256 paid);
    /// @notice The solver's root was refuted; the submitter got the reward back.
    event JobRefuted(uint256 indexed jobId, address indexed submitter, uint256 refund);
    /// @notice No root by the deadline: the submitter got `refund` (reward plus any unkept claim's stake).
    event JobExpired(uint256 indexed jobId, address indexed submitter, uint256 refund, uint256 slashed);

    /// @notice No job has id `jobId`.
    error JobUnknown(uint256 jobId);
    /// @notice Job `jobId` is in `phase`; the call needs `expected`.
    error JobWrongPhase(uint256 jobId, Phase phase, Phase expected);
    /// @notice `caller` is not the solver `solver` of job `jobId`.
    error JobNotSolver(uint256 jobId, address caller, address solver);
    /// @notice The solver `solver` cannot challenge its own root.
    error JobSelfChallenge(uint256 jobId, address solver);
    /// @notice The deadline block `deadline` of job `jobId` has passed (it is block `blockNumber`).
    error JobDeadlinePassed(uint256 jobId, uint256 blockNumber, uint64 deadline);
    /// @notice The deadline block `deadline` of job `jobId` has not passed yet (it is block `blockNumber`).
    error JobDeadlineNotPassed(uint256 jobId, uint256 blockNumber, uint64 deadline);
    /// @notice The challenge window of job `jobId` closed at block `challengeEnds` (it is block `blockNumber`).
    error JobChallengeWindowClosed(uint256 jobId, uint256 blockNumber, uint64 challengeEnds);
    /// @notice The challenge window of job `jobId` is open until block `challengeEnds` (it is block `blockNumber`).
    error JobChallengeWindowOpen(uint256 jobId, uint256 blockNumber, uint64 challengeEnds);
    /// @notice Job `jobId` has `open` disputes in play; it finalizes when they are over.
    error JobDisputesOpen(uint256 jobId, uint256 open);
    /// @notice A challenger's root must differ from the solver's `root`.
    error JobChallengeRootMatches(uint256 jobId, bytes32 root);
    /// @notice Job `jobId` has no dispute rules yet: its submitter sets them ({setRules}) before anyone can claim it.
    error JobRulesUnset(uint256 jobId);
    /// @notice Job `jobId`'s rules are set once.
    error RulesAlreadySet(uint256 jobId);
    /// @notice Only job `jobId`'s submitter `submitter` sets its rules; `caller` is not it.
    error RulesNotSubmitter(uint256 jobId, address caller, address submitter);
    /// @notice Job `jobId` is in `phase`: rules are set only while it is Open.
    error RulesTooLate(uint256 jobId, Phase phase);
    /// @notice A root or spec hash must not be zero.
    error JobZeroHash();
    /// @notice A job request field is out of range: `field` names it.
    error JobRequestInvalid(string field, uint256 value);
    /// @notice Only the resolver may resolve disputes; `caller` is not it.
    error MarketUnauthorizedResolver(address caller);
    /// @notice The resolver named dispute `disputeId`, which this market did not open (or already settled).
    error DisputeUnknown(uint256 disputeId);
    /// @notice The resolver returned `disputeId` for a second dispute (a resolver bug); nothing changed.
    error DisputeIdReused(uint256 disputeId);
    /// @notice Both parties of the dispute over `jobId` lost: `burned` of their stakes was burned, `toSubmitter` (their unburned halves and what the solver held) went to the submitter with its reward.
    event DisputeBothLost(uint256 indexed jobId, uint256 indexed disputeId, uint256 toSubmitter, uint256 burned);
    /// @notice `winner` is neither the solver nor the challenger of dispute `disputeId` (nor address(0): both lost).
    error DisputeWinnerInvalid(uint256 disputeId, address winner);

    /**
     * @param token The stake and reward token.
     * @param registry The node registry (deployed with this market's address as its MARKET).
     * @param resolver The dispute game (for tests: contracts/test/MockResolver.sol). Immutable.
     * @param minChallengeWindow The least challenge window, in blocks, a job may ask for.
     */
    constructor(ERC20Burnable token, NodeRegistry registry, IDisputeResolver resolver, uint64 minChallengeWindow) {
        TOKEN = token;
        REGISTRY = registry;
        RESOLVER = resolver;
        MIN_CHALLENGE_WINDOW = minChallengeWindow;
    }

    // ---------------------------------------------------------------- post

    /// @notice Posts a job and escrows its reward (approve this market for `request.reward` first).
    function postJob(JobRequest calldata request) external returns (uint256 jobId) {
        return _post(request);
    }

    /**
     * @notice Posts a job, approving the reward with an EIP-2612 permit signed by msg.sender for this market.
     * @dev The permit is tried and its failure ignored (someone may have front-run it with the same signature);
     * the transferFrom in {_post} then fails if the allowance is short.
     */
    function postJobWithPermit(JobRequest calldata request, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        returns (uint256 jobId)
    {
        try IERC20Permit(address(TOKEN)).permit(msg.sender, address(this), request.reward, permitDeadline, v, r, s) {}
            catch {}
        return _post(request);
    }

    /// @notice The job's dispute rules; by its submitter, once, while the job is Open (before anyone stakes on it).
    function setRules(uint256 jobId, bytes32 h0, bytes32 factsRoot, uint64 factsSize) external {
        Job storage job = _job(jobId);
        if (msg.sender != job.submitter) revert RulesNotSubmitter(jobId, msg.sender, job.submitter);
        if (job.phase != Phase.Open) revert RulesTooLate(jobId, job.phase);
        if (_rules[jobId].set) revert RulesAlreadySet(jobId);
        _rules[jobId] = Rules(h0, factsRoot, factsSize, true);
        emit RulesSet(jobId, h0, factsRoot, factsSize);
    }

    // ---------------------------------------------------------------- solve

    /// @notice msg.sender (an active node) claims job `jobId`, escrowing the job's stake (approve it first).
    function claimJob(uint256 jobId) external {
        Job storage job = _inPhase(jobId, Phase.Open);
        if (block.number >= job.deadline) revert JobDeadlinePassed(jobId, block.number, job.deadline);
        // A job claimed without rules could never be challenged (its disputes could not open): no claim before them.
        if (!_rules[jobId].set) revert JobRulesUnset(jobId);

        job.solver = msg.sender;
        job.phase = Phase.Claimed;
        emit JobClaimed(jobId, msg.sender, job.stake);
        REGISTRY.lock(msg.sender); // reverts unless msg.sender is registered and not unbonding
        IERC20(address(TOKEN)).safeTransferFrom(msg.sender, address(this), job.stake);
    }

    /// @notice The solver commits its run root before the deadline; the job's challenge window opens.
    function commitRoot(uint256 jobId, bytes32 root) external {
        Job storage job = _inPhase(jobId, Phase.Claimed);
        if (msg.sender != job.solver) revert JobNotSolver(jobId, msg.sender, job.solver);
        if (block.number >= job.deadline) revert JobDeadlinePassed(jobId, block.number, job.deadline);
        if (root == bytes32(0)) revert JobZeroHash();

        uint64 ends = uint64(block.number) + job.challengeWindow;
        job.root = root;
        job.challengeEnds = ends;
        job.phase = Phase.Committed;
        emit RootCommitted(jobId, msg.sender, root, ends);
    }

    // ---------------------------------------------------------------- verify

    /**
     * @notice Contests the solver's root while the window is open: escrows the job's stake (approve it first) and opens
     * a dispute of its own in the resolver. Any number of challengers may contest one root, each in its own game.
     */
    function challenge(uint256 jobId, bytes32 challengerRoot) external returns (uint256 disputeId) {
        Job storage job = _job(jobId);
        if (job.phase != Phase.Committed && job.phase != Phase.Disputed) revert JobWrongPhase(jobId, job.phase, Phase.Committed);
        if (block.number >= job.challengeEnds) revert JobChallengeWindowClosed(jobId, block.number, job.challengeEnds);
        if (msg.sender == job.solver) revert JobSelfChallenge(jobId, job.solver);
        if (challengerRoot == job.root) revert JobChallengeRootMatches(jobId, challengerRoot);
        if (challengerRoot == bytes32(0)) revert JobZeroHash();

        job.openDisputes += 1;
        job.disputes += 1;
        job.phase = Phase.Disputed;
        // Interactions: the token (ours, no hooks) and the resolver are both fixed at deployment; a re-entrant call
        // could only open another dispute, which is allowed and escrows its own stake.
        IERC20(address(TOKEN)).safeTransferFrom(msg.sender, address(this), job.stake);
        Rules storage rules = _rules[jobId];
        disputeId = RESOLVER.openDispute(
            jobId, IDisputeResolver.Rules(rules.h0, rules.factsRoot, rules.factsSize, job.steps), job.solver, msg.sender, job.root, challengerRoot
        );
        if (_disputeOf[disputeId].challenger != address(0)) revert DisputeIdReused(disputeId);
        _disputeOf[disputeId] = DisputeRecord(jobId, msg.sender, true, challengerRoot);
        emit JobChallenged(jobId, msg.sender, challengerRoot, disputeId);
    }

    /**
     * @notice Once the window has closed, no dispute is in play and the solver never lost: pays the solver reward + stake
     * + what it held; the root becomes the verified result.
     */
    function finalize(uint256 jobId) external {
        Job storage job = _job(jobId);
        if (job.phase == Phase.Disputed) revert JobDisputesOpen(jobId, job.openDisputes);
        if (job.phase != Phase.Committed) revert JobWrongPhase(jobId, job.phase, Phase.Committed);
        if (block.number < job.challengeEnds) revert JobChallengeWindowOpen(jobId, block.number, job.challengeEnds);
        _finalize(job, jobId);
    }

    function _finalize(Job storage job, uint256 jobId) private {
        job.phase = Phase.Finalized;
        uint256 paid = uint256(job.reward) + job.stake + job.held;
        job.held = 0;
        emit JobFinalized(jobId, job.solver, job.root, paid);
        REGISTRY.unlock(job.solver);
        IERC20(address(TOKEN)).safeTransfer(job.solver, paid);
    }

    /**
     * @notice Resolver only: dispute `disputeId` is won by `winner` (its solver or its challenger), or by nobody
     * (`winner` = address(0)); who gets what is the contract's lifecycle, step 4. A solver that won its last dispute
     * after the window closed is paid here.
     */
    function resolveDispute(uint256 disputeId, address winner) external {
        if (msg.sender != address(RESOLVER)) revert MarketUnauthorizedResolver(msg.sender);
        DisputeRecord storage d = _disputeOf[disputeId];
        if (!d.open) revert DisputeUnknown(disputeId);
        uint256 jobId = d.jobId;
        Job storage job = _jobs[jobId];
        address challenger = d.challenger;
        bool solverWon = winner == job.solver;
        bool bothLost = winner == address(0);
        if (!solverWon && !bothLost && winner != challenger) revert DisputeWinnerInvalid(disputeId, winner);

        d.open = false;
        job.openDisputes -= 1;
        uint256 stake = job.stake;
        if (job.phase == Phase.Refuted) {
            // The solver already lost (its stake is gone) and the result is settled: nothing to pay or slash against.
            emit DisputeRefunded(jobId, disputeId, challenger, stake);
            IERC20(address(TOKEN)).safeTransfer(challenger, stake);
            return;
        }
        uint256 burned = (stake * LOSER_BURN_BPS) / 10_000;
        uint256 prize = stake - burned;
        if (solverWon) {
            emit DisputeResolved(jobId, disputeId, winner, challenger, prize, burned);
            job.held += uint128(prize);
            if (job.openDisputes == 0) {
                job.phase = Phase.Committed;
                if (block.number >= job.challengeEnds) _finalize(job, jobId);
            }
            if (burned != 0) TOKEN.burn(burned);
            return;
        }
        // The solver's first loss: the job is refuted; the disputes still in play will refund their challengers.
        job.phase = Phase.Refuted;
        uint256 held = job.held;
        job.held = 0;
        emit JobRefuted(jobId, job.submitter, job.reward);
        REGISTRY.unlock(job.solver);
        if (bothLost) {
            emit DisputeBothLost(jobId, disputeId, 2 * prize + held, 2 * burned);
            IERC20(address(TOKEN)).safeTransfer(job.submitter, job.reward + 2 * prize + held);
            if (burned != 0) TOKEN.burn(2 * burned);
            return;
        }
        emit DisputeResolved(jobId, disputeId, winner, job.solver, prize + held, burned);
        IERC20(address(TOKEN)).safeTransfer(winner, stake + prize + held);
        IERC20(address(TOKEN)).safeTransfer(job.submitter, job.reward);
        if (burned != 0) TOKEN.burn(burned);
    }

    /**
     * @notice After the deadline with no committed root: refunds the reward to the submitter, plus the stake of a
     * solver that claimed and did not commit. Anyone may call it; the money goes to the submitter only.
     */
    function expire(uint256 jobId) external {
        Job storage job = _job(jobId);
        Phase phase = job.phase;
        if (phase != Phase.Open && phase != Phase.Claimed) revert JobWrongPhase(jobId, phase, Phase.Open);
        if (block.number < job.deadline) revert JobDeadlineNotPassed(jobId, block.number, job.deadline);

        uint256 slashed = phase == Phase.Claimed ? job.stake : 0;
        uint256 refund = job.reward + slashed;
        job.phase = Phase.Expired;
        emit JobExpired(jobId, job.submitter, refund, slashed);
        if (slashed != 0) REGISTRY.unlock(job.solver);
        IERC20(address(TOKEN)).safeTransfer(job.submitter, refund);
    }

    // ---------------------------------------------------------------- read

    /// @notice Job `jobId`'s dispute rules (`set` false until its submitter sets them).
    function rulesOf(uint256 jobId) external view returns (Rules memory) {
        return _rules[jobId];
    }

    /// @notice The state of job `jobId`.
    function getJob(uint256 jobId) external view returns (Job memory) {
        return _job(jobId);
    }

    /// @notice How many jobs were posted (ids are 0 … jobCount-1).
    function jobCount() external view returns (uint256) {
        return _jobs.length;
    }

    /// @notice The job a dispute of the resolver belongs to.
    function jobOfDispute(uint256 disputeId) external view returns (uint256) {
        return disputeOf(disputeId).jobId;
    }

    /// @notice A dispute the market opened: its job, challenger, root, and whether it is still in play.
    function disputeOf(uint256 disputeId) public view returns (DisputeRecord memory) {
        DisputeRecord memory d = _disputeOf[disputeId];
        if (d.challenger == address(0)) revert DisputeUnknown(disputeId);
        return d;
    }

    // ---------------------------------------------------------------- internal

    function _post(JobRequest calldata request) private returns (uint256 jobId) {
        if (request.specHash == bytes32(0)) revert JobZeroHash();
        // The dispute game descends trees of steps + 1 leaves in 48-bit fields: 2^32 steps is far beyond any run.
        if (request.steps == 0 || request.steps >= 2 ** 32) revert JobRequestInvalid("steps", request.steps);
        if (request.reward == 0) revert JobRequestInvalid("reward", 0);
        if (request.stake == 0) revert JobRequestInvalid("stake", 0);
        if (request.solversWanted != 1) revert JobRequestInvalid("solversWanted", request.solversWanted);
        if (request.deadline <= block.number) revert JobRequestInvalid("deadline", request.deadline);
        if (request.challengeWindow < MIN_CHALLENGE_WINDOW) revert JobRequestInvalid("challengeWindow", request.challengeWindow);

        jobId = _jobs.length;
        _jobs.push(
            Job({
                submitter: msg.sender,
                deadline: request.deadline,
                phase: Phase.Open,
                solversWanted: request.solversWanted,
                verifiersWanted: request.verifiersWanted,
                solver: address(0),
                challengeEnds: 0,
                openDisputes: 0,
                steps: request.steps,
                challengeWindow: request.challengeWindow,
                reward: request.reward,
                stake: request.stake,
                specHash: request.specHash,
                root: bytes32(0),
                held: 0,
                disputes: 0
            })
        );
        emit JobPosted(
            jobId,
            msg.sender,
            request.specHash,
            request.steps,
            request.reward,
            request.stake,
            request.deadline,
            request.challengeWindow,
            request.solversWanted,
            request.verifiersWanted
        );
        IERC20(address(TOKEN)).safeTransferFrom(msg.sender, address(this), request.reward);
    }

    function _job(uint256 jobId) private view returns (Job storage) {
        if (jobId >= _jobs.length) revert JobUnknown(jobId);
        return _jobs[jobId];
    }

    function _inPhase(uint256 jobId, Phase expected) private view returns (Job storage job) {
        job = _job(jobId);
        if (job.phase != expected) revert JobWrongPhase(jobId, job.phase, expected);
    }
}
