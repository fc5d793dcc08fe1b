// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Commitments} from "./Commitments.sol";

/**
 * @title PolicyLeaves: a state-tree leaf recomputed on chain from the raw bytes it commits to
 * @notice What the coordinator's data-availability challenge checks a published policy against (docs/swarm-chain.md,
 * "Data availability"). A state's leaves (src/train/state.ts) are the header, SHA-256(0x00 || "mycel.state.v2" || u64
 * LE step || u64 LE optimizer step), and one leaf per tensor, SHA-256(0x00 || u64 LE name length || name || commitment)
 * with commitment = SHA-256(u32 LE dtype || u32 LE rank || u32 LE dims || chunk root), the chunk root being the RFC 6962
 * root over the tensor's little-endian bytes cut into 256-byte chunks (tensor-commitment.ts). All of it is SHA-256,
 * which the precompile computes for 60 gas + 12 a word: recomputing a leaf from its bytes costs a few hundred gas per
 * 256-byte chunk, far below the calldata that carries the bytes (16 gas a byte), so the raw bytes are checked as they
 * are, without any second commitment.
 */
library PolicyLeaves {
    /// @notice tensor-commitment.ts CHUNK_ELEMENTS (64) x 4 bytes: every dtype a state holds is 32-bit.
    uint256 internal constant CHUNK_BYTES = 256;

    /**
     * @notice The leaf of a state's header from its 16 bytes (u64 LE step, u64 LE optimizer step), as the TS side
     * writes them; ok is false for another length.
     */
    function headerLeaf(bytes calldata data) internal pure returns (bool ok, bytes32 leaf) {
        if (data.length != 16) return (false, 0);
        return (true, sha256(abi.encodePacked(bytes1(0x00), "mycel.state.v2", data)));
    }

    /**
     * @notice The leaf of tensor `name` (dtype code, shape, little-endian bytes `data`); ok is false when `data` does
     * not hold exactly the shape's elements (4 bytes each), so a published tensor is always one a node can load.
     */
    function tensorLeaf(bytes calldata name, uint32 dtype, uint32[] calldata shape, bytes calldata data) internal view returns (bool ok, bytes32 leaf) {
        uint256 elements = 1;
        for (uint256 i = 0; i < shape.length; ++i) elements *= shape[i];
        if (data.length != elements * 4) return (false, 0);
        return (true, Commitments.namedLeaf(name, Commitments.tensorCommitment(dtype, shape, chunkRoot(data))));
    }

    /// @notice tensor-commitment.ts chunkRoot: the RFC 6962 root over `data`'s 256-byte chunks (the last may be shorter).
    function chunkRoot(bytes calldata data) internal view returns (bytes32) {
        uint256 count = (data.length + CHUNK_BYTES - 1) / CHUNK_BYTES;
        if (count == 0) return sha256("");
        bytes32[] memory level = new bytes32[](count);
        for (uint256 c = 0; c < count; ++c) {
            uint256 start = c * CHUNK_BYTES;
            uint256 len = data.length - start < CHUNK_BYTES ? data.length - start : CHUNK_BYTES;
            level[c] = Commitments.leafInPlace(data[start:start + len]);
        }
        return Commitments.rootInPlace(level);
    }
}
