// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IDisputeResolver: what the JobMarket needs from a dispute game
 * @notice The JobMarket calls {openDispute} when a challenger contests a solver's committed run root, and expects
 * exactly one call back, `JobMarket.resolveDispute(disputeId, winner)`, from this same contract once the game
 * (bisection over the run's steps down to a one-step float32 proof) has a ruling, `winner` being `solver`,
 * `challenger`, or address(0) when both lost (the one-step's true state matched neither party's claim): the market
 * then slashes both stakes. The resolver never holds or moves stake: the market escrows both stakes and pays out on the
 * callback. A resolver must eventually call back (its own move timeouts decide a game whose player goes silent);
 * until it does, both stakes and the reward stay in escrow.
 */
interface IDisputeResolver {
    /**
     * @notice Whether job `jobId` has the rules its disputes are refereed by. The market lets nobody claim a job
     * without them: a claimed job whose disputes cannot open could never be challenged.
     */
    function hasRules(uint256 jobId) external view returns (bool);

    /**
     * @notice Opens a dispute between a solver's and a challenger's run roots for job `jobId`.
     * @param jobId The JobMarket job under dispute.
     * @param steps Number of steps of the job's run (the bisection range).
     * @param solver The solver, whose root was committed to the market.
     * @param challenger The challenger.
     * @param solverRoot The solver's committed run root.
     * @param challengerRoot The challenger's run root, different from `solverRoot`.
     * @return disputeId An id unique within this resolver; the market maps it back to `jobId`.
     */
    function openDispute(
        uint256 jobId,
        uint64 steps,
        address solver,
        address challenger,
        bytes32 solverRoot,
        bytes32 challengerRoot
    ) external returns (uint256 disputeId);
}
