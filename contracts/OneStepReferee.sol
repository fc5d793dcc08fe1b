// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MachineStep} from "./MachineStep.sol";
import {Commitments} from "./Commitments.sol";

/**
 * @title OneStepReferee: the contract side of src/verify/referee.ts `ruleInstruction`
 * @notice Rules on the one step the dispute game narrowed a run down to: it checks that the pre-state is the agreed
 * machine state, opens a `load`'s word (256-byte chunk -> chunk root by an RFC 6962 path -> tensor commitment
 * SHA-256(u32 LE dtype, rank, dims, chunk root) -> the input's source tree by a second RFC 6962 path), executes the
 * one instruction with {MachineStep}, and compares the resulting state hash with both parties' claims. The loser is
 * every party whose claim differs (`Both` when neither matches), as the TypeScript referee rules.
 *
 * Stateless: every fact the TypeScript referee reads from the game position arrives as an argument; a dispute
 * resolver takes `Position` and the op's rule from its stored game state. The op rule (src/verify/game/op-rule.ts)
 * commits the op's one element program and its inputs: SHA-256(programRoot || u32 programLength || u32 inputCount ||
 * inputsRoot), where programRoot is the RFC 6962 root over the program's 8-byte instructions and inputsRoot the root
 * over each input's descriptor (the first seven fields of {Load}). The prover opens it ({ProgramOpening}): the
 * instruction at pre.pc by its path to programRoot, and a load's descriptor by its path to inputsRoot; the roots are
 * rebuilt from the paths, not sent, since calldata is most of what a one-step costs.
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
     * @notice A load's input and its opening. `descriptor` is the input as the op rule commits it (op-rule.ts
     * encodeDescriptor, big-endian, packed since calldata is most of what a one-step costs): u32 dtype, u8 source
     * ({Source}), u64 leaf, u64 leafCount, bytes32 constant commitment, u32 rank, u32 dims, u32 name length, name.
     * leafCount is the source tree's size: stepLeafCount (ops + 1) for Op, stateLeafCount for State (Batch is always
     * 3); name is the state/batch tensor name of its named leaf; the constant commitment is read for Constant.
     * `chunk` is the little-endian words of the chunk holding the address (the last chunk may be shorter).
     */
    struct Load {
        bytes descriptor;
        bytes chunk;
        bytes32[] chunkProof;
        bytes32[] sourceProof;
    }

    /**
     * @notice The op rule's preimage, less what the paths rebuild: `instructionProof` leads the instruction at pre.pc
     * to the program root; for a load, `inputProof` leads the loaded input's descriptor to the inputs root, and
     * `inputsRoot` is unread (otherwise `inputProof` is empty and `inputsRoot` is sent).
     */
    struct ProgramOpening {
        uint32 programLength;
        uint32 inputCount;
        bytes32 inputsRoot;
        bytes32[] instructionProof;
        bytes32[] inputProof;
    }

    /**
     * @notice The instruction at `pc` (and a load's input descriptor) with the opening lead to op rule `got`, not the
     * committed one (`got` is 0 when a path has the wrong length for its tree) (TS: InvalidProofError).
     */
    error RefereeOpRuleMismatch(uint32 pc, bytes32 got, bytes32 committed);
    /// @notice The pre-state's hash is not the agreed state hash (TS: InvalidProofError).
    error RefereeStateNotAgreed(bytes32 got, bytes32 agreed);
    /// @notice The load's descriptor is not an encodeDescriptor (too short, fields past its end, or an unknown source).
    error RefereeBadDescriptor(uint256 length);
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

    uint256 internal constant CHUNK_ELEMENTS = 64;

    /**
     * @notice Rules on one instruction. `pre` is encodeState's 137 bytes of the agreed state; `instruction` the 8
     * bytes of the op's element program at pre.pc, checked with `program` against `opRule`, the op's committed rule;
     * `load` is read only for a `load` from a state that is not halted (pass an empty one otherwise).
     * @return loser Solver, Challenger or Both.
     * @return post stateHashOf of the state after the instruction.
     */
    function rule(
        bytes calldata pre,
        bytes8 instruction,
        Position calldata pos,
        Load calldata load,
        bytes32 opRule,
        ProgramOpening calldata program
    ) public view returns (Loser loser, bytes32 post) {
        MachineStep.State memory s = _agreedState(pre, pos);
        if (!s.halted) _checkRule(opRule, program, s.pc, instruction, load);
        return _execute(s, instruction, pos, load);
    }

    /// @notice {rule} as a transaction that records the ruling in a {Ruled} event.
    function ruleAndEmit(
        bytes calldata pre,
        bytes8 instruction,
        Position calldata pos,
        Load calldata load,
        bytes32 opRule,
        ProgramOpening calldata program
    ) external returns (Loser loser, bytes32 post) {
        (loser, post) = rule(pre, instruction, pos, load, opRule, program);
        emit Ruled(pos.agreed, uint8(bytes1(instruction)), loser, post);
    }

    function _agreedState(bytes calldata pre, Position calldata pos) private pure returns (MachineStep.State memory) {
        bytes32 preHash = sha256(pre);
        if (preHash != pos.agreed) revert RefereeStateNotAgreed(preHash, pos.agreed);
        return MachineStep.decode(pre);
    }

    function _execute(MachineStep.State memory s, bytes8 instruction, Position calldata pos, Load calldata load)
        private
        view
        returns (Loser loser, bytes32 post)
    {
        if (!s.halted) {
            MachineStep.Instruction memory ins = MachineStep.decodeInstruction(instruction);
            uint32 loaded;
            if (ins.op == MachineStep.LOAD) loaded = _openWord(pos, load, int32(s.r[ins.a]), ins.imm);
            s.execute(ins, loaded);
        }
        post = s.hash();
        bool solverRight = post == pos.nodeSolver;
        bool challengerRight = post == pos.nodeChallenger;
        loser = solverRight ? Loser.Challenger : challengerRight ? Loser.Solver : Loser.Both;
    }

    // ------------------------------------------------------------------ the op rule (op-rule.ts ruleMismatch)

    function _checkRule(bytes32 opRule, ProgramOpening calldata program, uint32 pc, bytes8 instruction, Load calldata load)
        private
        view
    {
        (bool ok, bytes32 programRoot) =
            Commitments.rootFromProofInPlace(Commitments.leaf(abi.encodePacked(instruction)), pc, program.programLength, program.instructionProof);
        bytes32 inputsRoot = program.inputsRoot;
        if (ok && uint8(bytes1(instruction)) == MachineStep.LOAD) {
            uint8 input = uint8(uint64(instruction) >> 32);
            (ok, inputsRoot) = Commitments.rootFromProofInPlace(Commitments.leafInPlace(load.descriptor), input, program.inputCount, program.inputProof);
        }
        bytes32 got = ok ? Commitments.opRule(programRoot, program.programLength, program.inputCount, inputsRoot) : bytes32(0);
        if (got != opRule) revert RefereeOpRuleMismatch(pc, got, opRule);
    }

    // ------------------------------------------------------------------ load opening (referee.ts openWord)

    function _openWord(Position calldata pos, Load calldata load, int32 base, uint32 imm) private view returns (uint32) {
        (bytes calldata dims,) = _descriptorParts(load.descriptor);
        uint256 size = 1;
        for (uint256 i = 0; i < dims.length; i += 4) size *= uint32(bytes4(dims[i:i + 4]));
        int256 addr;
        unchecked {
            addr = int256(int32(base + int32(imm))); // int32 wrapping add, as (a + imm) | 0
        }
        if (addr < 0 || uint256(addr) >= size) revert RefereeLoadOutOfRange(addr, size);
        uint256 chunk = uint256(addr) / CHUNK_ELEMENTS;
        _proveChunk(pos, load, chunk, size);
        uint256 offset = (uint256(addr) - chunk * CHUNK_ELEMENTS) * 4;
        bytes4 be = bytes4(load.chunk[offset:offset + 4]);
        return Commitments.le32(uint32(be));
    }

    /// @notice Checks that `load.chunk` is chunk `chunk` of the input tensor of `size` words that its descriptor names.
    function _proveChunk(Position calldata pos, Load calldata load, uint256 chunk, uint256 size) private view {
        uint256 words = size - chunk * CHUNK_ELEMENTS;
        if (words > CHUNK_ELEMENTS) words = CHUNK_ELEMENTS;
        if (load.chunk.length != words * 4) revert RefereeBadChunkLength(load.chunk.length, words * 4);
        uint256 chunks = (size + CHUNK_ELEMENTS - 1) / CHUNK_ELEMENTS;
        (bool ok, bytes32 chunkRoot) =
            Commitments.rootFromProofInPlace(Commitments.leafInPlace(load.chunk), chunk, chunks, load.chunkProof);
        if (!ok) revert RefereeChunkNotInTree(chunk);
        _proveSource(pos, load, chunkRoot);
    }

    /// @notice Checks that the tensor with chunk root `chunkRoot` is the one the load's descriptor names.
    function _proveSource(Position calldata pos, Load calldata load, bytes32 chunkRoot) private view {
        (bytes calldata dims, bytes calldata name) = _descriptorParts(load.descriptor);
        bytes32 commitment = Commitments.tensorCommitmentOfDims(uint32(bytes4(load.descriptor[0:4])), dims, chunkRoot);
        if (!_sourceOpens(pos, load, name, commitment)) revert RefereeSourceNotProven(Source(uint8(load.descriptor[4])), commitment);
    }

    /// @notice The shape (big-endian u32 dims) and the name of an encoded descriptor, after checking its layout.
    function _descriptorParts(bytes calldata d) private pure returns (bytes calldata dims, bytes calldata name) {
        if (d.length < 61 || uint8(d[4]) > uint8(Source.Constant)) revert RefereeBadDescriptor(d.length);
        uint256 dimsEnd = 57 + 4 * uint256(uint32(bytes4(d[53:57])));
        if (d.length < dimsEnd + 4) revert RefereeBadDescriptor(d.length);
        uint256 nameEnd = dimsEnd + 4 + uint256(uint32(bytes4(d[dimsEnd:dimsEnd + 4])));
        if (d.length != nameEnd) revert RefereeBadDescriptor(d.length);
        return (d[57:dimsEnd], d[dimsEnd + 4:nameEnd]);
    }

    function _sourceOpens(Position calldata pos, Load calldata load, bytes calldata name, bytes32 commitment)
        private
        view
        returns (bool)
    {
        bytes calldata d = load.descriptor;
        bytes32[] calldata proof = load.sourceProof;
        Source source = Source(uint8(d[4]));
        if (source == Source.Constant) return commitment == bytes32(d[21:53]);
        uint64 leaf = uint64(bytes8(d[5:13]));
        uint64 leafCount = uint64(bytes8(d[13:21]));
        bool ok;
        bytes32 root;
        if (source == Source.Op) {
            // Left of the first differing step-tree leaf, so the same in both trees: either root will do.
            (ok, root) = Commitments.rootFromProofInPlace(Commitments.leaf(abi.encodePacked(commitment)), leaf, leafCount, proof);
            return ok && (root == pos.stepRootSolver || root == pos.stepRootChallenger);
        }
        bytes32 named = Commitments.namedLeaf(name, commitment);
        if (source == Source.State) {
            (ok, root) = Commitments.rootFromProofInPlace(named, leaf, leafCount, proof);
            return ok && root == pos.hPrev;
        }
        (ok, root) = Commitments.rootFromProofInPlace(named, leaf, 3, proof);
        return ok && root == pos.batchCommitment;
    }
}
