// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeClient, IDisputeResolver} from "../interfaces/IDisputeResolver.sol";

/**
 * @title MockResolver: a test double of the dispute game
 * @notice Records each dispute a client (the market) opens and lets a test pick the winner with {decide}, which calls
 * the client's real resolveDispute. Only the resolver is faked; the JobMarket under test is the real contract. Never
 * deploy it outside tests: whoever calls {decide} picks the winner.
 */
contract MockResolver is IDisputeResolver {
    struct Dispute {
        uint256 ref;
        uint64 steps;
        address solver;
        address challenger;
        bytes32 solverRoot;
        bytes32 challengerRoot;
        bytes32 h0;
        bytes32 factsRoot;
        uint64 factsSize;
    }

    /// @notice Disputes opened so far; ids start at 1.
    uint256 public disputeCount;
    mapping(uint256 => Dispute) private _disputes;

    event MockDisputeOpened(uint256 indexed disputeId, uint256 indexed ref);

    /// @inheritdoc IDisputeResolver
    function openDispute(uint256 ref, Rules calldata rules, address solver, address challenger, bytes32 solverRoot, bytes32 challengerRoot)
        external
        returns (uint256 disputeId)
    {
        disputeId = ++disputeCount;
        _disputes[disputeId] = Dispute(ref, rules.steps, solver, challenger, solverRoot, challengerRoot, rules.h0, rules.factsRoot, rules.factsSize);
        emit MockDisputeOpened(disputeId, ref);
    }

    /// @notice Makes the next {openDispute} return the last id again, for the market's DisputeIdReused check.
    function repeatLastId() external {
        disputeCount -= 1;
    }

    /// @notice The dispute as the client opened it.
    function getDispute(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @notice Ends dispute `disputeId` in `client` (the market) with `winner` (address(0): both parties lost).
    function decide(IDisputeClient client, uint256 disputeId, address winner) external {
        client.resolveDispute(disputeId, winner);
    }
}
