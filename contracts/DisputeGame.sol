// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeClient, IDisputeResolver} from "./interfaces/IDisputeResolver.sol";
import {MachineStep} from "./MachineStep.sol";
import {OneStepReferee} from "./OneStepReferee.sol";
import {Commitments} from "./Commitments.sol";

/**
 * @title DisputeGame: the bisection game of src/verify/game on chain, an IDisputeResolver for any client contract
 * @notice One function per TypeScript move kind (game/types.ts Move), each the transition function of its level:
 * the descent of run, step, chunk and state trees {reveal} (descend.ts, {DESCENT_DEPTH} levels an exchange; the run
 * level, run-level.ts, rules at once when it ends on leaf 0: the job's h_0 decides), step level {commitStep}
 * (step-level.ts), the state leaf {proveState} (referee.ts ruleState), op level {commitOp} and {openChunk} (op-level.ts), element
 * level {commitElement} and {claim} (element-level.ts), the one-step proof {prove} (ruled by {OneStepReferee}) and
 * {timeout} (timeout.ts). No move needs the opponent's data: each party reveals its own trees, and a party that does not
 * loses on its timeout.
 *
 * Time is a chess clock (BoLD's): each party has {CLOCK} blocks for all its moves of one dispute. A move charges its
 * mover the blocks its turn took (the one-step phase, where either may move, runs the solver's clock); the deadline is
 * when the turn began plus the clock of the party to move. Nothing resets a clock, so a dispute ends within 2 x CLOCK
 * blocks of its opening, however the parties play.
 * A move checks, as transition.ts does: the deadline, the turn (msg.sender must be the party to move), the move
 * kind for the level and phase, then its proof against the stored node. The stored dispute holds the fields of
 * the TypeScript Position; a test replays a TS game move by move and compares them.
 *
 * Any contract may open a dispute ({openDispute}): it passes the program's rules and is called back with the ruling
 * ({IDisputeClient.resolveDispute}). The JobMarket passes its job's rules (set by the submitter while the job was
 * Open); the SwarmCoordinator those of its evaluation program (fixed at its deployment). The rules are stored with
 * the dispute: h_0, the steps, and the root of a "facts" tree (RFC 6962) whose leaves are the step program facts the
 * game reads, SHA-256(0x00 || abi.encode(...)):
 *   step fact (1, t, stepLeafCount, stateLeafCount, batchCommitment)   op fact (2, t, op, output dtype, output shape, op rule)
 *   state fact (3, t, j, source kind, source index, constant commitment, name) for leaf j >= 1 of h_t
 * The op rule (op-rule.ts) commits the op's one element program (a function of the output index, which starts in
 * r0) and its inputs' descriptors: {commitElement} proves its halt instruction against it, {prove} its instruction
 * and, for a load, the input's descriptor.
 *
 * Ruling "both" (neither claim matches the referee's state): the client is told that nobody won
 * (`resolveDispute(id, address(0))`); the market slashes both stakes.
 *
 * Gas: a move writes few storage slots and never a zero slot in the steady state. The fields a move changes every
 * exchange (level, phase, turn, round, deadline, both clocks, lo, n) share one slot; the solver's half of an exchange (a frontier,
 * claims, an opened chunk) is kept as one word, a hash chain over it ({_chain}), from which the challenger's move
 * proves the first difference with two words of calldata; and that word is left in place when the exchange ends, so the next solver
 * half overwrites a non-zero slot (5k gas) instead of filling a cleared one (22k).
 */
