// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeResolver} from "../interfaces/IDisputeResolver.sol";
import {JobMarket} from "../JobMarket.sol";

/**
 * @title MockResolver: a test double of the dispute game
 * @notice Records each dispute the market opens and lets a test pick the winner with {decide}, which calls the
 * market's real resolveDispute. Only the resolver is faked; the JobMarket under test is the real contract. Never
 * deploy it outside tests: whoever calls {decide} picks the winner.
 */
contract MockResolver is IDisputeResolver {
    struct Dispute {
        uint256 jobId;
        uint64 steps;
        address solver;
        address challenger;
        bytes32 solverRoot;
        bytes32 challengerRoot;
    }

    /// @notice Disputes opened so far; ids start at 1.
    uint256 public disputeCount;
    mapping(uint256 => Dispute) private _disputes;
    mapping(uint256 => bool) private _noRules;

    event MockDisputeOpened(uint256 indexed disputeId, uint256 indexed jobId);

    /// @inheritdoc IDisputeResolver
    /// @dev Every job has rules here, except those a test marked with {withholdRules}.
    function hasRules(uint256 jobId) external view returns (bool) {
        return !_noRules[jobId];
    }

    /// @notice Makes {hasRules} false for `jobId` (for the market's claim check).
    function withholdRules(uint256 jobId) external {
        _noRules[jobId] = true;
    }

    /// @inheritdoc IDisputeResolver
    function openDispute(
        uint256 jobId,
        uint64 steps,
        address solver,
        address challenger,
        bytes32 solverRoot,
        bytes32 challengerRoot
    ) external returns (uint256 disputeId) {
        disputeId = ++disputeCount;
        _disputes[disputeId] = Dispute(jobId, steps, solver, challenger, solverRoot, challengerRoot);
        emit MockDisputeOpened(disputeId, jobId);
    }

    /// @notice Makes the next {openDispute} return the last id again, for the market's DisputeIdReused check.
    function repeatLastId() external {
        disputeCount -= 1;
    }

    /// @notice The dispute as the market opened it.
    function getDispute(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @notice Ends dispute `disputeId` in `market` with `winner` (address(0): both parties lost).
    function decide(JobMarket market, uint256 disputeId, address winner) external {
        market.resolveDispute(disputeId, winner);
    }
}
