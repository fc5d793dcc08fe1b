// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IDisputeResolver: a dispute game any contract can open disputes in
 * @notice A client contract (the JobMarket for its jobs, the SwarmCoordinator for its score claims) calls
 * {openDispute} with the rules of the program under dispute and both parties' run roots, and expects exactly one
 * call back, {IDisputeClient.resolveDispute}(disputeId, winner), on itself (the opener) once the game (bisection
 * over the program's steps down to a one-step float32 proof) has a ruling; `winner` is `solver`, `challenger`, or
 * address(0) when both lost (the one-step's true state matched neither party's claim). The resolver never holds or
 * moves tokens: the client escrows what is at stake and pays out on the callback. A resolver must eventually call back
 * (its own move timeouts decide a game whose player goes silent).
 *
 * The resolver trusts its client for the rules: a client passes the rules it holds for the program (a job's, set by
 * its submitter; an evaluation program's, fixed at the coordinator's deployment), and each party checks them against
 * its own derivation before it stakes.
 */
interface IDisputeResolver {
    /**
     * @notice What the game referees a dispute by: h_0 of the program, the root and size of its facts tree (the step
     * program: step, op and state facts, docs/verification.md), and its number of steps (the run trees have steps + 1
     * leaves).
     */
    struct Rules {
        bytes32 h0;
        bytes32 factsRoot;
        uint64 factsSize;
        uint64 steps;
    }

    /**
     * @notice Opens a dispute between a solver's and a challenger's run roots of the program `rules` describes; the
     * ruling calls back msg.sender.
     * @param ref The client's own reference (the market's job id), echoed in the game's events.
     * @param rules The program's rules (steps in 1 .. 2^32 - 1).
     * @param solver The party whose root was committed to the client.
     * @param challenger The party contesting it.
     * @param solverRoot The solver's committed run root.
     * @param challengerRoot The challenger's run root, different from `solverRoot`.
     * @return disputeId An id unique within this resolver; the client maps it back to its own record.
     */
    function openDispute(uint256 ref, Rules calldata rules, address solver, address challenger, bytes32 solverRoot, bytes32 challengerRoot)
        external
        returns (uint256 disputeId);
}

/// @title IDisputeClient: what a contract that opens disputes in an {IDisputeResolver} must answer.
interface IDisputeClient {
    /// @notice Resolver only, once per dispute this client opened: `winner` won it (address(0): both lost).
    function resolveDispute(uint256 disputeId, address winner) external;
}
