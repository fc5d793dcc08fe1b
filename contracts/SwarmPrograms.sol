// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SwarmEval} from "./SwarmEval.sol";
import {Commitments} from "./Commitments.sol";
import {PolicyLeaves} from "./PolicyLeaves.sol";
import {SwarmRollout} from "./SwarmRollout.sol";

/**
 * @title SwarmPrograms: the state hashes of the swarm's disputable programs, computed on chain
 * @notice What the SwarmCoordinator needs to know about the programs it opens disputes over, and nothing else: h_0 of
 * a node's evaluation (SwarmEval.evalH0) and the opening of its score in the run's last state; h_0, h_1 and the run
 * root of a node's GRPO step ({grpoStepRun}). Stateless (no storage, no owner): deployed once beside a coordinator,
 * which holds its address as an immutable and calls it with STATICCALL.
 *
 * Why a contract of its own: the coordinator holds the rules and the money, and the hashing of the programs' states
 * (a few KB of code per program) grows with each program the swarm disputes; inlined, it left the coordinator about
 * 1 KB under EIP-170's 24,576-byte limit. A separate contract (rather than an external library linked into the
 * coordinator's code) keeps the build's code check as it is: its address is an immutable of the coordinator, masked
 * like the others, and a node checks the code at that address too (src/chain/code.ts checkCoordinator). The calls
 * cost a few thousand gas each (a cold account access and the leaves' ABI copy).
 */
