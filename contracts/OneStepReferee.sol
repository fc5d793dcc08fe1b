// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MachineStep} from "./MachineStep.sol";
import {Commitments} from "./Commitments.sol";

/**
 * @title OneStepReferee: the contract side of src/verify/referee.ts `ruleInstruction`
 * @notice Rules on the one step the dispute game narrowed a run down to: it checks that the pre-state is the agreed
 * machine state, opens a `load`'s word (1 KiB chunk -> chunk root by an RFC 6962 path -> tensor commitment
 * SHA-256(u32 LE dtype, rank, dims, chunk root) -> the input's source tree by a second RFC 6962 path), executes the
 * one instruction with {MachineStep}, and compares the resulting state hash with both parties' claims. The loser is
 * every party whose claim differs (`Both` when neither matches), as the TypeScript referee rules.
 *
 * Stateless: every fact the TypeScript referee reads from the game position and the step program arrives as an
 * argument. A dispute resolver must take `Position` from its stored game state, and the instruction and the load's
 * input descriptor (dtype, shape, source kind, leaf, leaf count, name, constant commitment) from a committed step
 * program; this contract cannot tell whether a caller's instruction or input descriptor is the program's.
 */
contract OneStepReferee {
    using MachineStep for MachineStep.State;

    enum Loser { Solver, Challenger, Both }

    /// @notice Where a load's input tensor comes from (structure.ts InputSource).
    enum Source { Op, State, Batch, Constant }

    /// @notice The game facts referee.ts reads from its Position (and Rules.batchCommitment(t)).
    struct Position {
        bytes32 agreed;
        bytes32 nodeSolver;
        bytes32 nodeChallenger;
        bytes32 hPrev;
        bytes32 stepRootSolver;
        bytes32 stepRootChallenger;
        bytes32 batchCommitment;
    }

    /**
     * @notice A load's input (from the step program) and its opening (from the prover's move).
     * `leafCount` is the source tree's size: stepLeafCount (ops + 1) for Op, stateLeafCount for State (Batch is
     * always 3). `name` is the state/batch tensor name of its named leaf; `constantCommitment` is used for Constant.
     * `chunk` is the little-endian words of the chunk holding the address (the last chunk may be shorter).
     */
    struct Load {
        uint32 dtype;
        uint32[] shape;
        Source source;
        uint64 leaf;
        uint64 leafCount;
        bytes name;
        bytes32 constantCommitment;
        bytes chunk;
        bytes32[] chunkProof;
        bytes32[] sourceProof;
    }

    /// @notice The pre-state's hash is not the agreed state hash (TS: InvalidProofError).
    error RefereeStateNotAgreed(bytes32 got, bytes32 agreed);
    /// @notice The load address is outside the input tensor (TS: MalformedMoveError).
    error RefereeLoadOutOfRange(int256 addr, uint256 size);
    /// @notice The chunk has the wrong number of bytes for its position in the tensor (TS: MalformedMoveError).
    error RefereeBadChunkLength(uint256 got, uint256 want);
    /// @notice The chunk is not chunk `index` of any chunk tree its path leads to (TS: InvalidProofError).
    error RefereeChunkNotInTree(uint256 index);
    /// @notice The rebuilt tensor commitment is not the input's source's (TS: InvalidProofError).
    error RefereeSourceNotProven(Source source, bytes32 commitment);

    /// @notice One ruling: the loser, the executed opcode and the resulting state hash.
    event Ruled(bytes32 indexed agreed, uint8 opcode, Loser loser, bytes32 post);

    uint256 internal constant CHUNK_ELEMENTS = 256;

    /**
     * @notice Rules on one instruction. `pre` is encodeState's 137 bytes of the agreed state; `instruction` the 8
     * bytes of the element program's instruction at pre.pc; `load` is read only for a `load` from a state that is
     * not halted (pass an empty one otherwise).
     * @return loser Solver, Challenger or Both.
     * @return post stateHashOf of the state after the instruction.
     */
    function rule(bytes calldata pre, bytes8 instruction, Position calldata pos, Load calldata load)
        public
        pure
        returns (Loser loser, bytes32 post)
    {
        bytes32 preHash = sha256(pre);
        if (preHash != pos.agreed) revert RefereeStateNotAgreed(preHash, pos.agreed);
        MachineStep.State memory s = MachineStep.decode(pre);
        uint32 loaded;
        MachineStep.Instruction memory ins;
        if (!s.halted) {
            ins = MachineStep.decodeInstruction(instruction);
            if (ins.op == MachineStep.LOAD) loaded = _openWord(pos, load, int32(s.r[ins.a]), ins.imm);
            s.execute(ins, loaded);
        }
        post = s.hash();
        bool solverRight = post == pos.nodeSolver;
        bool challengerRight = post == pos.nodeChallenger;
        loser = solverRight ? Loser.Challenger : challengerRight ? Loser.Solver : Loser.Both;
    }

    /// @notice {rule} as a transaction that records the ruling in a {Ruled} event.
    function ruleAndEmit(bytes calldata pre, bytes8 instruction, Position calldata pos, Load calldata load)
        external
        returns (Loser loser, bytes32 post)
    {
        (loser, post) = rule(pre, instruction, pos, load);
        emit Ruled(pos.agreed, uint8(bytes1(instruction)), loser, post);
    }

    // ------------------------------------------------------------------ load opening (referee.ts openWord)

    function _openWord(Position calldata pos, Load calldata load, int32 base, uint32 imm) private pure returns (uint32) {
        uint256 size = 1;
        for (uint256 i = 0; i < load.shape.length; ++i) size *= load.shape[i];
        int256 addr;
        unchecked {
            addr = int256(int32(base + int32(imm))); // int32 wrapping add, as (a + imm) | 0
        }
        if (addr < 0 || uint256(addr) >= size) revert RefereeLoadOutOfRange(addr, size);
        uint256 chunk = uint256(addr) / CHUNK_ELEMENTS;
        uint256 words = size - chunk * CHUNK_ELEMENTS;
        if (words > CHUNK_ELEMENTS) words = CHUNK_ELEMENTS;
        if (load.chunk.length != words * 4) revert RefereeBadChunkLength(load.chunk.length, words * 4);

        uint256 chunks = (size + CHUNK_ELEMENTS - 1) / CHUNK_ELEMENTS;
        (bool ok, bytes32 chunkRoot) =
            Commitments.rootFromProof(Commitments.leaf(load.chunk), chunk, chunks, load.chunkProof);
        if (!ok) revert RefereeChunkNotInTree(chunk);
        bytes32 commitment = Commitments.tensorCommitment(load.dtype, load.shape, chunkRoot);
        if (!_sourceOpens(pos, load, commitment)) revert RefereeSourceNotProven(load.source, commitment);

        uint256 offset = (uint256(addr) - chunk * CHUNK_ELEMENTS) * 4;
        bytes4 be = bytes4(load.chunk[offset:offset + 4]);
        return Commitments.le32(uint32(be));
    }

    function _sourceOpens(Position calldata pos, Load calldata load, bytes32 commitment) private pure returns (bool) {
        Source source = load.source;
        if (source == Source.Constant) return commitment == load.constantCommitment;
        bool ok;
        bytes32 root;
        if (source == Source.Op) {
            // Left of the first differing step-tree leaf, so the same in both trees: either root will do.
            (ok, root) = Commitments.rootFromProof(Commitments.leaf(abi.encodePacked(commitment)), load.leaf, load.leafCount, load.sourceProof);
            return ok && (root == pos.stepRootSolver || root == pos.stepRootChallenger);
        }
        bytes32 leaf = Commitments.namedLeaf(load.name, commitment);
        if (source == Source.State) {
            (ok, root) = Commitments.rootFromProof(leaf, load.leaf, load.leafCount, load.sourceProof);
            return ok && root == pos.hPrev;
        }
        (ok, root) = Commitments.rootFromProof(leaf, load.leaf, 3, load.sourceProof);
        return ok && root == pos.batchCommitment;
    }

}
