// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Commitments} from "./Commitments.sol";
import {SwarmEval} from "./SwarmEval.sol";

/**
 * @title SwarmRollout: the state of a rollout group's generation program, computed on chain
 * @notice src/swarm/rollout-program.ts's one-step program (docs/swarm-chain.md, "The rollout program"): an author's
 * group of round r is the output of generating L completions of one question with the policy it committed in round r
 * (the policy it starts the round with).
 * Everything in its states but the rows is public, so a contract rebuilds h_0 and h_1 from the policy's leaves, the
 * round's beacon, the author's address, the question's index, the group hash (the rows' chunk root) and `useful`:
 *
 * - the question's seed: SHA-256("mycel.rollout.seed.v1" ‖ beacon ‖ author (20 bytes) ‖ u32 BE index)
 *   (src/swarm/rollout-seeds.ts rolloutSeed); its counter-mode words SHA-256(seed ‖ u32 BE row ‖ u32 BE block), each
 *   digest 8 big-endian u32 words (data/tasks/beacon-draw.ts beaconWords with the seed as the beacon);
 * - row 0: the question, the addition task's `make` over 2 x digits words (as SwarmEval's eval rows);
 * - row 2 + k: completion k's uniforms, maxTokens words, u = (word >> 8) · 2^-24 (exact in float32);
 * - h_t = header (t, t), the policy's leaves but its header, then `opt.gen.prompt` int32 [W] (the prompt's ids,
 *   then PAD), `opt.gen.answer` int32 [K] (the answer's ids, END if it is shorter than K, then PAD; all -1 when it
 *   is longer), `opt.gen.uniforms` float32 [L, K], `opt.gen.rows` float32 [L, 3, W] (h_0: zeros; h_1: the group's
 *   rows, by their chunk root, the group hash) and `opt.gen.useful` float32 [] (h_0: 0; h_1: 1 when the group's
 *   advantages are not all zero).
 *
 * The deployment fixes the swarm's task to addition of `digits` digits (the only task whose `make` is on chain), and
 * (L, W, K) to its GRPO step's completions and context and its generation's maxTokens. A test on anvil keeps both
 * sides equal (test/chain/swarm-rollout.test.ts).
 */
