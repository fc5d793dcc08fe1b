// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SwarmEval} from "../SwarmEval.sol";

/**
 * @title SwarmEvalHarness: SwarmEval's functions as external ones, for tests and benchmarks
 * @notice evalH0 also returns the gas spent inside the library call (gasleft() around it: calldata decoding excluded).
 */
contract SwarmEvalHarness {
    function evalH0(bytes32 beacon, bytes32[] calldata policyLeaves) external view returns (bytes32 policyHash, bytes32 h0, uint256 gasUsed) {
        uint256 before = gasleft();
        (policyHash, h0) = SwarmEval.evalH0(beacon, policyLeaves);
        gasUsed = before - gasleft();
    }

    function scoreLeaf(uint32 scoreBits) external pure returns (bytes32) {
        return SwarmEval.scoreLeaf(scoreBits);
    }

    function scoreLeafIndex(uint256 policyLeafCount) external pure returns (uint256 index, uint256 size) {
        return SwarmEval.scoreLeafIndex(policyLeafCount);
    }

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

    function drawRow(bytes32 beacon, uint256 row) external pure returns (uint256 a, uint256 b) {
        return SwarmEval.drawRow(beacon, row);
    }

    function dataLeaves(bytes32 beacon) external view returns (bytes32 tokensLeaf, bytes32 atLeaf, bytes32 targetLeaf) {
        return SwarmEval.dataLeaves(beacon);
    }

    /// @notice The deployment's constants: digits, rows, tokens generated per row, steps.
    function evalLayout() external pure returns (uint256 digits, uint256 rows, uint256 generated, uint256 steps) {
        return (SwarmEval.DIGITS, SwarmEval.ROWS, SwarmEval.GENERATED, SwarmEval.STEPS);
    }
}