contract DisputeGame is IDisputeResolver {
    enum Level { Run, Step, Op, State, Element, Done }
    enum Phase { Commit, Bisect, Open, Prove, Over }
    enum Turn { Solver, Challenger, Either, None }
    /// @notice encoding.ts MOVES order.
    enum Move { CommitStep, Reveal, CommitOp, OpenChunk, CommitElement, Claim, ProveState, Prove, Timeout }
    /// @notice Where a ruling was made; Initial: the run trees' leaf 0 against the job's h_0.
    enum At { Instruction, State, Timeout, Initial }
    /// @notice Which proof did not verify.
    enum Proof { RunPrev, RunCur, StepLeaf, StepFact, OpFact, Frontier, ChunkRoot, Chunk, SolverChunk, SolverHalf, HaltInstruction, StateFact, StateHeader, StateSource, StepContext }

    /**
     * @notice A dispute: game/types.ts Position plus the parties, packed so that a move touches few slots. `pending`
     * is the solver's half of the exchange under way (a chunk root or final-state hash as is; a frontier, claim list
     * or opened chunk as its hash chain, {_chain}); it is stale (not cleared) once the exchange ends.
     */
    struct Dispute {
        // one slot, written by every move
        Level level;
        Phase phase;
        Turn turn;
        uint32 round;
        uint40 deadline;
        // the chess clocks: blocks each party has left, as of the start of the turn under way
        uint32 clockSolver;
        uint32 clockChallenger;
        uint48 lo;
        uint48 n;
        bytes32 pending;
        bytes32 nodeSolver;
        bytes32 nodeChallenger;
        bytes32 agreed;
        bytes32 opRule; // of the disputed op, from its op fact
        address solver;
        uint64 t;
        uint32 op;
        address challenger;
        uint64 element;
        uint32 valueSolver;
        uint64 steps;
        uint32 leafCount; // stepLeafCount(t), from the step fact
        uint32 stateLeafCount; // leaves of a state tree, from the step fact: the state level's n
        uint64 opSize; // elements of op's output, from the op fact
        uint32 valueChallenger;
        OneStepReferee.Loser loser;
        At ruledAt;
        /// @notice The contract that opened the dispute (called back with the ruling) and its reference (the market's job id).
        address client;
        uint64 factsSize;
        uint256 ref;
        bytes32 h0;
        bytes32 factsRoot;
        bytes32 solverRoot;
        bytes32 challengerRoot;
        /// @notice keccak256 of the step level's {StepContext} (0 before it): one slot written instead of six.
        bytes32 stepContext;
    }

    /**
     * @notice What the step level fixes and later moves read: h_{t-1}, both parties' h_t and step roots, and step t's
     * batch commitment. Stored as its hash ({Dispute.stepContext}); a move that reads it sends it (prove and
     * proveState always, as a tuple; commitStep and reveal abi.encode'd in `context` when they read it, else empty),
     * and the game checks it against the hash. Six first writes (22.1k gas
     * each) cost more than the 192 bytes of calldata paid by the few moves that read them (commitStep's challenger,
     * prove, proveState, and the reveal that ends the step descent at leaf N).
     */
    struct StepContext {
        bytes32 hPrev;
        bytes32 hSolver;
        bytes32 hChallenger;
        bytes32 stepRootSolver;
        bytes32 stepRootChallenger;
        bytes32 batchCommitment;
    }

    /// @notice The mover's h_t (the preimage of its run-tree leaf t) and, from the solver, h_{t-1} with its path in the solver's run tree.
    struct RunOpening {
        bytes32 prev;
        bytes32[] prevProof;
        bytes32 h;
    }

    /// @notice The step fact of step t and its path in the job's facts tree.
    struct StepFact {
        uint64 leafCount;
        uint64 stateLeafCount;
        bytes32 batchCommitment;
        uint64 index;
        bytes32[] path;
    }

    /// @notice The state fact of leaf j >= 1 of h_t (state output j-1: its name and source) and its path in the job's facts tree.
    struct StateFact {
        uint8 sourceKind; // OneStepReferee.Source
        uint64 sourceIndex; // the op (Op) or the leaf of h_{t-1} (State)
        bytes32 constantCommitment; // read for Constant
        bytes name;
        uint64 index;
        bytes32[] path;
    }

    /// @notice The op fact of (t, op) and its path in the job's facts tree.
    struct OpFact {
        uint32 dtype;
        uint32[] shape;
        /// @notice op-rule.ts: the op's element program and input descriptors, which commitElement and prove open.
        bytes32 opRule;
        uint64 index;
        bytes32[] path;
    }

    uint256 internal constant CHUNK_ELEMENTS = 64;
    /// @notice Tree levels one {reveal} exchange descends; {claim} splits into 2^DESCENT_DEPTH parts (descend.ts).
    uint256 public constant DESCENT_DEPTH = 4;

    OneStepReferee public immutable REFEREE;
    /// @notice Each party's chess clock: the blocks it has for all its moves of one dispute.
    uint32 public immutable CLOCK;

    uint256 public disputeCount;
    mapping(uint256 disputeId => Dispute) private _disputes;

    /// @notice `client` opened dispute `disputeId` over its `ref` (the market: a job id); its rules are {getDispute}'s.
    event DisputeOpened(uint256 indexed disputeId, address indexed client, uint256 indexed ref, address solver, address challenger, uint64 deadline);
    /// @notice Kept small (it is paid every move): the new position is {getDispute}'s.
    event Moved(uint256 indexed disputeId, Move kind);
    event DisputeRuled(uint256 indexed disputeId, uint256 indexed ref, OneStepReferee.Loser loser, At where, address winner);

    error DisputeUnknown(uint256 disputeId);
    error DisputeOver(uint256 disputeId);
    error DisputeRootsEqual(bytes32 root);
    error DisputeNotParty(uint256 disputeId, address caller);
    error DisputeNotYourTurn(uint256 disputeId, address caller, Turn turn, Move expected);
    error DisputeWrongMove(uint256 disputeId, Move got, Move expected);
    error DisputeDeadlinePassed(uint256 disputeId, uint256 blockNumber, uint64 deadline);
    error DisputeDeadlineNotPassed(uint256 disputeId, uint256 blockNumber, uint64 deadline);
    error ProofInvalid(uint256 disputeId, Proof what, uint256 index);
    /// @notice A field of the rules a client opened a dispute with is out of range: `field` names it.
    error DisputeRulesInvalid(string field, uint256 value);
    /// @notice Only a contract can open a dispute: the ruling calls it back ({IDisputeClient.resolveDispute}).
    error DisputeClientNotContract(address caller);
    /// @notice `solver` and `challenger` must be two different, non-zero addresses.
    error DisputePartiesInvalid(address solver, address challenger);
    error StepRootsEqual(uint256 disputeId, bytes32 root);
    error ChunkLengthWrong(uint256 disputeId, uint256 got, uint256 want);
    error NotFirstDifference(uint256 disputeId, uint256 first);
    error ClaimCountWrong(uint256 disputeId, uint256 got, uint256 want);
    error ElementNotFinal(uint256 disputeId, bool halted, uint8 opcode, uint32 result, uint32 value);

    constructor(OneStepReferee referee, uint32 clock) {
        REFEREE = referee;
        CLOCK = clock;
    }

    // ---------------------------------------------------------------- opening

    /// @inheritdoc IDisputeResolver
    function openDispute(uint256 ref, Rules calldata rules, address solver, address challenger, bytes32 solverRoot, bytes32 challengerRoot)
        external
        returns (uint256 disputeId)
    {
        // The game descends trees of steps + 1 leaves in 48-bit fields: 2^32 steps is far beyond any program.
        if (msg.sender.code.length == 0) revert DisputeClientNotContract(msg.sender);
        if (rules.steps == 0 || rules.steps >= 2 ** 32) revert DisputeRulesInvalid("steps", rules.steps);
        if (solver == address(0) || challenger == address(0) || solver == challenger) revert DisputePartiesInvalid(solver, challenger);
        if (solverRoot == challengerRoot) revert DisputeRootsEqual(solverRoot);
        disputeId = ++disputeCount;
        Dispute storage d = _disputes[disputeId];
        d.client = msg.sender;
        d.ref = ref;
        d.h0 = rules.h0;
        d.factsRoot = rules.factsRoot;
        d.factsSize = rules.factsSize;
        d.steps = rules.steps;
        d.solver = solver;
        d.challenger = challenger;
        d.solverRoot = solverRoot;
        d.challengerRoot = challengerRoot;
        // The run level (run-level.ts runStart): the descent of both run trees (steps + 1 leaves), the solver first.
        d.phase = Phase.Bisect;
        d.turn = Turn.Solver;
        d.n = uint48(rules.steps + 1);
        d.nodeSolver = solverRoot;
        d.nodeChallenger = challengerRoot;
        d.clockSolver = CLOCK;
        d.clockChallenger = CLOCK;
        d.deadline = uint40(block.number + CLOCK);
        emit DisputeOpened(disputeId, msg.sender, ref, solver, challenger, d.deadline);
    }

    function getDispute(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @notice The move kind the dispute waits for (transition.ts expectedMove; Timeout once it is over).
    function expectedMove(uint256 disputeId) external view returns (Move) {
        return _expected(_disputes[disputeId]);
    }

    // ---------------------------------------------------------------- step level (step-level.ts)

    /**
     * @notice A party's step root, bound to its h_t (`run.h`, the preimage of its run-tree leaf t on which the run
     * descent ended) by the path of the last leaf. The solver's move also opens h_{t-1} in its own run tree
     * (`run.prev`, `run.prevProof`: leaf t-1, the same in both trees) and proves the step fact (the step tree's leaf
     * count and the batch commitment) and stores it with the step context's hash; the challenger's reads them, so its
     * `fact`, `run.prev` and `run.prevProof` are ignored (send them empty) and it sends the stored step context
     * (`context`, abi.encode(StepContext)), to which its own h_t and step root are added.
     */
    function commitStep(uint256 disputeId, bytes32 root, bytes32[] calldata proof, StepFact calldata fact, RunOpening calldata run, bytes calldata context)
        external
    {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.CommitStep);
        if (Commitments.leafOfWord(run.h) != (bySolver ? d.nodeSolver : d.nodeChallenger)) revert ProofInvalid(disputeId, Proof.RunCur, d.t);
        uint64 size;
        if (bySolver) {
            _checkFact(
                d, disputeId, abi.encode(uint8(1), d.t, fact.leafCount, fact.stateLeafCount, fact.batchCommitment), fact.index, fact.path, Proof.StepFact
            );
            size = fact.leafCount;
        } else {
            size = d.leafCount;
        }
        if (size == 0 || !Commitments.opensInPlace(Commitments.leafOfWord(run.h), size - 1, size, proof, root)) revert ProofInvalid(disputeId, Proof.StepLeaf, size);
        if (bySolver) {
            if (!Commitments.opensInPlace(Commitments.leafOfWord(run.prev), d.t - 1, d.steps + 1, run.prevProof, d.solverRoot)) {
                revert ProofInvalid(disputeId, Proof.RunPrev, d.t - 1);
            }
            d.stepContext = keccak256(abi.encode(StepContext(run.prev, run.h, 0, root, 0, fact.batchCommitment)));
            d.leafCount = uint32(size);
            d.stateLeafCount = uint32(fact.stateLeafCount);
            d.turn = Turn.Challenger;
        } else {
            StepContext memory c = _context(d, disputeId, context);
            if (root == c.stepRootSolver) revert StepRootsEqual(disputeId, root);
            (c.hChallenger, c.stepRootChallenger) = (run.h, root);
            d.stepContext = keccak256(abi.encode(c));
            d.phase = Phase.Bisect;
            d.turn = Turn.Solver;
            d.lo = 0;
            d.n = uint48(size);
            d.nodeSolver = c.stepRootSolver;
            d.nodeChallenger = root;
        }
        _end(d, disputeId, Move.CommitStep);
    }

    // ---------------------------------------------------------------- state level (referee.ts ruleState)

    /**
     * @notice The correct leaf lo of the state tree of h_t, by either party, once the descent of the two state trees
     * ended there (every op output agrees, h_t does not). Leaf 0, the header: `optStep` of h_{t-1} and `proof` the
     * path of its header in h_{t-1}; the correct leaf is (t, optStep + 1) (`commitment` and `fact` are ignored).
     * Leaf j >= 1: the state fact of (t, j) names state output j-1 and its source, and `commitment` is proven by
     * `proof` against it: an op's leaf in the step tree (agreed left of leaf N, so either root), a leaf of h_{t-1}, or
     * the fact's constant; the correct leaf is namedLeaf(name, commitment). Rules against every party whose leaf differs.
     */
    function proveState(uint256 disputeId, uint64 optStep, bytes32 commitment, bytes32[] calldata proof, StateFact calldata fact, StepContext calldata context)
        external
    {
        (Dispute storage d,) = _begin(disputeId, Move.ProveState);
        _checkContext(d, disputeId, context);
        bytes32 correct = _correctStateLeaf(d, disputeId, optStep, commitment, proof, fact, context);
        bool solverRight = correct == d.nodeSolver;
        bool challengerRight = correct == d.nodeChallenger;
        OneStepReferee.Loser loser = !solverRight && !challengerRight
            ? OneStepReferee.Loser.Both
            : solverRight ? OneStepReferee.Loser.Challenger : OneStepReferee.Loser.Solver;
        d.turn = Turn.None;
        _end(d, disputeId, Move.ProveState);
        _finish(d, disputeId, loser, At.State);
    }

    /// @dev referee.ts ruleState's correct leaf lo of h_t, from the prover's opening (see {proveState}).
    function _correctStateLeaf(
        Dispute storage d,
        uint256 disputeId,
        uint64 optStep,
        bytes32 commitment,
        bytes32[] calldata proof,
        StateFact calldata fact,
        StepContext calldata c
    ) private view returns (bytes32) {
        uint64 j = d.lo;
        if (j == 0) {
            if (!Commitments.opensInPlace(Commitments.headerLeaf(d.t - 1, optStep), 0, d.stateLeafCount, proof, c.hPrev)) {
                revert ProofInvalid(disputeId, Proof.StateHeader, optStep);
            }
            return Commitments.headerLeaf(d.t, optStep + 1);
        }
        _checkFact(
            d, disputeId, abi.encode(uint8(3), d.t, j, fact.sourceKind, fact.sourceIndex, fact.constantCommitment, fact.name), fact.index, fact.path, Proof.StateFact
        );
        if (!_stateSourceOpens(d, c, fact, commitment, proof)) revert ProofInvalid(disputeId, Proof.StateSource, j);
        return Commitments.namedLeaf(fact.name, commitment);
    }

    /// @dev referee.ts sourceOpens for a state output's source.
    function _stateSourceOpens(Dispute storage d, StepContext calldata c, StateFact calldata fact, bytes32 commitment, bytes32[] calldata proof)
        private
        view
        returns (bool)
    {
        OneStepReferee.Source source = OneStepReferee.Source(fact.sourceKind);
        if (source == OneStepReferee.Source.Op) {
            bytes32 leaf = Commitments.leafOfWord(commitment);
            uint64 size = d.leafCount;
            return Commitments.opensInPlace(leaf, fact.sourceIndex, size, proof, c.stepRootSolver)
                || Commitments.opensInPlace(leaf, fact.sourceIndex, size, proof, c.stepRootChallenger);
        }
        // A tensor carried over keeps its name (jobFacts checks it), so its leaf in h_{t-1} is named like its leaf in h_t.
        if (source == OneStepReferee.Source.State) {
            return Commitments.opensInPlace(Commitments.namedLeaf(fact.name, commitment), fact.sourceIndex, d.stateLeafCount, proof, c.hPrev);
        }
        if (source == OneStepReferee.Source.Constant) return commitment == fact.constantCommitment;
        // A state tensor is never a batch tensor: jobFacts never posts that fact.
        return false;
    }

    // ---------------------------------------------------------------- descent (descend.ts)

    /**
     * @notice The frontier of the mover's disputed node {DESCENT_DEPTH} levels down (descend.ts frontier: the RFC 6962
     * subtrees left to right, a leaf stopping early). The solver's is kept as its hash chain ({_chain}); the
     * challenger's move names the first node where they differ (`first`) with the solver's node there and the chain of
     * the solver's nodes after it (the solver sends 0, 0, 0), and the game goes to that node. `context` is the step
     * context (abi.encode(StepContext)) when that node is leaf N of the step tree (the state level starts from both
     * h_t), else empty.
     */
    function reveal(uint256 disputeId, bytes32[] calldata nodes, uint256 first, bytes32 solverNode, bytes32 solverRest, bytes calldata context)
        external
    {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.Reveal);
        (uint64 offset, uint64 size) = _checkFrontier(d, disputeId, nodes, bySolver ? type(uint256).max : first, bySolver);
        if (bySolver) {
            d.pending = _chain(nodes);
            d.turn = Turn.Challenger;
        } else {
            _checkSolverHalf(d, disputeId, nodes, first, solverNode, solverRest);
            d.lo += uint48(offset);
            d.n = uint48(size);
            d.nodeSolver = solverNode;
            d.nodeChallenger = nodes[first];
            d.turn = Turn.Solver;
            if (size == 1) _revealedLeaf(d, disputeId, context);
        }
        _end(d, disputeId, Move.Reveal);
        // The run descent ended on leaf 0: the parties disagree on h_0, and the job's h_0 decides (run-level.ts atRunLeaf).
        if (d.level == Level.Run && d.n == 1) _ruleInitial(d, disputeId);
    }

    /// @dev The mover's frontier folds to its node; for the challenger, `target` (its first difference) is a frontier node, whose leaves it returns.
    function _checkFrontier(Dispute storage d, uint256 disputeId, bytes32[] calldata nodes, uint256 target, bool bySolver)
        private
        view
        returns (uint64 offset, uint64 size)
    {
        uint256 used;
        bytes32 root;
        (root, used, offset, size) = _fold(nodes, d.n, target);
        if (used != nodes.length || root != (bySolver ? d.nodeSolver : d.nodeChallenger)) revert ProofInvalid(disputeId, Proof.Frontier, d.lo);
        if (!bySolver && target >= used) revert NotFirstDifference(disputeId, target);
    }

    /// @dev The descent reached one leaf: leaf N of the step tree (only h_t differs) reads the step context; any other goes to {_atLeaf}.
    function _revealedLeaf(Dispute storage d, uint256 disputeId, bytes calldata context) private {
        if (d.level == Level.Step && d.lo == d.leafCount - 1) _toStateLevel(d, _context(d, disputeId, context));
        else _atLeaf(d);
    }

    /// @dev Leaf 0 of the run trees against the program's h_0: whoever's leaf differs loses (both, if both do).
    function _ruleInitial(Dispute storage d, uint256 disputeId) private {
        bytes32 h0 = Commitments.leafOfWord(d.h0);
        bool solverRight = d.nodeSolver == h0;
        bool challengerRight = d.nodeChallenger == h0;
        OneStepReferee.Loser loser = solverRight
            ? OneStepReferee.Loser.Challenger
            : challengerRight ? OneStepReferee.Loser.Solver : OneStepReferee.Loser.Both;
        d.turn = Turn.None;
        _finish(d, disputeId, loser, At.Initial);
    }

    // ---------------------------------------------------------------- op level (op-level.ts)

    /// @notice The mover's chunk root of op's output: SHA-256(dtype, shape, root) must be its disputed leaf's preimage.
    function commitOp(uint256 disputeId, bytes32 chunkRoot, OpFact calldata fact) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.CommitOp);
        _checkFact(d, disputeId, abi.encode(uint8(2), d.t, d.op, fact.dtype, fact.shape, fact.opRule), fact.index, fact.path, Proof.OpFact);
        bytes32 leaf = Commitments.leafOfWord(Commitments.tensorCommitment(fact.dtype, fact.shape, chunkRoot));
        if (leaf != (bySolver ? d.nodeSolver : d.nodeChallenger)) revert ProofInvalid(disputeId, Proof.ChunkRoot, d.op);
        if (bySolver) {
            d.pending = chunkRoot;
            d.opRule = fact.opRule;
            d.turn = Turn.Challenger;
        } else {
            uint256 size = 1;
            for (uint256 i = 0; i < fact.shape.length; ++i) size *= fact.shape[i];
            uint256 chunks = (size + CHUNK_ELEMENTS - 1) / CHUNK_ELEMENTS;
            d.opSize = uint64(size);
            d.phase = Phase.Bisect;
            d.turn = Turn.Solver;
            d.lo = 0;
            d.n = uint48(chunks == 0 ? 1 : chunks);
            d.nodeSolver = d.pending;
            d.nodeChallenger = chunkRoot;
            if (d.n == 1) _atLeaf(d);
        }
        _end(d, disputeId, Move.CommitOp);
    }

    /**
     * @notice The mover's chunk lo (little-endian words). The solver's is kept as the hash chain ({_chain}) of its
     * 32-byte groups (8 words, the last one zero-padded); the challenger's move names the first word where they differ
     * (`first`), the solver's group holding it and the chain of the solver's groups after it (the solver sends 0, 0,
     * 0), instead of the whole solver chunk. That word is the disputed element.
     */
    function openChunk(uint256 disputeId, bytes calldata chunk, uint256 first, bytes32 solverGroup, bytes32 solverRest) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.OpenChunk);
        uint256 words = d.opSize - d.lo * CHUNK_ELEMENTS;
        if (words > CHUNK_ELEMENTS) words = CHUNK_ELEMENTS;
        if (chunk.length != words * 4) revert ChunkLengthWrong(disputeId, chunk.length, words * 4);
        if (Commitments.leaf(chunk) != (bySolver ? d.nodeSolver : d.nodeChallenger)) revert ProofInvalid(disputeId, Proof.Chunk, d.lo);
        if (bySolver) {
            bytes32 c;
            for (uint256 g = (chunk.length + 31) / 32; g > 0; --g) c = _link(_group(chunk, g - 1), c);
            d.pending = c;
            d.turn = Turn.Challenger;
        } else {
            if (first >= words) revert NotFirstDifference(disputeId, first);
            uint256 g = first / 8;
            bytes32 c = _link(solverGroup, solverRest);
            for (uint256 h = g; h > 0; --h) c = _link(_group(chunk, h - 1), c);
            if (c != d.pending) revert ProofInvalid(disputeId, Proof.SolverChunk, d.lo);
            // Within the group: the words before `first` agree, the word at `first` does not.
            uint256 bits = (first % 8) * 32;
            bytes32 mine = _group(chunk, g);
            if (bits > 0 && (mine >> (256 - bits)) != (solverGroup >> (256 - bits))) revert NotFirstDifference(disputeId, first);
            uint32 theirs = uint32(bytes4(solverGroup << bits));
            uint32 own = uint32(bytes4(mine << bits));
            if (theirs == own) revert NotFirstDifference(disputeId, first);
            d.level = Level.Element;
            d.phase = Phase.Commit;
            d.turn = Turn.Solver;
            d.element = uint64(d.lo * CHUNK_ELEMENTS + first);
            d.valueSolver = Commitments.le32(theirs);
            d.valueChallenger = Commitments.le32(own);
            d.lo = 0;
            d.n = 0;
        }
        _end(d, disputeId, Move.OpenChunk);
    }

    /// @dev Bytes 32g .. 32g+31 of a chunk, zero-padded past its end.
    function _group(bytes calldata chunk, uint256 g) private pure returns (bytes32 out) {
        uint256 end = 32 * g + 32;
        if (end <= chunk.length) return bytes32(chunk[32 * g:end]);
        return bytes32(chunk[32 * g:]);
    }

    // ---------------------------------------------------------------- element level (element-level.ts)

    /**
     * @notice The mover's final machine state (encodeState's 137 bytes): halted, with its element word in the result
     * register of the halt instruction. `haltInstruction` is the op's element program's instruction at the final pc,
     * proven against the op rule by `program` (its path in the program tree and the rest of the rule's preimage).
     */
    function commitElement(uint256 disputeId, bytes calldata finalState, bytes8 haltInstruction, OneStepReferee.ProgramOpening calldata program)
        external
    {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.CommitElement);
        MachineStep.State memory s = MachineStep.decode(finalState);
        (bool ok, bytes32 programRoot) = Commitments.programRootFrom(haltInstruction, s.pc, program.programLength, program.instructionProof);
        if (!ok || Commitments.opRule(programRoot, program.programLength, program.inputCount, program.inputsRoot) != d.opRule) {
            revert ProofInvalid(disputeId, Proof.HaltInstruction, s.pc);
        }
        MachineStep.Instruction memory ins = MachineStep.decodeInstruction(haltInstruction);
        uint32 value = bySolver ? d.valueSolver : d.valueChallenger;
        if (!s.halted || ins.op != MachineStep.HALT || s.r[ins.a] != value) {
            revert ElementNotFinal(disputeId, s.halted, ins.op, s.r[ins.a], value);
        }
        bytes32 h = sha256(finalState);
        if (bySolver) {
            d.pending = h;
            d.n = s.steps;
            d.turn = Turn.Challenger;
        } else {
            uint64 n = d.n > s.steps ? d.n : s.steps;
            d.phase = Phase.Bisect;
            d.turn = Turn.Solver;
            d.lo = 0;
            d.n = uint48(n);
            d.agreed = _initialStateHash(d.element);
            d.nodeSolver = d.pending;
            d.nodeChallenger = h;
            if (n == 1) {
                d.phase = Phase.Prove;
                d.turn = Turn.Either;
            }
        }
        _end(d, disputeId, Move.CommitElement);
    }

    /**
     * @notice The mover's machine-state hashes after lo + floor(j·n/m) instructions, j = 1..m-1, m = min(n,
     * 2^DESCENT_DEPTH) (element-level.ts claimOffsets). The solver's are kept as their hash chain; the challenger's move
     * names the first claim where they differ (`first`, m-1 when they agree on all) with the solver's claim there and
     * the chain of the solver's claims after it (the solver sends 0, 0, 0), and the game keeps the part that ends there.
     */
    function claim(uint256 disputeId, bytes32[] calldata hashes, uint256 first, bytes32 solverHash, bytes32 solverRest) external {
        (Dispute storage d, bool bySolver) = _begin(disputeId, Move.Claim);
        uint64 n = d.n;
        uint256 m = n < (1 << DESCENT_DEPTH) ? n : (1 << DESCENT_DEPTH);
        if (hashes.length != m - 1) revert ClaimCountWrong(disputeId, hashes.length, m - 1);
        if (bySolver) {
            d.pending = _chain(hashes);
            d.turn = Turn.Challenger;
        } else {
            if (first > m - 1) revert NotFirstDifference(disputeId, first);
            if (first == m - 1) {
                if (_chain(hashes) != d.pending) revert ProofInvalid(disputeId, Proof.SolverHalf, first);
            } else {
                _checkSolverHalf(d, disputeId, hashes, first, solverHash, solverRest);
                d.nodeSolver = solverHash;
                d.nodeChallenger = hashes[first];
            }
            if (first > 0) d.agreed = hashes[first - 1];
            uint64 from = uint64((first * n) / m);
            uint64 to = uint64(((first + 1) * n) / m);
            d.lo += uint48(from);
            d.n = uint48(to - from);
            d.turn = Turn.Solver;
            if (to - from == 1) {
                d.phase = Phase.Prove;
                d.turn = Turn.Either;
            }
        }
        _end(d, disputeId, Move.Claim);
    }

    // ---------------------------------------------------------------- one step (referee.ts ruleInstruction)

    /**
     * @notice The one-step proof, by either party: {OneStepReferee.rule} on the stored position (agreed state, both
     * claims, h_{t-1}, both step roots, the step's batch commitment, the op rule) and the prover's pre-state,
     * instruction with its opening of the op rule, and load opening; then the client is told the winner.
     */
    function prove(
        uint256 disputeId,
        bytes calldata pre,
        bytes8 instruction,
        OneStepReferee.Load calldata load,
        OneStepReferee.ProgramOpening calldata program,
        StepContext calldata c
    ) external {
        (Dispute storage d,) = _begin(disputeId, Move.Prove);
        _checkContext(d, disputeId, c);
        OneStepReferee.Position memory p = OneStepReferee.Position({
            agreed: d.agreed,
            nodeSolver: d.nodeSolver,
            nodeChallenger: d.nodeChallenger,
            hPrev: c.hPrev,
            stepRootSolver: c.stepRootSolver,
            stepRootChallenger: c.stepRootChallenger,
            batchCommitment: c.batchCommitment
        });
        // A pure call to the immutable referee; it reverts on a proof that does not verify.
        (OneStepReferee.Loser loser,) = REFEREE.rule(pre, instruction, p, load, d.opRule, program);
        d.turn = Turn.None;
        _end(d, disputeId, Move.Prove);
        _finish(d, disputeId, loser, At.Instruction);
    }

    // ---------------------------------------------------------------- timeout (timeout.ts)

    /// @notice After the deadline block, anyone: the party to move loses (the solver when either may move).
    function timeout(uint256 disputeId) external {
        Dispute storage d = _disputes[disputeId];
        if (d.solver == address(0)) revert DisputeUnknown(disputeId);
        if (d.level == Level.Done) revert DisputeOver(disputeId);
        if (block.number <= d.deadline) revert DisputeDeadlineNotPassed(disputeId, block.number, d.deadline);
        _finish(d, disputeId, d.turn == Turn.Challenger ? OneStepReferee.Loser.Challenger : OneStepReferee.Loser.Solver, At.Timeout);
    }

    // ---------------------------------------------------------------- internals

    function _expected(Dispute storage d) private view returns (Move) {
        Level level = d.level;
        Phase phase = d.phase;
        if (level == Level.Done) return Move.Timeout;
        if (phase == Phase.Prove) return level == Level.State ? Move.ProveState : Move.Prove;
        if (phase == Phase.Bisect) return level == Level.Element ? Move.Claim : Move.Reveal;
        if (phase == Phase.Open) return Move.OpenChunk;
        return level == Level.Step ? Move.CommitStep : level == Level.Op ? Move.CommitOp : Move.CommitElement;
    }

    /// @dev transition.ts's checks, in its order: over, deadline, turn, move kind; then the chess clock of the turn under way keeps what is left of it.
    function _begin(uint256 disputeId, Move kind) private returns (Dispute storage d, bool bySolver) {
        d = _disputes[disputeId];
        if (d.solver == address(0)) revert DisputeUnknown(disputeId);
        if (d.level == Level.Done) revert DisputeOver(disputeId);
        if (block.number > d.deadline) revert DisputeDeadlinePassed(disputeId, block.number, d.deadline);
        bySolver = msg.sender == d.solver;
        if (!bySolver && msg.sender != d.challenger) revert DisputeNotParty(disputeId, msg.sender);
        Move expected = _expected(d);
        Turn turn = d.turn;
        if (turn != Turn.Either && (turn == Turn.Solver) != bySolver) revert DisputeNotYourTurn(disputeId, msg.sender, turn, expected);
        if (kind != expected) revert DisputeWrongMove(disputeId, kind, expected);
        uint32 left = uint32(d.deadline - block.number);
        if (turn == Turn.Challenger) d.clockChallenger = left;
        else d.clockSolver = left;
    }

    /// @dev transition.ts: a round is counted when the move hands the turn to anyone but the challenger; the party to move next has its clock.
    function _end(Dispute storage d, uint256 disputeId, Move kind) private {
        Turn turn = d.turn;
        if (turn != Turn.Challenger) d.round += 1;
        d.deadline = uint40(block.number + (turn == Turn.Challenger ? d.clockChallenger : d.clockSolver));
        emit Moved(disputeId, kind);
    }

    /// @dev Effects, then the one interaction: the client that opened the dispute is told the winner (the market pays it).
    function _finish(Dispute storage d, uint256 disputeId, OneStepReferee.Loser loser, At where) private {
        d.level = Level.Done;
        d.phase = Phase.Over;
        d.turn = Turn.None;
        d.loser = loser;
        d.ruledAt = where;
        // Nobody wins a "both" ruling: the market slashes both stakes.
        address winner = loser == OneStepReferee.Loser.Both ? address(0) : loser == OneStepReferee.Loser.Challenger ? d.solver : d.challenger;
        emit DisputeRuled(disputeId, d.ref, loser, where, winner);
        IDisputeClient(d.client).resolveDispute(disputeId, winner);
    }

    /// @dev descend.ts atLeaf.
    function _atLeaf(Dispute storage d) private {
        if (d.level == Level.Run) {
            // Leaf 0 is ruled by reveal ({_ruleInitial}); leaf t >= 1: h_{t-1} agreed, h_t not: play step t.
            if (d.lo > 0) {
                d.level = Level.Step;
                d.phase = Phase.Commit;
                d.t = d.lo;
            }
        } else if (d.level == Level.Op) {
            d.phase = Phase.Open;
            d.turn = Turn.Solver;
        } else if (d.level == Level.State) {
            d.phase = Phase.Prove;
            d.turn = Turn.Either;
        } else {
            // A step-tree leaf below N (leaf N, where only h_t differs, goes to {_toStateLevel}).
            d.level = Level.Op;
            d.phase = Phase.Commit;
            d.op = uint32(d.lo);
            d.turn = Turn.Solver;
        }
    }

    /// @dev Every op output agrees and h_t does not: descend the two state trees of h_t (Decisions 5).
    function _toStateLevel(Dispute storage d, StepContext memory c) private {
        d.level = Level.State;
        d.phase = Phase.Bisect;
        d.turn = Turn.Solver;
        d.lo = 0;
        d.n = d.stateLeafCount;
        d.nodeSolver = c.hSolver;
        d.nodeChallenger = c.hChallenger;
        if (d.n == 1) _atLeaf(d);
    }

    /// @dev The step context prove or proveState sent, checked against the stored hash.
    function _checkContext(Dispute storage d, uint256 disputeId, StepContext calldata c) private view {
        if (keccak256(abi.encode(c)) != d.stepContext) revert ProofInvalid(disputeId, Proof.StepContext, d.t);
    }

    /// @dev The step context commitStep or reveal sent (abi.encode(StepContext)), checked against the stored hash.
    function _context(Dispute storage d, uint256 disputeId, bytes calldata context) private view returns (StepContext memory c) {
        if (context.length != 192 || keccak256(context) != d.stepContext) revert ProofInvalid(disputeId, Proof.StepContext, d.t);
        c = abi.decode(context, (StepContext));
    }

    /**
     * @dev The solver's half of an exchange as one word: c_0 of c_j = keccak256(h_j, c_{j+1}), c_len = 0. The
     * challenger then proves "the solver's list equals mine before `first` and holds `node` there" with two words
     * ({_checkSolverHalf}) instead of sending the list again.
     */
    function _chain(bytes32[] calldata hs) private pure returns (bytes32 c) {
        assembly ("memory-safe") {
            for { let j := hs.length } j { j := sub(j, 1) } {
                mstore(0x00, calldataload(add(hs.offset, shl(5, sub(j, 1)))))
                mstore(0x20, c)
                c := keccak256(0x00, 0x40)
            }
        }
    }

    /// @dev The stored chain is that of mine[0..first) ++ [node] ++ (the list whose chain is `rest`), and node differs from mine[first].
    function _checkSolverHalf(Dispute storage d, uint256 disputeId, bytes32[] calldata mine, uint256 first, bytes32 node, bytes32 rest) private view {
        if (node == mine[first]) revert NotFirstDifference(disputeId, first);
        bytes32 c = _link(node, rest);
        assembly ("memory-safe") {
            for { let j := first } j { j := sub(j, 1) } {
                mstore(0x00, calldataload(add(mine.offset, shl(5, sub(j, 1)))))
                mstore(0x20, c)
                c := keccak256(0x00, 0x40)
            }
        }
        if (c != d.pending) revert ProofInvalid(disputeId, Proof.SolverHalf, first);
    }

    /// @dev keccak256(abi.encodePacked(h, c)) in scratch space: run up to 2^DESCENT_DEPTH times a move.
    function _link(bytes32 h, bytes32 c) private pure returns (bytes32 out) {
        assembly ("memory-safe") {
            mstore(0x00, h)
            mstore(0x20, c)
            out := keccak256(0x00, 0x40)
        }
    }

    /// @dev state.ts stateHashOf(initialState(element)): pc, steps and halted 0, the output index in r0 (INDEX_REGISTER).
    function _initialStateHash(uint64 element) private pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes9(0), uint32(element), bytes31(0), bytes31(0), bytes31(0), bytes31(0)));
    }

    /**
     * @dev descend.ts nodeOfFrontier and frontier(n)[target] in one pass: the node over n leaves that the frontier
     * `nodes` ({DESCENT_DEPTH} levels down) folds to, how many frontier nodes that read, and the leaves (offset, size)
     * under frontier node `target` (0, 0 when there is none). Recursive Yul over calldata, hashing in scratch memory
     * past the free memory pointer (nothing is allocated): the same recursion in Solidity, with a second one for the
     * part, cost ~20k gas more a reveal.
     */
    function _fold(bytes32[] calldata nodes, uint64 n, uint256 target)
        private
        view
        returns (bytes32 root, uint256 used, uint64 offset, uint64 size)
    {
        uint256 depth = DESCENT_DEPTH;
        assembly ("memory-safe") {
            // The largest power of two below x > 1 (RFC 6962's split): the highest bit of x - 1.
            function split(x) -> k {
                let y := sub(x, 1)
                y := or(y, shr(1, y))
                y := or(y, shr(2, y))
                y := or(y, shr(4, y))
                y := or(y, shr(8, y))
                y := or(y, shr(16, y))
                y := or(y, shr(32, y))
                k := add(shr(1, y), 1)
            }
            // The node over m leaves at `off`, from frontier node `from` on; mem: 65 bytes to hash in, then (offset, size) of the target.
            function fold(from, off, m, d, base, len, want, mem) -> h, next {
                if or(eq(m, 1), iszero(d)) {
                    if lt(from, len) { h := calldataload(add(base, shl(5, from))) }
                    if eq(from, want) {
                        mstore(add(mem, 0x60), off)
                        mstore(add(mem, 0x80), m)
                    }
                    next := add(from, 1)
                    leave
                }
                let k := split(m)
                let left, mid := fold(from, off, k, sub(d, 1), base, len, want, mem)
                let right, end := fold(mid, add(off, k), sub(m, k), sub(d, 1), base, len, want, mem)
                mstore8(mem, 0x01)
                mstore(add(mem, 1), left)
                mstore(add(mem, 33), right)
                if iszero(staticcall(gas(), 0x02, mem, 65, 0x00, 0x20)) { revert(0, 0) }
                h := mload(0x00)
                next := end
            }
            let mem := mload(0x40)
            mstore(add(mem, 0x60), 0)
            mstore(add(mem, 0x80), 0)
            root, used := fold(0, 0, n, depth, nodes.offset, nodes.length, target, mem)
            offset := mload(add(mem, 0x60))
            size := mload(add(mem, 0x80))
        }
    }

    function _checkFact(Dispute storage d, uint256 disputeId, bytes memory data, uint64 index, bytes32[] calldata path, Proof what)
        private
        view
    {
        (bool ok, bytes32 root) = Commitments.rootFromProofInPlace(sha256(abi.encodePacked(bytes1(0x00), data)), index, d.factsSize, path);
        if (!ok || root != d.factsRoot) revert ProofInvalid(disputeId, what, index);
    }

}
