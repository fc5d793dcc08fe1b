// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeResolver} from "./interfaces/IDisputeResolver.sol";
import {JobMarket} from "./JobMarket.sol";
import {MachineStep} from "./MachineStep.sol";
import {OneStepReferee} from "./OneStepReferee.sol";
import {Commitments} from "./Commitments.sol";

/**
 * @title DisputeGame: the bisection game of src/verify/game on chain, as the JobMarket's IDisputeResolver
 * @notice One function per TypeScript move kind (game/types.ts Move), each the transition function of its level:
 * run level {openStep} (run-level.ts), step level {commitStep} (step-level.ts), the binary descent of step and chunk
 * trees {reveal} (descend.ts), op level {commitOp} and {openChunk} (op-level.ts), element level {commitElement} and
 * {claim} (element-level.ts), the one-step proof {prove} (ruled by {OneStepReferee}) and {timeout} (timeout.ts).
 * A move checks, as transition.ts does: the deadline, the turn (msg.sender must be the party to move), the move
 * kind for the level and phase, then its proof against the stored node. The stored dispute holds the fields of
 * the TypeScript Position; a test replays a TS game move by move and compares them.
 *
 * Per-job rules ({setRules}, by the job's submitter while the job is still Open, checked by solver and challenger
 * before they stake, like h_0): h_0 and the root of a "facts" tree (RFC 6962) whose leaves are the step program
 * facts the game reads, SHA-256(0x00 || abi.encode(...)):
 *   step fact (1, t, stepLeafCount, batchCommitment)   op fact (2, t, op, output dtype, output shape)
 * What is NOT checked on chain (docs/verification.md "On chain"): the element program (the halt instruction in
 * {commitElement} and the instruction and load descriptor in {prove} are the mover's word), and the state-assembly
 * ruling (prove-state): a dispute that reaches it ends by timeout against the solver.
 *
 * Ruling "both" (neither claim matches the referee's state): the market can only pay one party; the game names the
 * challenger winner, so the job is Refuted and a root the referee rejected is never finalized.
 */
