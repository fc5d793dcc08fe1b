// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Commitments: the hashes of src/train (merkle.ts, tensor-commitment.ts, state.ts), rebuilt on chain
 * @notice RFC 6962 Merkle trees (leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right)) and the
 * tensor and state-tree leaves built on them, with the SHA-256 precompile. One library, so the referee and the
 * game cannot drift apart from each other or from the TypeScript definitions they mirror.
 */
library Commitments {
    function leaf(bytes memory data) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), data));
    }

    function node(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /// @notice The largest power of two below n (n > 1): where RFC 6962 splits a tree of n leaves.
    function split(uint64 n) internal pure returns (uint64 k) {
        k = 1;
        while (k << 1 < n) k <<= 1;
    }

    /**
     * @notice merkle.ts rootFromProof: the root that `leafHash` at `index` of a tree of `size` leaves with audit
     * path `proof` leads to (RFC 9162 2.1.3.2); ok is false when the path has the wrong length for (index, size).
     */
    function rootFromProof(bytes32 leafHash, uint256 index, uint256 size, bytes32[] calldata proof)
        internal
        pure
        returns (bool ok, bytes32 root)
    {
        if (index >= size) return (false, 0);
        uint256 fn = index;
        uint256 sn = size - 1;
        root = leafHash;
        for (uint256 i = 0; i < proof.length; ++i) {
            if (sn == 0) return (false, 0);
            if (fn & 1 == 1 || fn == sn) {
                root = node(proof[i], root);
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                root = node(root, proof[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        ok = sn == 0;
    }

    /**
     * @notice {rootFromProof} with {nodeInPlace}: the same root, without allocating memory for each node. The
     * one-step referee proves a load by ~20 path nodes, where abi.encodePacked's allocations cost more than the hashes.
     * (A view function: the assembly's staticcall to the SHA-256 precompile is not `pure` to solc, and the game's
     * pure callers keep {rootFromProof}.)
     */
    function rootFromProofInPlace(bytes32 leafHash, uint256 index, uint256 size, bytes32[] calldata proof)
        internal
        view
        returns (bool ok, bytes32 root)
    {
        if (index >= size) return (false, 0);
        uint256 fn = index;
        uint256 sn = size - 1;
        root = leafHash;
        for (uint256 i = 0; i < proof.length; ++i) {
            if (sn == 0) return (false, 0);
            if (fn & 1 == 1 || fn == sn) {
                root = nodeInPlace(proof[i], root);
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                root = nodeInPlace(root, proof[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        ok = sn == 0;
    }

    /// @notice {node}, written past the free memory pointer without claiming it (nothing is allocated).
    function nodeInPlace(bytes32 left, bytes32 right) internal view returns (bytes32 out) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 1), left)
            mstore(add(p, 33), right)
            if iszero(staticcall(gas(), 0x02, p, 65, 0x00, 0x20)) { revert(0, 0) }
            out := mload(0x00)
        }
    }

    /**
     * @notice merkle.ts merkleRoot of `leaves` (leaf hashes already): each level's pairs hashed with {nodeInPlace}, an
     * odd last node carried up, which is RFC 6962's tree split at the largest power of two; 0 for no leaves.
     */
    function rootOfLeaves(bytes32[] calldata leaves) internal view returns (bytes32) {
        if (leaves.length == 0) return bytes32(0);
        return rootInPlace(leaves);
    }

    /**
     * @notice The RFC 6962 root of `level` (at least one leaf hash), overwriting it: pairs bottom-up, an odd last node
     * carried up unpaired, which gives the top-down split's root (merkle.ts merkleRoot).
     */
    function rootInPlace(bytes32[] memory level) internal view returns (bytes32) {
        uint256 n = level.length;
        unchecked {
            while (n > 1) {
                uint256 m = 0;
                for (uint256 i = 0; i + 1 < n; i += 2) level[m++] = nodeInPlace(level[i], level[i + 1]);
                if (n % 2 == 1) level[m++] = level[n - 1];
                n = m;
            }
        }
        return level[0];
    }

    /// @notice {leaf} of calldata bytes, copied once past the free memory pointer (nothing is allocated).
    function leafInPlace(bytes calldata data) internal view returns (bytes32 out) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x00)
            calldatacopy(add(p, 1), data.offset, data.length)
            if iszero(staticcall(gas(), 0x02, p, add(data.length, 1), 0x00, 0x20)) { revert(0, 0) }
            out := mload(0x00)
        }
    }

    /// @notice {opens} with {rootFromProofInPlace}: the dispute game's paths (facts, run, step and state trees), without allocating.
    function opensInPlace(bytes32 leafHash, uint256 index, uint256 size, bytes32[] calldata proof, bytes32 root) internal view returns (bool) {
        (bool ok, bytes32 got) = rootFromProofInPlace(leafHash, index, size, proof);
        return ok && got == root;
    }

    /// @notice {leaf} of one word, hashed in scratch memory (nothing is allocated).
    function leafOfWord(bytes32 word) internal view returns (bytes32 out) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x00)
            mstore(add(p, 1), word)
            if iszero(staticcall(gas(), 0x02, p, 33, 0x00, 0x20)) { revert(0, 0) }
            out := mload(0x00)
        }
    }

    /// @notice Whether `proof` opens `leafHash` at `index` of the tree of `size` leaves with root `root`.
    function opens(bytes32 leafHash, uint256 index, uint256 size, bytes32[] calldata proof, bytes32 root) internal pure returns (bool) {
        (bool ok, bytes32 got) = rootFromProof(leafHash, index, size, proof);
        return ok && got == root;
    }

    /// @notice tensor-commitment.ts commitmentFromChunkRoot: SHA-256(u32 LE dtype, u32 LE rank, u32 LE dims, root).
    function tensorCommitment(uint32 dtype, uint32[] calldata shape, bytes32 chunkRoot) internal pure returns (bytes32) {
        bytes memory header = abi.encodePacked(bytes4(le32(dtype)), bytes4(le32(uint32(shape.length))));
        for (uint256 i = 0; i < shape.length; ++i) header = abi.encodePacked(header, bytes4(le32(shape[i])));
        return sha256(abi.encodePacked(header, chunkRoot));
    }

    /// @notice {tensorCommitment} with the shape as big-endian u32 dims (a packed input descriptor's).
    function tensorCommitmentOfDims(uint32 dtype, bytes calldata dims, bytes32 chunkRoot) internal pure returns (bytes32) {
        bytes memory header = abi.encodePacked(bytes4(le32(dtype)), bytes4(le32(uint32(dims.length / 4))));
        for (uint256 i = 0; i < dims.length; i += 4) header = abi.encodePacked(header, bytes4(le32(uint32(bytes4(dims[i:i + 4])))));
        return sha256(abi.encodePacked(header, chunkRoot));
    }

    /// @notice state.ts namedLeaf: SHA-256(0x00 || u64 LE name length || name || commitment).
    function namedLeaf(bytes calldata name, bytes32 commitment) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), bytes8(le64(uint64(name.length))), name, commitment));
    }

    /// @notice state.ts headerLeaf: SHA-256(0x00 || "mycel.state.v2" || u64 LE step || u64 LE optimizer step).
    function headerLeaf(uint64 step, uint64 optStep) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), "mycel.state.v2", bytes8(le64(step)), bytes8(le64(optStep))));
    }

    /**
     * @notice op-rule.ts ruleHash: the op rule a job commits, SHA-256(programRoot || u32 programLength ||
     * u32 inputCount || inputsRoot), big-endian.
     */
    function opRule(bytes32 programRoot, uint32 programLength, uint32 inputCount, bytes32 inputsRoot) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(programRoot, programLength, inputCount, inputsRoot));
    }

    /**
     * @notice program-root.ts: the root of a program of `length` instructions that `instruction` at `pc` leads to by
     * `proof` (leaf = SHA-256(0x00 || the 8 instruction bytes)); ok is false when the path has the wrong length.
     */
    function programRootFrom(bytes8 instruction, uint32 pc, uint32 length, bytes32[] calldata proof)
        internal
        view
        returns (bool ok, bytes32 root)
    {
        return rootFromProofInPlace(leaf(abi.encodePacked(instruction)), pc, length, proof);
    }

    /// @notice Byte-swaps a 32-bit word (the TypeScript side writes little-endian words).
    function le32(uint32 x) internal pure returns (uint32) {
        return (x >> 24) | ((x >> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24);
    }

    function le64(uint64 x) internal pure returns (uint64) {
        return (uint64(le32(uint32(x))) << 32) | uint64(le32(uint32(x >> 32)));
    }
}
