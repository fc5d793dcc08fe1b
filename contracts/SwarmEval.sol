// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Commitments} from "./Commitments.sol";

/**
 * @title SwarmEval: h_0 of a swarm node's evaluation program, computed on chain from the round's beacon
 * @notice src/swarm/eval-program.ts's eval state, rebuilt without trusting anyone: the policy's state-tree leaves
 * (header, params.*, opt.*) with the header replaced by (step 0, optimizer step 0), then the round's eval data drawn
 * from the beacon (`opt.eval.tokens`, `opt.eval.at`, `opt.eval.target`) and the score 0 (`opt.eval.score`). The data
 * is ROWS two-digit additions: row i's words are SHA-256(beacon || u32 BE i || u32 BE 0) read as big-endian u32
 * words, and the addition task's `make` (src/data/tasks/addition.ts) turns 2 x DIGITS of them into "a+b=" and the
 * answer (WordReader.below(n) = floor(word * n / 2^32); a number's leading zeros dropped). Token ids are the
 * character tokenizer's over TASK_ALPHABET (src/data/tasks/index.ts). A test on anvil keeps both sides equal
 * (test/chain/swarm-eval.test.ts); the constants are the TypeScript SWARM_EVAL's.
 */
library SwarmEval {
    /// @notice The addition task's `digits`, the rows of an eval, and the layout that follows (eval-program.ts evalLayout).
    uint256 internal constant DIGITS = 2;
    uint256 internal constant ROWS = 16;
    uint256 internal constant PROMPT = 2 * DIGITS + 2;
    /// @notice Tokens generated per row (K): the longest answer and its END.
    uint256 internal constant GENERATED = DIGITS + 2;
    uint256 internal constant WIDTH = PROMPT + GENERATED;
    /// @notice Steps of the eval program: K generation steps, then the step that writes the score.
    uint256 internal constant STEPS = GENERATED + 1;
    /// @notice Leaves the eval adds after the policy's tensors: tokens, at, target, score (the last leaf of every h_t).
    uint256 internal constant DATA_LEAVES = 4;

    /// @notice Token ids: PAD, END, '0' ('1'..'9' follow), '+', '=' (CharTokenizer over TASK_ALPHABET).
    uint32 internal constant PAD_ID = 0;
    uint32 internal constant END_ID = 1;
    uint32 internal constant DIGIT0_ID = 264;
    uint32 internal constant PLUS_ID = 262;
    uint32 internal constant EQUALS_ID = 275;

    uint32 internal constant FLOAT32 = 1;
    uint32 internal constant INT32 = 2;
    uint256 internal constant CHUNK_BYTES = 256;

    /// @notice policyLeaves is empty: a state tree has at least its header leaf.
    error SwarmEvalNoPolicyLeaves();

    /**
     * @notice h_0 of the evaluation of `policyLeaves` (the committed policy's state-tree leaves, in order: header,
     * params.*, opt.*) on round beacon `beacon`, and the policy hash (the Merkle root of policyLeaves), which the
     * caller checks against the node's commitment.
     */
    function evalH0(bytes32 beacon, bytes32[] calldata policyLeaves) internal view returns (bytes32 policyHash, bytes32 h0) {
        uint256 n = policyLeaves.length;
        if (n == 0) revert SwarmEvalNoPolicyLeaves();
        bytes32[] memory leaves = new bytes32[](n + DATA_LEAVES);
        unchecked {
            for (uint256 i = 0; i < n; ++i) leaves[i] = policyLeaves[i];
        }
        policyHash = Commitments.rootInPlace(_copy(leaves, n));
        leaves[0] = Commitments.headerLeaf(0, 0);
        (leaves[n], leaves[n + 1], leaves[n + 2]) = dataLeaves(beacon);
        leaves[n + 3] = scoreLeaf(0);
        h0 = Commitments.rootInPlace(leaves);
    }

    /// @notice The leaf of h_K that holds `scoreBits` (a float32's bits): `opt.eval.score`, a float32 scalar.
    function scoreLeaf(uint32 scoreBits) internal pure returns (bytes32) {
        // A scalar: rank 0, no dims, one chunk of one word (whose leaf is the chunk tree's root).
        bytes32 commitment = sha256(abi.encodePacked(bytes4(Commitments.le32(FLOAT32)), bytes4(0), leafOfLeWord(scoreBits)));
        return namedLeaf("opt.eval.score", commitment);
    }

    /// @notice Where the score leaf is in every h_t of the eval of a policy of `policyLeafCount` leaves: the last leaf.
    function scoreLeafIndex(uint256 policyLeafCount) internal pure returns (uint256 index, uint256 size) {
        size = policyLeafCount + DATA_LEAVES;
        index = size - 1;
    }

    /**
     * @notice Whether `scoreBits` is the score that the eval run `runRoot` ends with: `hFinal` is leaf STEPS of the run
     * tree (leaves leafHash(h_0) .. leafHash(h_STEPS); `runProof` its path) and the score leaf opens in hFinal's state
     * tree at its index for a policy of `policyLeafCount` leaves (`scoreProof`). What a claim of a score checks.
     */
    function scoreOpens(
        bytes32 runRoot,
        uint256 policyLeafCount,
        uint32 scoreBits,
        bytes32 hFinal,
        bytes32[] calldata scoreProof,
        bytes32[] calldata runProof
    ) internal view returns (bool) {
        return _scoreInState(policyLeafCount, scoreBits, hFinal, scoreProof)
            && Commitments.opensInPlace(Commitments.leafOfWord(hFinal), STEPS, STEPS + 1, runProof, runRoot);
    }

    /// @notice Whether the score leaf of `scoreBits` opens in state `h` by `proof` (a function of its own: stack depth).
    function _scoreInState(uint256 policyLeafCount, uint32 scoreBits, bytes32 h, bytes32[] calldata proof) private view returns (bool) {
        (uint256 index, uint256 size) = scoreLeafIndex(policyLeafCount);
        return Commitments.opensInPlace(scoreLeaf(scoreBits), index, size, proof, h);
    }

    /// @notice Row `row`'s addends: the addition task's make over the row's first 2 x DIGITS words.
    function drawRow(bytes32 beacon, uint256 row) internal pure returns (uint256 a, uint256 b) {
        uint256 words = uint256(sha256(abi.encodePacked(beacon, uint32(row), uint32(0))));
        unchecked {
            for (uint256 k = 0; k < DIGITS; ++k) a = a * 10 + _below10(words, k);
            for (uint256 k = DIGITS; k < 2 * DIGITS; ++k) b = b * 10 + _below10(words, k);
        }
    }

    /// @notice The state leaves of the three eval data tensors drawn from `beacon` (tokens, at, target).
    function dataLeaves(bytes32 beacon) internal view returns (bytes32 tokensLeaf, bytes32 atLeaf, bytes32 targetLeaf) {
        bytes memory tokens = new bytes(4 * ROWS * WIDTH);
        bytes memory positions = new bytes(4 * ROWS * (GENERATED + 1));
        bytes memory target = new bytes(4 * ROWS * GENERATED);
        // Unchecked: every index and number here is below a few hundred.
        unchecked {
            for (uint256 i = 0; i < ROWS; ++i) {
                (uint256 a, uint256 b) = drawRow(beacon, i);
                uint256 len = writeNumber(tokens, i * WIDTH, a);
                put(tokens, i * WIDTH + len++, PLUS_ID);
                len += writeNumber(tokens, i * WIDTH + len, b);
                put(tokens, i * WIDTH + len++, EQUALS_ID);
                for (uint256 j = 0; j <= GENERATED; ++j) put(positions, i * (GENERATED + 1) + j, uint32(len - 1 + j));
                uint256 answer = writeNumber(target, i * GENERATED, a + b);
                put(target, i * GENERATED + answer, END_ID);
                for (uint256 j = answer + 1; j < GENERATED; ++j) put(target, i * GENERATED + j, type(uint32).max);
            }
        }
        tokensLeaf = namedLeaf("opt.eval.tokens", commitment2(INT32, ROWS, WIDTH, tokens));
        atLeaf = namedLeaf("opt.eval.at", commitment2(INT32, ROWS, GENERATED + 1, positions));
        targetLeaf = namedLeaf("opt.eval.target", commitment2(INT32, ROWS, GENERATED, target));
    }

    /// @notice WordReader.below(10) of word k of a digest read as big-endian u32 words.
    function _below10(uint256 words, uint256 k) private pure returns (uint256) {
        return ((words >> (224 - 32 * k)) & 0xffffffff) * 10 >> 32;
    }

    /// @notice Writes `x`'s decimal digits (no leading zeros) as token ids from word `offset`; returns how many.
    function writeNumber(bytes memory buf, uint256 offset, uint256 x) internal pure returns (uint256 len) {
        unchecked {
            uint256 y = x;
            do {
                ++len;
                y /= 10;
            } while (y != 0);
            for (uint256 k = len; k > 0; --k) {
                put(buf, offset + k - 1, DIGIT0_ID + uint32(x % 10));
                x /= 10;
            }
        }
    }

    /// @notice Word `index` of a little-endian int32 buffer.
    function put(bytes memory buf, uint256 index, uint32 word) internal pure {
        assembly ("memory-safe") {
            let le := or(or(shl(24, and(word, 0xff)), shl(8, and(word, 0xff00))), or(and(shr(8, word), 0xff00), shr(24, word)))
            let p := add(add(buf, 32), shl(2, index))
            mstore(p, or(shl(224, le), and(mload(p), 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff)))
        }
    }

    /// @notice tensor-commitment.ts tensorCommitment of a rank-2 tensor whose little-endian bytes are `data`.
    function commitment2(uint32 dtype, uint256 rows, uint256 cols, bytes memory data) internal view returns (bytes32) {
        bytes32 root = chunkRoot(data);
        return sha256(
            abi.encodePacked(bytes4(Commitments.le32(dtype)), bytes4(Commitments.le32(2)), bytes4(Commitments.le32(uint32(rows))), bytes4(Commitments.le32(uint32(cols))), root)
        );
    }

    /// @notice The RFC 6962 root over `data`'s 256-byte chunks (the last may be shorter), each leaf hashed in place.
    function chunkRoot(bytes memory data) internal view returns (bytes32) {
        uint256 count = (data.length + CHUNK_BYTES - 1) / CHUNK_BYTES;
        bytes32[] memory level = new bytes32[](count);
        for (uint256 c = 0; c < count; ++c) {
            uint256 start = c * CHUNK_BYTES;
            uint256 len = data.length - start < CHUNK_BYTES ? data.length - start : CHUNK_BYTES;
            assembly ("memory-safe") {
                let p := mload(0x40)
                mstore8(p, 0x00)
                mcopy(add(p, 1), add(add(data, 32), start), len)
                if iszero(staticcall(gas(), 0x02, p, add(len, 1), 0x00, 0x20)) { revert(0, 0) }
                mstore(add(add(level, 32), mul(c, 32)), mload(0x00))
            }
        }
        return Commitments.rootInPlace(level);
    }

    /// @notice The leaf of one little-endian 32-bit word (a one-element tensor's only chunk).
    function leafOfLeWord(uint32 word) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), bytes4(Commitments.le32(word))));
    }

    /// @notice state.ts namedLeaf of a name known at compile time.
    function namedLeaf(string memory name, bytes32 commitment) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), bytes8(Commitments.le64(uint64(bytes(name).length))), name, commitment));
    }

    function _copy(bytes32[] memory from, uint256 n) private pure returns (bytes32[] memory to) {
        to = new bytes32[](n);
        unchecked {
            for (uint256 i = 0; i < n; ++i) to[i] = from[i];
        }
    }
}
