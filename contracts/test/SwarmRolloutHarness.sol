// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SwarmRollout} from "../SwarmRollout.sol";

/// @title SwarmRolloutHarness: SwarmRollout's draw as external functions, for tests
contract SwarmRolloutHarness {
    function seed(bytes32 beacon, address author, uint32 index) external pure returns (bytes32) {
        return SwarmRollout.seed(beacon, author, index);
    }

    function question(bytes32 s, uint256 digits) external pure returns (uint256 a, uint256 b) {
        return SwarmRollout.question(s, digits);
    }

    function unitFloat(uint256 m) external pure returns (uint32) {
        return SwarmRollout.unitFloat(m);
    }

    function inputLeaves(bytes32 s, SwarmRollout.Layout memory l) external view returns (bytes32 promptLeaf, bytes32 answerLeaf, bytes32 uniformsLeaf) {
        return SwarmRollout.inputLeaves(s, l);
    }
}
