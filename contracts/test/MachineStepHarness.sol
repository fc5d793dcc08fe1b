// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MachineStep} from "../MachineStep.sol";

/**
 * @title MachineStepHarness: MachineStep as external functions, for the differential tests against
 * src/verify/machine (step(program, state, memory), stateHashOf and initialState)
 */
contract MachineStepHarness {
    using MachineStep for MachineStep.State;

    /// @notice The argument arrays of a batch have different lengths.
    error MachineStepHarnessLengthMismatch();

    /// @notice The encoded state after one step of `program` from `pre` (a load reads `loaded`).
    function step(bytes calldata pre, bytes calldata program, uint32 loaded) external pure returns (bytes memory) {
        MachineStep.State memory s = MachineStep.decode(pre);
        s.stepProgram(program, loaded);
        return s.encode();
    }

    /// @notice stateHashOf(step(...)) for every case, in one call.
    function stepBatch(bytes[] calldata pre, bytes[] calldata programs, uint32[] calldata loaded)
        external
        pure
        returns (bytes32[] memory post)
    {
        if (pre.length != programs.length || pre.length != loaded.length) revert MachineStepHarnessLengthMismatch();
        post = new bytes32[](pre.length);
        for (uint256 i = 0; i < pre.length; ++i) {
            MachineStep.State memory s = MachineStep.decode(pre[i]);
            s.stepProgram(programs[i], loaded[i]);
            post[i] = s.hash();
        }
    }

    /// @notice MachineStep.initialStateHash.
    function initialStateHash(uint32 index) external pure returns (bytes32) {
        return MachineStep.initialStateHash(index);
    }

    /// @notice stateHashOf of an encoded state, decoded and re-encoded.
    function hashOf(bytes calldata encoded) external pure returns (bytes32) {
        return MachineStep.decode(encoded).hash();
    }
}