contract DisputeGame is IDisputeResolver {
    enum Level { Run, Step, Op, Element, Done }
    enum Phase { Commit, Bisect, Open, Prove, Over }
    enum Turn { Solver, Challenger, Either, None }
    /// @notice encoding.ts MOVES order.
    enum Move { OpenStep, CommitStep, Reveal, CommitOp, OpenChunk, CommitElement, Claim, ProveState, Prove, Timeout }
    enum At { Instruction, State, Timeout }
    /// @notice Which proof did not verify.
    enum Proof { RunPrev, RunCur, StepLeaf, StepFact, OpFact, Children, ChunkRoot, Chunk, SolverChunk }

    struct Rules {
        bytes32 h0;
        bytes32 factsRoot;
        uint64 factsSize;
        bool set;
    }

    /// @notice A dispute: game/types.ts Position (pending[0..1] as pendingLeft/Right) plus the parties.
    struct Dispute {
        uint256 jobId;
        address solver;
        Level level;
        Phase phase;
        Turn turn;
        uint64 deadline;
        address challenger;
        uint32 round;
        uint64 steps;
        bytes32 solverRoot;
        bytes32 challengerRoot;
        uint64 t;
        uint32 op;
        uint64 element;
        uint64 lo;
        uint64 n;
        uint64 leafCount; // stepLeafCount(t), from the step fact
        uint64 opSize; // elements of op's output, from the op fact
        uint32 valueSolver;
        uint32 valueChallenger;
        OneStepReferee.Loser loser;
        At ruledAt;
        bytes32 hPrev;
        bytes32 hSolver;
        bytes32 hChallenger;
        bytes32 stepRootSolver;
        bytes32 stepRootChallenger;
        bytes32 batchCommitment;
        bytes32 nodeSolver;
        bytes32 nodeChallenger;
        bytes32 agreed;
        bytes32 pendingLeft;
        bytes32 pendingRight;
    }

    /// @notice Both run openings of one party (run-level.ts: h_{t-1} and h_t with their paths).
    struct RunOpening {
        bytes32 prev;
        bytes32[] prevProof;
        bytes32 cur;
        bytes32[] curProof;
    }

    /// @notice The step fact of step t and its path in the job's facts tree.
    struct StepFact {
        uint64 leafCount;
        bytes32 batchCommitment;
        uint64 index;
        bytes32[] path;
    }

    /// @notice The op fact of (t, op) and its path in the job's facts tree.
    struct OpFact {
        uint32 dtype;
        uint32[] shape;
        uint64 index;
        bytes32[] path;
    }

    uint256 internal constant CHUNK_ELEMENTS = 256;

    JobMarket public immutable MARKET;
    OneStepReferee public immutable REFEREE;
    /// @notice Seconds each party has for a move.
    uint64 public immutable TIMEOUT;
    /// @notice stateHashOf(initialState()): SHA-256 of 137 zero bytes.
    bytes32 public immutable INITIAL_STATE_HASH;

    uint256 public disputeCount;
    mapping(uint256 disputeId => Dispute) private _disputes;
    mapping(uint256 jobId => Rules) private _rules;

    event RulesSet(uint256 indexed jobId, bytes32 h0, bytes32 factsRoot, uint64 factsSize);
    event DisputeOpened(uint256 indexed disputeId, uint256 indexed jobId, address solver, address challenger, uint64 deadline);
    event Moved(uint256 indexed disputeId, Move kind, address indexed by, Level level, Phase phase, Turn turn, uint32 round);
    event DisputeRuled(uint256 indexed disputeId, uint256 indexed jobId, OneStepReferee.Loser loser, At where, address winner);

    error DisputeNotMarket(address caller);
    error DisputeUnknown(uint256 disputeId);
    error DisputeOver(uint256 disputeId);
    error DisputeRootsEqual(bytes32 root);
    error DisputeNotParty(uint256 disputeId, address caller);
    error DisputeNotYourTurn(uint256 disputeId, address caller, Turn turn, Move expected);
    error DisputeWrongMove(uint256 disputeId, Move got, Move expected);
    error DisputeDeadlinePassed(uint256 disputeId, uint256 timestamp, uint64 deadline);
    error DisputeDeadlineNotPassed(uint256 disputeId, uint256 timestamp, uint64 deadline);
    error ProofInvalid(uint256 disputeId, Proof what, uint256 index);
    error RulesUnset(uint256 jobId);
    error RulesAlreadySet(uint256 jobId);
    error RulesNotSubmitter(uint256 jobId, address caller, address submitter);
    error RulesTooLate(uint256 jobId, JobMarket.Phase phase);
    error RunStepOutOfRange(uint256 disputeId, uint64 t, uint64 steps);
    error RunDiffersBefore(uint256 disputeId, uint64 t);
    error RunNotInitialState(uint256 disputeId, bytes32 got, bytes32 h0);
    error RunAgreesAt(uint256 disputeId, uint64 t);
    error StepRootsEqual(uint256 disputeId, bytes32 root);
    error ChunkLengthWrong(uint256 disputeId, uint256 got, uint256 want);
    error ChunksEqual(uint256 disputeId);
    error ElementNotFinal(uint256 disputeId, bool halted, uint8 opcode, uint32 result, uint32 value);
    error StateAssemblyNotOnChain(uint256 disputeId);

    constructor(JobMarket market, OneStepReferee referee, uint64 moveTimeout) {
        MARKET = market;
        REFEREE = referee;
        TIMEOUT = moveTimeout;
        INITIAL_STATE_HASH = sha256(new bytes(137));
    }

    // ---------------------------------------------------------------- rules and opening

    /// @notice The job's game rules; by its submitter, once, while the job is Open (before anyone stakes on it).
    function setRules(uint256 jobId, bytes32 h0, bytes32 factsRoot, uint64 factsSize) external {
        JobMarket.Job memory job = MARKET.getJob(jobId);
        if (msg.sender != job.submitter) revert RulesNotSubmitter(jobId, msg.sender, job.submitter);
        if (job.phase != JobMarket.Phase.Open) revert RulesTooLate(jobId, job.phase);
        if (_rules[jobId].set) revert RulesAlreadySet(jobId);
        _rules[jobId] = Rules(h0, factsRoot, factsSize, true);
        emit RulesSet(jobId, h0, factsRoot, factsSize);
    }

    function rulesOf(uint256 jobId) external view returns (Rules memory) {
        return _rules[jobId];
    }

    /// @inheritdoc IDisputeResolver
    function openDispute(
        uint256 jobId,
        uint64 steps,
        address solver,
        address challenger,
        bytes32 solverRoot,
        bytes32 challengerRoot
    ) external returns (uint256 disputeId) {
        if (msg.sender != address(MARKET)) revert DisputeNotMarket(msg.sender);
        if (!_rules[jobId].set) revert RulesUnset(jobId);
        if (solverRoot == challengerRoot) revert DisputeRootsEqual(solverRoot);
        disputeId = ++disputeCount;
        Dispute storage d = _disputes[disputeId];
        d.jobId = jobId;
        d.steps = steps;
        d.solver = solver;
        d.challenger = challenger;
        d.solverRoot = solverRoot;
        d.challengerRoot = challengerRoot;
        d.turn = Turn.Challenger;
        d.deadline = uint64(block.timestamp) + TIMEOUT;
        emit DisputeOpened(disputeId, jobId, solver, challenger, d.deadline);
    }

    function getDispute(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @notice The move kind the dispute waits for (transition.ts expectedMove; Timeout once it is over).
    function expectedMove(uint256 disputeId) external view returns (Move) {
        return _expected(_disputes[disputeId]);
    }

    // ---------------------------------------------------------------- run level (run-level.ts)

    /// @notice The challenger names step t: h_{t-1} equal and h_t different, each proven in both run roots.
    function openStep(uint256 disputeId, uint64 t, RunOpening calldata solverSide, RunOpening calldata challengerSide)
        external
    {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.OpenStep);
        uint64 steps = d.steps;
        if (t < 1 || t > steps) revert RunStepOutOfRange(disputeId, t, steps);
        _openRun(disputeId, solverSide, t, steps + 1, d.solverRoot);
        _openRun(disputeId, challengerSide, t, steps + 1, d.challengerRoot);
        if (solverSide.prev != challengerSide.prev) revert RunDiffersBefore(disputeId, t);
        if (t == 1 && solverSide.prev != _rules[d.jobId].h0) revert RunNotInitialState(disputeId, solverSide.prev, _rules[d.jobId].h0);
        if (solverSide.cur == challengerSide.cur) revert RunAgreesAt(disputeId, t);
        d.level = Level.Step;
        d.phase = Phase.Commit;
        d.turn = Turn.Solver;
        d.t = t;
        d.hPrev = solverSide.prev;
        d.hSolver = solverSide.cur;
        d.hChallenger = challengerSide.cur;
        _end(d, disputeId, Move.OpenStep, bySolver);
    }

    // ---------------------------------------------------------------- step level (step-level.ts)

    /// @notice A party's step root, bound to its h_t by the path of the last leaf.
    function commitStep(uint256 disputeId, bytes32 root, bytes32[] calldata proof, StepFact calldata fact) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.CommitStep);
        _checkFact(d, disputeId, abi.encode(uint8(1), d.t, fact.leafCount, fact.batchCommitment), fact.index, fact.path, Proof.StepFact);
        uint64 size = fact.leafCount;
        bytes32 h = bySolver ? d.hSolver : d.hChallenger;
        if (size == 0 || !Commitments.opens(Commitments.leaf(abi.encodePacked(h)), size - 1, size, proof, root)) revert ProofInvalid(disputeId, Proof.StepLeaf, size);
        if (bySolver) {
            d.stepRootSolver = root;
            d.leafCount = size;
            d.batchCommitment = fact.batchCommitment;
            d.turn = Turn.Challenger;
        } else {
            if (root == d.stepRootSolver) revert StepRootsEqual(disputeId, root);
            d.stepRootChallenger = root;
            d.phase = Phase.Bisect;
            d.turn = Turn.Solver;
            d.lo = 0;
            d.n = size;
            d.nodeSolver = d.stepRootSolver;
            d.nodeChallenger = root;
        }
        _end(d, disputeId, Move.CommitStep, bySolver);
    }

    /// @notice Not on chain: the state-assembly ruling (Decisions 5). Always reverts; the phase ends by timeout.
    function proveState(uint256 disputeId) external view {
        _begin(disputeId, Move.ProveState);
        revert StateAssemblyNotOnChain(disputeId);
    }

    // ---------------------------------------------------------------- descent (descend.ts)

    /// @notice The two children of the mover's disputed node; after both halves, go left if the left ones differ.
    function reveal(uint256 disputeId, bytes32 left, bytes32 right) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.Reveal);
        if (Commitments.node(left, right) != (bySolver ? d.nodeSolver : d.nodeChallenger)) revert ProofInvalid(disputeId, Proof.Children, d.lo);
        if (bySolver) {
            d.pendingLeft = left;
            d.pendingRight = right;
            d.turn = Turn.Challenger;
        } else {
            uint64 k = Commitments.split(d.n);
            if (d.pendingLeft != left) {
                d.n = k;
                d.nodeSolver = d.pendingLeft;
                d.nodeChallenger = left;
            } else {
                d.lo += k;
                d.n -= k;
                d.nodeSolver = d.pendingRight;
                d.nodeChallenger = right;
            }
            d.pendingLeft = 0;
            d.pendingRight = 0;
            d.turn = Turn.Solver;
            if (d.n == 1) _atLeaf(d);
        }
        _end(d, disputeId, Move.Reveal, bySolver);
    }

    // ---------------------------------------------------------------- op level (op-level.ts)

    /// @notice The mover's chunk root of op's output: SHA-256(dtype, shape, root) must be its disputed leaf's preimage.
    function commitOp(uint256 disputeId, bytes32 chunkRoot, OpFact calldata fact) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.CommitOp);
        _checkFact(d, disputeId, abi.encode(uint8(2), d.t, d.op, fact.dtype, fact.shape), fact.index, fact.path, Proof.OpFact);
        bytes32 leaf = Commitments.leaf(abi.encodePacked(Commitments.tensorCommitment(fact.dtype, fact.shape, chunkRoot)));
        if (leaf != (bySolver ? d.nodeSolver : d.nodeChallenger)) revert ProofInvalid(disputeId, Proof.ChunkRoot, d.op);
        if (bySolver) {
            d.pendingLeft = chunkRoot;
            d.turn = Turn.Challenger;
        } else {
            uint256 size = 1;
            for (uint256 i = 0; i < fact.shape.length; ++i) size *= fact.shape[i];
            uint256 chunks = (size + CHUNK_ELEMENTS - 1) / CHUNK_ELEMENTS;
            d.opSize = uint64(size);
            d.phase = Phase.Bisect;
            d.turn = Turn.Solver;
            d.lo = 0;
            d.n = uint64(chunks == 0 ? 1 : chunks);
            d.nodeSolver = d.pendingLeft;
            d.nodeChallenger = chunkRoot;
            d.pendingLeft = 0;
            if (d.n == 1) _atLeaf(d);
        }
        _end(d, disputeId, Move.CommitOp, bySolver);
    }

    /**
     * @notice The mover's chunk lo (little-endian words). The solver's chunk is not stored: the challenger's move
     * sends it again (`solverChunk`, checked against the solver's leaf), and the element is the first differing word.
     */
    function openChunk(uint256 disputeId, bytes calldata chunk, bytes calldata solverChunk) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.OpenChunk);
        uint256 words = d.opSize - d.lo * CHUNK_ELEMENTS;
        if (words > CHUNK_ELEMENTS) words = CHUNK_ELEMENTS;
        if (chunk.length != words * 4) revert ChunkLengthWrong(disputeId, chunk.length, words * 4);
        if (Commitments.leaf(chunk) != (bySolver ? d.nodeSolver : d.nodeChallenger)) revert ProofInvalid(disputeId, Proof.Chunk, d.lo);
        if (bySolver) {
            d.turn = Turn.Challenger;
        } else {
            if (solverChunk.length != chunk.length || Commitments.leaf(solverChunk) != d.nodeSolver) {
                revert ProofInvalid(disputeId, Proof.SolverChunk, d.lo);
            }
            uint256 j = 0;
            while (j < words && bytes4(solverChunk[j * 4:j * 4 + 4]) == bytes4(chunk[j * 4:j * 4 + 4])) ++j;
            if (j == words) revert ChunksEqual(disputeId);
            d.level = Level.Element;
            d.phase = Phase.Commit;
            d.turn = Turn.Solver;
            d.element = uint64(d.lo * CHUNK_ELEMENTS + j);
            d.valueSolver = Commitments.le32(uint32(bytes4(solverChunk[j * 4:j * 4 + 4])));
            d.valueChallenger = Commitments.le32(uint32(bytes4(chunk[j * 4:j * 4 + 4])));
            d.lo = 0;
            d.n = 0;
        }
        _end(d, disputeId, Move.OpenChunk, bySolver);
    }

    // ---------------------------------------------------------------- element level (element-level.ts)

    /**
     * @notice The mover's final machine state (encodeState's 137 bytes): halted, with its element word in the result
     * register of the halt instruction. `haltInstruction` is the element program's instruction at the final pc; the
     * contract cannot derive the program, so it only checks that it is a halt.
     */
    function commitElement(uint256 disputeId, bytes calldata finalState, bytes8 haltInstruction) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.CommitElement);
        MachineStep.State memory s = MachineStep.decode(finalState);
        MachineStep.Instruction memory ins = MachineStep.decodeInstruction(haltInstruction);
        uint32 value = bySolver ? d.valueSolver : d.valueChallenger;
        if (!s.halted || ins.op != MachineStep.HALT || s.r[ins.a] != value) {
            revert ElementNotFinal(disputeId, s.halted, ins.op, s.r[ins.a], value);
        }
        bytes32 h = sha256(finalState);
        if (bySolver) {
            d.pendingLeft = h;
            d.n = s.steps;
            d.turn = Turn.Challenger;
        } else {
            uint64 n = d.n > s.steps ? d.n : s.steps;
            d.phase = Phase.Bisect;
            d.turn = Turn.Solver;
            d.lo = 0;
            d.n = n;
            d.agreed = INITIAL_STATE_HASH;
            d.nodeSolver = d.pendingLeft;
            d.nodeChallenger = h;
            d.pendingLeft = 0;
            if (n == 1) {
                d.phase = Phase.Prove;
                d.turn = Turn.Either;
            }
        }
        _end(d, disputeId, Move.CommitElement, bySolver);
    }

    /// @notice The mover's machine-state hash after lo + n/2 instructions.
    function claim(uint256 disputeId, bytes32 hash) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.Claim);
        if (bySolver) {
            d.pendingLeft = hash;
            d.turn = Turn.Challenger;
        } else {
            uint64 half = d.n / 2;
            if (d.pendingLeft == hash) {
                d.lo += half;
                d.n -= half;
                d.agreed = hash;
            } else {
                d.n = half;
                d.nodeSolver = d.pendingLeft;
                d.nodeChallenger = hash;
            }
            d.pendingLeft = 0;
            d.turn = Turn.Solver;
            if (d.n == 1) {
                d.phase = Phase.Prove;
                d.turn = Turn.Either;
            }
        }
        _end(d, disputeId, Move.Claim, bySolver);
    }

    // ---------------------------------------------------------------- one step (referee.ts ruleInstruction)

    /**
     * @notice The one-step proof, by either party: {OneStepReferee.rule} on the stored position (agreed state, both
     * claims, h_{t-1}, both step roots, the step's batch commitment) and the prover's pre-state, instruction and
     * load opening; then the market pays the winner.
     */
    function prove(uint256 disputeId, bytes calldata pre, bytes8 instruction, OneStepReferee.Load calldata load) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.Prove);
        OneStepReferee.Position memory p = OneStepReferee.Position({
            agreed: d.agreed,
            nodeSolver: d.nodeSolver,
            nodeChallenger: d.nodeChallenger,
            hPrev: d.hPrev,
            stepRootSolver: d.stepRootSolver,
            stepRootChallenger: d.stepRootChallenger,
            batchCommitment: d.batchCommitment
        });
        // A pure call to the immutable referee; it reverts on a proof that does not verify.
        (OneStepReferee.Loser loser,) = REFEREE.rule(pre, instruction, p, load);
        d.turn = Turn.None;
        _end(d, disputeId, Move.Prove, bySolver);
        _finish(d, disputeId, loser, At.Instruction);
    }

    // ---------------------------------------------------------------- timeout (timeout.ts)

    /// @notice After the deadline, anyone: the party to move loses (the solver when either may move).
    function timeout(uint256 disputeId) external {
        Dispute storage d = _disputes[disputeId];
        if (d.solver == address(0)) revert DisputeUnknown(disputeId);
        if (d.level == Level.Done) revert DisputeOver(disputeId);
        if (block.timestamp <= d.deadline) revert DisputeDeadlineNotPassed(disputeId, block.timestamp, d.deadline);
        _finish(d, disputeId, d.turn == Turn.Challenger ? OneStepReferee.Loser.Challenger : OneStepReferee.Loser.Solver, At.Timeout);
    }

    // ---------------------------------------------------------------- internals

    function _expected(Dispute storage d) private view returns (Move) {
        Level level = d.level;
        Phase phase = d.phase;
        if (level == Level.Done) return Move.Timeout;
        if (level == Level.Run) return Move.OpenStep;
        if (phase == Phase.Prove) return level == Level.Step ? Move.ProveState : Move.Prove;
        if (phase == Phase.Bisect) return level == Level.Element ? Move.Claim : Move.Reveal;
        if (phase == Phase.Open) return Move.OpenChunk;
        return level == Level.Step ? Move.CommitStep : level == Level.Op ? Move.CommitOp : Move.CommitElement;
    }

    /// @dev transition.ts's checks, in its order: over, deadline, turn, move kind.
    function _begin(uint256 disputeId, Move kind) private view returns (Dispute storage d, bool bySolver) {
        d = _disputes[disputeId];
        if (d.solver == address(0)) revert DisputeUnknown(disputeId);
        if (d.level == Level.Done) revert DisputeOver(disputeId);
        if (block.timestamp > d.deadline) revert DisputeDeadlinePassed(disputeId, block.timestamp, d.deadline);
        bySolver = msg.sender == d.solver;
        if (!bySolver && msg.sender != d.challenger) revert DisputeNotParty(disputeId, msg.sender);
        Move expected = _expected(d);
        Turn turn = d.turn;
        if (turn != Turn.Either && (turn == Turn.Solver) != bySolver) revert DisputeNotYourTurn(disputeId, msg.sender, turn, expected);
        if (kind != expected) revert DisputeWrongMove(disputeId, kind, expected);
    }

    /// @dev transition.ts: a round is counted when the move hands the turn to anyone but the challenger.
    function _end(Dispute storage d, uint256 disputeId, Move kind, bool bySolver) private {
        if (d.turn != Turn.Challenger) d.round += 1;
        d.deadline = uint64(block.timestamp) + TIMEOUT;
        emit Moved(disputeId, kind, bySolver ? d.solver : d.challenger, d.level, d.phase, d.turn, d.round);
    }

    /// @dev Effects, then the one interaction: the market pays the winner.
    function _finish(Dispute storage d, uint256 disputeId, OneStepReferee.Loser loser, At where) private {
        d.level = Level.Done;
        d.phase = Phase.Over;
        d.turn = Turn.None;
        d.loser = loser;
        d.ruledAt = where;
        address winner = loser == OneStepReferee.Loser.Challenger ? d.solver : d.challenger;
        emit DisputeRuled(disputeId, d.jobId, loser, where, winner);
        MARKET.resolveDispute(disputeId, winner);
    }

    /// @dev descend.ts atLeaf.
    function _atLeaf(Dispute storage d) private {
        if (d.level == Level.Op) {
            d.phase = Phase.Open;
            d.turn = Turn.Solver;
        } else if (d.lo == d.leafCount - 1) {
            d.phase = Phase.Prove;
            d.turn = Turn.Either;
        } else {
            d.level = Level.Op;
            d.phase = Phase.Commit;
            d.op = uint32(d.lo);
            d.turn = Turn.Solver;
        }
    }

    function _checkFact(Dispute storage d, uint256 disputeId, bytes memory data, uint64 index, bytes32[] calldata path, Proof what)
        private
        view
    {
        Rules storage r = _rules[d.jobId];
        (bool ok, bytes32 root) = Commitments.rootFromProof(sha256(abi.encodePacked(bytes1(0x00), data)), index, r.factsSize, path);
        if (!ok || root != r.factsRoot) revert ProofInvalid(disputeId, what, index);
    }

    function _openRun(uint256 disputeId, RunOpening calldata o, uint64 t, uint256 size, bytes32 root) private pure {
        if (!Commitments.opens(Commitments.leaf(abi.encodePacked(o.prev)), t - 1, size, o.prevProof, root)) revert ProofInvalid(disputeId, Proof.RunPrev, t - 1);
        if (!Commitments.opens(Commitments.leaf(abi.encodePacked(o.cur)), t, size, o.curProof, root)) revert ProofInvalid(disputeId, Proof.RunCur, t);
    }
}
