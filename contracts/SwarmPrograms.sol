// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SwarmEval} from "./SwarmEval.sol";

/**
 * @title SwarmPrograms: the state hashes of the swarm's disputable programs, computed on chain
 * @notice What the SwarmCoordinator needs to know about the programs it opens disputes over, and nothing else: h_0 of
 * a node's evaluation (SwarmEval.evalH0) and the opening of its score in the run's last state. Stateless (no storage,
 * no owner): deployed once beside a coordinator, which holds its address as an immutable and calls it with STATICCALL.
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

    /// @notice The leaf of the last eval state holding `scoreBits`, and its index and tree size for a policy of `policyLeafCount` leaves.
    function scoreLeaf(uint32 scoreBits, uint256 policyLeafCount) external pure returns (bytes32 leaf, uint256 index, uint256 size) {
        (index, size) = SwarmEval.scoreLeafIndex(policyLeafCount);
        leaf = SwarmEval.scoreLeaf(scoreBits);
    }

    /// @notice The steps of every evaluation program (what a coordinator's admitted programs must say).
    function evalSteps() external pure returns (uint256) {
        return SwarmEval.STEPS;
    }
}