library SwarmRollout {
    /// @notice The shapes of a deployment's rollout program: L completions of a context W, K generated tokens, addition of `digits` digits.
    struct Layout {
        uint32 completions;
        uint32 width;
        uint32 maxTokens;
        uint32 digits;
    }

    /// @notice A group as its leaf binds it ({leaf}): its author, its question's index, its hash (the chunk root of its rows) and its useful bit; also what a GRPO step lists as trained on.
    struct Group {
        address author;
        uint32 index;
        bytes32 groupHash;
        bool useful;
    }

    /// @notice Leaves the program adds after the policy's tensors: prompt, answer, uniforms, rows, useful.
    uint256 internal constant DATA_LEAVES = 5;
    uint32 private constant ONE_F32 = 0x3f800000;
    uint32 private constant QUESTION_ROW = 0;
    uint32 private constant FIRST_UNIFORM_ROW = 2;

    /// @notice The layout cannot hold every question: a prompt of 2·digits + 2 ids and K generated tokens need W positions.
    error SwarmRolloutLayout(uint256 digits, uint256 maxTokens, uint256 width);

    /**
     * @notice A group's leaf in its author's rolloutsRoot and in the usedRoot of a step that trained on it:
     * SHA-256(0x00 ‖ author ‖ u32 BE index ‖ groupHash ‖ u8 useful). It binds what a rollout dispute needs (the
     * question's index) and what a use proof checks (useful).
     */
    function leaf(address author, uint32 index, bytes32 groupHash, bool useful) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), author, index, groupHash, useful));
    }

    /// @notice The seed of question `index` of `author` in the round of `beacon`.
    function seed(bytes32 beacon, address author, uint32 index) internal pure returns (bytes32) {
        return sha256(abi.encodePacked("mycel.rollout.seed.v1", beacon, author, index));
    }

    /**
     * @notice The round's rollout beacon (src/swarm/rollout-seeds.ts roundBeacon): SHA-256("mycel.sapo.beacon.v1" ‖
     * u64 LE length of the swarm id ‖ swarm id ‖ u64 LE round). Known before the round, so questions are fixed by it.
     */
    function roundBeacon(bytes memory swarmId, uint256 round) internal pure returns (bytes32) {
        return sha256(abi.encodePacked("mycel.sapo.beacon.v1", bytes8(Commitments.le64(uint64(swarmId.length))), swarmId, bytes8(Commitments.le64(uint64(round)))));
    }

    /// @notice The question's addends: the addition task's make over row 0's first 2 x digits words.
    function question(bytes32 s, uint256 digits) internal pure returns (uint256 a, uint256 b) {
        bytes32 block_;
        for (uint256 k = 0; k < 2 * digits; ++k) {
            if (k % 8 == 0) block_ = sha256(abi.encodePacked(s, QUESTION_ROW, uint32(k / 8)));
            uint256 d = ((uint256(block_) >> (224 - 32 * (k % 8))) & 0xffffffff) * 10 >> 32;
            if (k < digits) a = a * 10 + d;
            else b = b * 10 + d;
        }
    }

    /// @notice The float32 bits of m · 2^-24 for m < 2^24 (exact: m has at most 24 significant bits).
    function unitFloat(uint256 m) internal pure returns (uint32) {
        if (m == 0) return 0;
        uint256 p = 0;
        while (m >> (p + 1) != 0) ++p;
        return uint32(((p + 103) << 23) | ((m << (23 - p)) & 0x7fffff));
    }

    /// @notice Checks that every question of the layout fits its context (what a deployment must hold).
    function checkLayout(Layout memory l) internal pure {
        if (l.digits == 0 || l.maxTokens == 0 || l.completions == 0 || 2 * uint256(l.digits) + 2 + l.maxTokens > l.width) {
            revert SwarmRolloutLayout(l.digits, l.maxTokens, l.width);
        }
    }

    /// @notice The three input leaves of the question of seed `s`: opt.gen.prompt, opt.gen.answer, opt.gen.uniforms.
    function inputLeaves(bytes32 s, Layout memory l) internal view returns (bytes32 promptLeaf, bytes32 answerLeaf, bytes32 uniformsLeaf) {
        (uint256 a, uint256 b) = question(s, l.digits);
        bytes memory prompt = new bytes(4 * uint256(l.width));
        uint256 len = SwarmEval.writeNumber(prompt, 0, a);
        SwarmEval.put(prompt, len++, SwarmEval.PLUS_ID);
        len += SwarmEval.writeNumber(prompt, len, b);
        SwarmEval.put(prompt, len, SwarmEval.EQUALS_ID);
        promptLeaf = SwarmEval.namedLeaf("opt.gen.prompt", _commitment1(SwarmEval.INT32, l.width, prompt));
        answerLeaf = SwarmEval.namedLeaf("opt.gen.answer", _commitment1(SwarmEval.INT32, l.maxTokens, _answer(a + b, l.maxTokens)));
        uniformsLeaf = SwarmEval.namedLeaf("opt.gen.uniforms", SwarmEval.commitment2(SwarmEval.FLOAT32, l.completions, l.maxTokens, _uniforms(s, l)));
    }

    /// @notice The answer's ids over K positions: its digits, END if shorter than K, then PAD; all -1 when longer than K.
    function _answer(uint256 sum, uint256 k) private pure returns (bytes memory answer) {
        answer = new bytes(4 * k);
        uint256 digits = 1;
        for (uint256 y = sum / 10; y != 0; y /= 10) ++digits;
        if (digits > k) {
            for (uint256 i = 0; i < k; ++i) SwarmEval.put(answer, i, type(uint32).max);
            return answer;
        }
        SwarmEval.writeNumber(answer, 0, sum);
        if (digits < k) SwarmEval.put(answer, digits, SwarmEval.END_ID);
    }

    /// @notice The uniforms [L, K]: completion c's from row 2 + c, u = (word >> 8) · 2^-24 as float32 bits.
    function _uniforms(bytes32 s, Layout memory l) private pure returns (bytes memory out) {
        uint256 k = l.maxTokens;
        out = new bytes(4 * uint256(l.completions) * k);
        for (uint256 c = 0; c < l.completions; ++c) {
            bytes32 block_;
            for (uint256 i = 0; i < k; ++i) {
                if (i % 8 == 0) block_ = sha256(abi.encodePacked(s, uint32(FIRST_UNIFORM_ROW + c), uint32(i / 8)));
                uint256 w = (uint256(block_) >> (224 - 32 * (i % 8))) & 0xffffffff;
                SwarmEval.put(out, c * k + i, unitFloat(w >> 8));
            }
        }
    }

    /// @notice opt.gen.rows's leaf: a float32 [L, 3, W] tensor whose chunk root is `rowsRoot`.
    function rowsLeaf(bytes32 rowsRoot, Layout memory l) internal pure returns (bytes32) {
        bytes32 commitment = sha256(
            abi.encodePacked(
                bytes4(Commitments.le32(SwarmEval.FLOAT32)),
                bytes4(Commitments.le32(3)),
                bytes4(Commitments.le32(l.completions)),
                bytes4(Commitments.le32(3)),
                bytes4(Commitments.le32(l.width)),
                rowsRoot
            )
        );
        return SwarmEval.namedLeaf("opt.gen.rows", commitment);
    }

    /// @notice opt.gen.useful's leaf: a float32 scalar, 1 or 0.
    function usefulLeaf(bool useful) internal pure returns (bytes32) {
        bytes32 commitment = sha256(abi.encodePacked(bytes4(Commitments.le32(SwarmEval.FLOAT32)), bytes4(0), SwarmEval.leafOfLeWord(useful ? ONE_F32 : 0)));
        return SwarmEval.namedLeaf("opt.gen.useful", commitment);
    }

    /// @notice tensor-commitment.ts tensorCommitment of a rank-1 tensor of `n` elements whose little-endian bytes are `data`.
    function _commitment1(uint32 dtype, uint256 n, bytes memory data) private view returns (bytes32) {
        return sha256(abi.encodePacked(bytes4(Commitments.le32(dtype)), bytes4(Commitments.le32(1)), bytes4(Commitments.le32(uint32(n))), SwarmEval.chunkRoot(data)));
    }
}