contract SwarmPrograms {
    /// @notice h_0 of `policyLeaves`' evaluation on beacon `beacon` and their policy hash ({SwarmEval.evalH0}).
    function evalH0(bytes32 beacon, bytes32[] calldata policyLeaves) external view returns (bytes32 policyHash, bytes32 h0) {
        return SwarmEval.evalH0(beacon, policyLeaves);
    }

    /**
     * @notice Whether `scoreBits` is the score the eval run `runRoot` ends with ({SwarmEval.scoreOpens}): `hFinal` is its
     * last state (leaf STEPS of the run tree, path `runProof`) and the score leaf opens in it (path `scoreProof`).
     */
    function scoreOpens(
        bytes32 runRoot,
        uint256 policyLeafCount,
        uint32 scoreBits,
        bytes32 hFinal,
        bytes32[] calldata scoreProof,
        bytes32[] calldata runProof
    ) external view returns (bool) {
        return SwarmEval.scoreOpens(runRoot, policyLeafCount, scoreBits, hFinal, scoreProof, runProof);
    }

    /// @notice A score claim's openings: h_K (the last state hash of the evaluation run) with its path in the run tree, and the score leaf's path in h_K.
    struct ScoreProof {
        bytes32 hK;
        bytes32[] hKPath;
        bytes32[] scorePath;
    }

    /**
     * @notice Everything a score claim checks, in one call: the policy hash and h_0 of the eval ({evalH0}), the
     * claimed score's whole number ({scoreOf}) and whether it opens in the run ({scoreOpens}).
     */
    function scoreClaim(bytes32 beacon, bytes32[] calldata policyLeaves, bytes32 runRoot, uint32 scoreBits, ScoreProof calldata proof)
        external
        view
        returns (bytes32 policyHash, bytes32 h0, uint32 score, bool opens)
    {
        score = scoreOf(scoreBits);
        (policyHash, h0) = SwarmEval.evalH0(beacon, policyLeaves);
        opens = SwarmEval.scoreOpens(runRoot, policyLeaves.length, scoreBits, proof.hK, proof.scorePath, proof.hKPath);
    }

    /**
     * @notice The whole number a float32 score holds (the evaluation counts right answers): +0 is 0; otherwise a
     * positive normal float32 without fraction bits, at most 2^24. Anything else is {SwarmScoreInvalid}.
     */
    function scoreOf(uint32 bits) public pure returns (uint32) {
        if (bits == 0) return 0;
        uint32 exponent = (bits >> 23) & 0xff;
        // sign set, zero/subnormal, below 1.0, or above 2^24 (where float32 stops holding every integer)
        if (bits >> 31 != 0 || exponent < 127 || exponent > 151) revert SwarmScoreInvalid(bits);
        uint32 mantissa = (bits & 0x7fffff) | 0x800000;
        uint32 shift = 150 - exponent; // 23 - (exponent - 127)
        if (mantissa & ((uint32(1) << shift) - 1) != 0) revert SwarmScoreInvalid(bits);
        return mantissa >> shift;
    }

    /// @notice The leaf of the last eval state holding `scoreBits`, and its index and tree size for a policy of `policyLeafCount` leaves.
    function scoreLeaf(uint32 scoreBits, uint256 policyLeafCount) external pure returns (bytes32 leaf, uint256 index, uint256 size) {
        (index, size) = SwarmEval.scoreLeafIndex(policyLeafCount);
        leaf = SwarmEval.scoreLeaf(scoreBits);
    }

    /**
     * @notice Leaf `index` of a policy's state tree recomputed from its raw bytes ({PolicyLeaves}): the header (index 0,
     * `data` its 16 bytes) or a tensor; ok is false when the bytes do not fit that form. What a data-availability
     * publication checks (the coordinator's publishPolicy).
     */
    function policyLeaf(uint32 index, bytes calldata name, uint32 dtype, uint32[] calldata shape, bytes calldata data) external view returns (bool ok, bytes32 leaf) {
        return index == 0 ? PolicyLeaves.headerLeaf(data) : PolicyLeaves.tensorLeaf(name, dtype, shape, data);
    }

    /// @notice The steps of every evaluation program (what a coordinator's admitted programs must say).
    function evalSteps() external pure returns (uint256) {
        return SwarmEval.STEPS;
    }

    // ---------------------------------------------------------------- the GRPO step (docs/swarm-chain.md, "The GRPO step")

    /**
     * @notice The rows tensor of a step's slots: `slots` groups of `completions` rows of [inputs, targets, mask] over
     * `width` positions, float32 [completions, 3, width] each (src/swarm/grpo-step.ts grpoLayout).
     */
    struct GrpoLayout {
        uint32 slots;
        uint32 completions;
        uint32 width;
    }

    /// @notice What {grpoStepRun} computes: the two policies' hashes, the used root, h_0 and the run root.
    struct StepRun {
        bytes32 prevHash;
        bytes32 nextHash;
        bytes32 usedRoot;
        bytes32 h0;
        bytes32 runRoot;
    }

    uint32 private constant FLOAT32 = 1;
    uint256 private constant CHUNK_BYTES = 256;

    /// @notice The score bits `bits` are not a float32 holding a whole number in 0 .. 2^24 (a count of right answers).
    error SwarmScoreInvalid(uint32 bits);
    /// @notice More groups than the step has slots.
    error SwarmStepTooManyGroups(uint256 groups, uint256 slots);

    /**
     * @notice A node's GRPO step, recomputed from its committed policies' leaves and the hashes of the groups it trained
     * on (in batch order; the slots after them hold all-zero rows), as src/swarm/grpo-step.ts grpoStepRun: h_0 = header
     * (0, 0), `prevLeaves` but their header, the slot leaves; h_1 = header (1, 1), `nextLeaves` but their header, the
     * same slot leaves; the run root over [h_0, h_1] (the game's run tree; {stepState} gives h_1). Also the two policy
     * hashes (the roots of `prevLeaves` and `nextLeaves`) and the used root (over the groups' leaves), which the caller
     * checks against the node's commitments.
     */
    function grpoStepRun(bytes32[] calldata prevLeaves, bytes32[] calldata nextLeaves, SwarmRollout.Group[] calldata used, GrpoLayout calldata layout)
        external
        view
        returns (StepRun memory run)
    {
        if (used.length > layout.slots) revert SwarmStepTooManyGroups(used.length, layout.slots);
        bytes32[] memory groupHashes;
        (run.usedRoot, groupHashes) = _used(used);
        bytes32[] memory slots = _slotLeaves(groupHashes, layout);
        run.prevHash = Commitments.rootOfLeaves(prevLeaves);
        run.nextHash = Commitments.rootOfLeaves(nextLeaves);
        run.h0 = _stepState(0, prevLeaves, slots);
        run.runRoot = Commitments.nodeInPlace(Commitments.leafOfWord(run.h0), Commitments.leafOfWord(_stepState(1, nextLeaves, slots)));
    }

    /// @notice The used root over `used`'s leaves (0 for none) and their group hashes.
    function _used(SwarmRollout.Group[] calldata used) private view returns (bytes32 root, bytes32[] memory groupHashes) {
        bytes32[] memory leaves = new bytes32[](used.length);
        groupHashes = new bytes32[](used.length);
        for (uint256 i = 0; i < used.length; ++i) {
            groupHashes[i] = used[i].groupHash;
            leaves[i] = SwarmRollout.leaf(used[i].author, used[i].index, used[i].groupHash, used[i].useful);
        }
        if (used.length != 0) root = Commitments.rootInPlace(leaves);
    }

    /// @notice The RFC 6962 root of `leaves` (0 for none): a used root, as the coordinator's commit computes it.
    function rootOf(bytes32[] calldata leaves) external view returns (bytes32) {
        return Commitments.rootOfLeaves(leaves);
    }

    /// @notice The state leaves of the step's slots `opt.grpo.00` .. : each group's rows tensor, then all-zero rows.
    function slotLeaves(bytes32[] calldata groupHashes, GrpoLayout calldata layout) external view returns (bytes32[] memory) {
        return _slotLeaves(groupHashes, layout);
    }

    function _slotLeaves(bytes32[] memory groupHashes, GrpoLayout calldata layout) private view returns (bytes32[] memory leaves) {
        leaves = new bytes32[](layout.slots);
        bytes32 zero;
        if (groupHashes.length < layout.slots) zero = zeroGroupHash(layout);
        bytes memory head = abi.encodePacked(
            bytes4(Commitments.le32(FLOAT32)), bytes4(Commitments.le32(3)), bytes4(Commitments.le32(layout.completions)), bytes4(Commitments.le32(3)), bytes4(Commitments.le32(layout.width))
        );
        for (uint256 i = 0; i < layout.slots; ++i) {
            bytes32 commitment = sha256(abi.encodePacked(head, i < groupHashes.length ? groupHashes[i] : zero));
            bytes memory name = abi.encodePacked("opt.grpo.", bytes1(uint8(48 + (i / 10) % 10)), bytes1(uint8(48 + i % 10)));
            leaves[i] = sha256(abi.encodePacked(bytes1(0x00), bytes8(Commitments.le64(uint64(name.length))), name, commitment));
        }
    }

    /// @notice The group hash of an empty slot: the chunk root of [completions, 3, width] float32 zeros.
    function zeroGroupHash(GrpoLayout calldata layout) public view returns (bytes32) {
        return _zeroRows(layout.completions, layout.width);
    }

    /// @notice The chunk root of [completions, 3, width] float32 zeros.
    function _zeroRows(uint256 completions, uint256 width) private view returns (bytes32) {
        uint256 size = completions * 3 * width * 4;
        uint256 count = (size + CHUNK_BYTES - 1) / CHUNK_BYTES;
        if (count == 0) return sha256("");
        bytes memory zeros = new bytes(CHUNK_BYTES);
        bytes32[] memory level = new bytes32[](count);
        // Every full chunk has the same leaf; the last one may be shorter.
        bytes32 full = sha256(abi.encodePacked(bytes1(0x00), zeros));
        for (uint256 c = 0; c + 1 < count; ++c) level[c] = full;
        uint256 last = size - (count - 1) * CHUNK_BYTES;
        level[count - 1] = last == CHUNK_BYTES ? full : sha256(abi.encodePacked(bytes1(0x00), new bytes(last)));
        return Commitments.rootInPlace(level);
    }

    /// @notice h_t (t = 0 or 1) of a step whose policy (before it for h_0, after it for h_1) has leaves `policyLeaves` and whose slots hold `groupHashes`.
    function stepState(uint64 t, bytes32[] calldata policyLeaves, bytes32[] calldata groupHashes, GrpoLayout calldata layout) external view returns (bytes32) {
        if (groupHashes.length > layout.slots) revert SwarmStepTooManyGroups(groupHashes.length, layout.slots);
        return _stepState(t, policyLeaves, _slotLeaves(groupHashes, layout));
    }

    /// @notice h_t of the step: header (t, t), the policy's leaves but its header, the slot leaves.
    function _stepState(uint64 t, bytes32[] calldata policyLeaves, bytes32[] memory slots) private view returns (bytes32) {
        uint256 n = policyLeaves.length;
        bytes32[] memory leaves = new bytes32[](n + slots.length);
        leaves[0] = Commitments.headerLeaf(t, t);
        for (uint256 i = 1; i < n; ++i) leaves[i] = policyLeaves[i];
        for (uint256 i = 0; i < slots.length; ++i) leaves[n + i] = slots[i];
        return Commitments.rootInPlace(leaves);
    }

    // ---------------------------------------------------------------- the rollout program (docs/swarm-chain.md, "The rollout program")

    /// @notice What {rolloutRun} computes: the generating policy's hash, h_0, h_1 and the run root over [h_0, h_1].
    struct RolloutRun {
        bytes32 policyHash;
        bytes32 h0;
        bytes32 h1;
        bytes32 runRoot;
    }

    /**
     * @notice A group's rollout program, recomputed from the generating policy's leaves (the policy the author
     * committed with the group) and the group's public part ({SwarmRollout}): h_0 = header (0, 0), the policy's leaves but
     * its header, the question's inputs drawn from `beacon`, zero rows, useful 0; h_1 = header (1, 1), the same
     * leaves, the group's rows (by `group.groupHash`) and its `useful`; the run root over [h_0, h_1]. Also the
     * policy's hash, which the caller checks against the author's commitment.
     */
    function rolloutRun(bytes32 beacon, bytes32[] calldata policyLeaves, SwarmRollout.Group calldata group, SwarmRollout.Layout calldata layout)
        external
        view
        returns (RolloutRun memory run)
    {
        SwarmRollout.Layout memory l = layout;
        SwarmRollout.checkLayout(l);
        uint256 n = policyLeaves.length;
        if (n == 0) revert SwarmEval.SwarmEvalNoPolicyLeaves();
        run.policyHash = Commitments.rootOfLeaves(policyLeaves);
        bytes32[] memory leaves = new bytes32[](n + SwarmRollout.DATA_LEAVES);
        for (uint256 i = 1; i < n; ++i) leaves[i] = policyLeaves[i];
        (leaves[n], leaves[n + 1], leaves[n + 2]) = SwarmRollout.inputLeaves(SwarmRollout.seed(beacon, group.author, group.index), l);
        leaves[0] = Commitments.headerLeaf(0, 0);
        leaves[n + 3] = SwarmRollout.rowsLeaf(_zeroRows(l.completions, l.width), l);
        leaves[n + 4] = SwarmRollout.usefulLeaf(false);
        run.h0 = Commitments.rootInPlace(_copy(leaves));
        leaves[0] = Commitments.headerLeaf(1, 1);
        leaves[n + 3] = SwarmRollout.rowsLeaf(group.groupHash, l);
        leaves[n + 4] = SwarmRollout.usefulLeaf(group.useful);
        run.h1 = Commitments.rootInPlace(leaves);
        run.runRoot = Commitments.nodeInPlace(Commitments.leafOfWord(run.h0), Commitments.leafOfWord(run.h1));
    }

    /// @notice The rollout beacon of round `round` of swarm `swarmId` ({SwarmRollout.roundBeacon}).
    function rolloutBeacon(bytes calldata swarmId, uint256 round) external pure returns (bytes32) {
        return SwarmRollout.roundBeacon(swarmId, round);
    }

    /// @notice A copy of `leaves` (Commitments.rootInPlace overwrites its argument).
    function _copy(bytes32[] memory leaves) private pure returns (bytes32[] memory out) {
        out = new bytes32[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) out[i] = leaves[i];
    }
}
