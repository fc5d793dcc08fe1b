// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NodeRegistry} from "./NodeRegistry.sol";
import {Commitments} from "./Commitments.sol";
import {SwarmPrograms} from "./SwarmPrograms.sol";
import {SwarmCoordinator} from "./SwarmCoordinator.sol";

/**
 * @title SwarmAvailability: a swarm coordinator's data-availability requests (docs/swarm-chain.md, "Data availability")
 * @notice A checker whose fetch of a node's policy blob failed cannot re-execute the node's claim, so it makes the
 * node publish the policy on chain ({requestPolicy}); the node publishes its committed policy's state-tree leaves
 * ({publishPolicy}), each checked against the committed policy hash and logged; a node that does not publish in time
 * loses its claim ({forfeitUnavailable}).
 *
 * Why a contract of its own: room. The coordinator was 299 bytes under EIP-170's 24,576-byte limit with these
 * functions inside. Its coordinator creates it in its own constructor (so its address is the coordinator's first
 * CREATE, fixed at deployment, and nothing else can claim to be it) and trusts it alone to move request bonds and to
 * refute a claim whose policy was withheld. The tokens stay with the coordinator: requesters approve the coordinator,
 * as for every other bond, and the coordinator's balance is the deployment's whole holding.
 */
contract SwarmAvailability {
    /**
     * @notice A data-availability request against a node's claim ({requestPolicy}): who asked, until which block the
     * node may publish its policy, how many of its leaves it has published, and the late challenge window a complete
     * publication opens (challengeEnd: 0 until then).
     */
    struct Availability {
        address requester;
        uint64 deadline;
        uint64 challengeEnd;
        uint32 published;
        bool open; // requested, neither published in full nor forfeited
        bool forfeited;
    }

    /// @notice A round's data-availability bookkeeping: requests not yet settled, and the latest late challenge window.
    struct RoundAvailability {
        uint32 openRequests;
        uint64 challengeEnd;
    }

    /**
     * @notice One leaf of a policy's state tree as published: index 0 is the header (`data` = u64 LE step ‖ u64 LE
     * optimizer step; name and shape empty), any other index a tensor (its state name, dtype code, shape and
     * little-endian bytes); `path` opens the recomputed leaf at `index` in the committed policy hash.
     */
    struct PolicyPart {
        uint32 index;
        bytes name;
        uint32 dtype;
        uint32[] shape;
        bytes data;
        bytes32[] path;
    }

    /**
     * @notice A data-availability request's bond, in basis points of the claim bond: small, because an honest requester
     * (whose fetch failed) risks it whenever the claimer publishes; not zero, so asking for every policy costs.
     */
    uint256 public constant REQUEST_BOND_BPS = 1_000;

    /// @notice The coordinator whose claims this contract serves (its creator).
    SwarmCoordinator public immutable COORDINATOR;
    NodeRegistry public immutable REGISTRY;
    SwarmPrograms public immutable PROGRAMS;
    /// @notice The coordinator's challenge window: the time a node has to publish, and the late window a publication opens.
    uint32 public immutable CHALLENGE_BLOCKS;
    /// @notice The bond of a data-availability request: {REQUEST_BOND_BPS} of the coordinator's claim bond.
    uint256 public immutable REQUEST_BOND;

    mapping(uint256 round => mapping(address node => Availability)) private _availability;
    mapping(uint256 round => RoundAvailability) private _roundAvailability;
    /// @notice Published leaves of a request, a bit per leaf index: keccak256(round, node, index / 256) => bits.
    mapping(bytes32 key => uint256 bits) private _publishedLeaves;

    /// @notice `requester` asked for `node`'s committed policy of round `round`: it must be published before block `deadline`.
    event PolicyRequested(uint256 indexed round, address indexed node, address indexed requester, uint256 deadline);
    /// @notice `node` published leaves of its policy of round `round` in this transaction: `published` of `total` so far.
    event PolicyPublished(uint256 indexed round, address indexed node, uint256 published, uint256 total);
    /**
     * @notice Leaf `index` of `node`'s policy of round `round`, as published and checked (the header: `data` = u64 LE
     * step ‖ optimizer step; a tensor: its state name, dtype code, shape and little-endian bytes). In the log, so any
     * checker reads it with eth_getLogs however the transaction reached this contract (a smart account's calldata
     * is not the call's).
     */
    event PolicyLeafPublished(uint256 indexed round, address indexed node, uint32 index, bytes name, uint32 dtype, uint32[] shape, bytes data);
    /// @notice `node`'s policy of round `round` is on chain in full: the request's bond went to it; challenges are open until `challengeEnd`.
    event PolicyAvailable(uint256 indexed round, address indexed node, address indexed requester, uint256 challengeEnd);
    /// @notice The request against `node`'s claim of round `round` went unanswered: the claim is refuted, `prize` to the requester, `burned` burned.
    event PolicyForfeited(uint256 indexed round, address indexed node, address indexed requester, uint256 prize, uint256 burned);

    /// @notice `node` is not a registered, active node of the registry.
    error SwarmNotRegistered(address node);
    /// @notice `node` has no score claim in round `round`.
    error SwarmNoClaim(uint256 round, address node);
    /// @notice `node`'s claim of round `round` is already refuted.
    error SwarmClaimRefuted(uint256 round, address node);
    /// @notice A node cannot ask for its own policy.
    error SwarmSelfChallenge(address node);
    /// @notice Data-availability requests for round `round` closed with its challenge window at block `challengeEnd` (it is block `blockNumber`).
    error SwarmRequestClosed(uint256 round, uint256 blockNumber, uint256 challengeEnd);
    /// @notice `node`'s policy of round `round` was already requested (one request per claim: its publication is public).
    error SwarmAlreadyRequested(uint256 round, address node);
    /// @notice No data-availability request is open against `node`'s claim of round `round`.
    error SwarmNoRequest(uint256 round, address node);
    /// @notice `node`'s policy of round `round` had to be published before block `deadline` (it is block `blockNumber`).
    error SwarmPublishClosed(uint256 round, address node, uint256 blockNumber, uint256 deadline);
    /// @notice `node` may still publish its policy of round `round` until block `deadline` (it is block `blockNumber`): too early to forfeit.
    error SwarmPublishOpen(uint256 round, address node, uint256 blockNumber, uint256 deadline);
    /// @notice Leaf `index` of `node`'s policy of round `round` is already published.
    error SwarmLeafAlreadyPublished(uint256 round, address node, uint256 index);
    /// @notice The bytes published as leaf `index` do not hash to a leaf at that index of the committed policy.
    error SwarmPublishMismatch(uint256 round, address node, uint256 index);
    /// @notice Leaf `index`'s data does not fit its form: a header is 16 bytes, a tensor's bytes 4 per element of its shape.
    error SwarmPartMalformed(uint256 index);

    /// @dev Created by its coordinator's constructor, with the coordinator's registry, programs, challenge window and claim bond.
    constructor(NodeRegistry registry, SwarmPrograms programs, uint32 challengeBlocks, uint128 claimBond) {
        COORDINATOR = SwarmCoordinator(msg.sender);
        REGISTRY = registry;
        PROGRAMS = programs;
        CHALLENGE_BLOCKS = challengeBlocks;
        REQUEST_BOND = (uint256(claimBond) * REQUEST_BOND_BPS) / 10_000;
    }

    /**
     * @notice Asks for `node`'s committed policy of round `round`. By a registered node other than `node`, during the
     * round's challenge window, against a claim not refuted, once per claim, with {REQUEST_BOND} (approve the
     * coordinator, which holds it). The node then has {CHALLENGE_BLOCKS} blocks to {publishPolicy}: if it does, the
     * bond is its own (asking an honest node costs the requester); if not, anyone may {forfeitUnavailable} and the
     * claim is refuted as by a lost dispute.
     */
    function requestPolicy(uint256 round, address node) external {
        SwarmCoordinator.Entry memory e = COORDINATOR.getEntry(round, node);
        if (!e.claimed) revert SwarmNoClaim(round, node);
        if (e.refuted) revert SwarmClaimRefuted(round, node);
        (,,, uint256 challengeEnd,) = COORDINATOR.schedule(round);
        if (block.number >= challengeEnd) revert SwarmRequestClosed(round, block.number, challengeEnd);
        if (msg.sender == node) revert SwarmSelfChallenge(node);
        if (!REGISTRY.isActive(msg.sender)) revert SwarmNotRegistered(msg.sender);
        Availability storage av = _availability[round][node];
        if (av.requester != address(0)) revert SwarmAlreadyRequested(round, node);
        uint256 deadline = block.number + CHALLENGE_BLOCKS;
        av.requester = msg.sender;
        av.deadline = uint64(deadline);
        av.open = true;
        _roundAvailability[round].openRequests += 1;
        emit PolicyRequested(round, node, msg.sender, deadline);
        COORDINATOR.holdRequestBond(msg.sender, REQUEST_BOND);
    }

    /**
     * @notice The node publishes leaves of its committed policy of round `round` for the open request against it
     * (checkers read them from the {PolicyLeafPublished} logs). Each part's leaf is recomputed here from its raw bytes
     * ({PolicyLeaves}) and must open at its index in the committed policy hash; each leaf once. In as many
     * transactions as the policy's size needs, before the request's deadline. With the last leaf the policy is
     * available: the request's bond goes to the node, and the claim can be challenged for {CHALLENGE_BLOCKS} more
     * blocks (checkers need time to re-execute it).
     */
    function publishPolicy(uint256 round, PolicyPart[] calldata parts) external {
        Availability storage av = _availability[round][msg.sender];
        if (!av.open) revert SwarmNoRequest(round, msg.sender);
        if (block.number >= av.deadline) revert SwarmPublishClosed(round, msg.sender, block.number, av.deadline);
        SwarmCoordinator.Entry memory e = COORDINATOR.getEntry(round, msg.sender);
        uint256 total = abi.decode(COORDINATOR.programOf(e.modelConfig), (SwarmCoordinator.EvalProgram)).policyLeafCount;
        for (uint256 i = 0; i < parts.length; ++i) _publishPart(round, e.policyHash, total, parts[i]);
        uint256 published = av.published + parts.length;
        av.published = uint32(published);
        emit PolicyPublished(round, msg.sender, published, total);
        if (published < total) return;
        // Every leaf is on chain: the request is answered.
        uint256 challengeEnd = block.number + CHALLENGE_BLOCKS;
        av.open = false;
        av.challengeEnd = uint64(challengeEnd);
        RoundAvailability storage ra = _roundAvailability[round];
        ra.openRequests -= 1;
        if (challengeEnd > ra.challengeEnd) ra.challengeEnd = uint64(challengeEnd);
        emit PolicyAvailable(round, msg.sender, av.requester, challengeEnd);
        COORDINATOR.payRequestBond(msg.sender, REQUEST_BOND);
    }

    /// @dev Checks one published part against the committed policy hash and marks its leaf published.
    function _publishPart(uint256 round, bytes32 policyHash, uint256 total, PolicyPart calldata p) private {
        bytes32 key = keccak256(abi.encode(round, msg.sender, p.index / 256));
        uint256 bit = uint256(1) << (p.index % 256);
        uint256 bits = _publishedLeaves[key];
        if (bits & bit != 0) revert SwarmLeafAlreadyPublished(round, msg.sender, p.index);
        (bool ok, bytes32 leaf) = PROGRAMS.policyLeaf(p.index, p.name, p.dtype, p.shape, p.data);
        if (!ok) revert SwarmPartMalformed(p.index);
        if (!Commitments.opensInPlace(leaf, p.index, total, p.path, policyHash)) revert SwarmPublishMismatch(round, msg.sender, p.index);
        _publishedLeaves[key] = bits | bit;
        emit PolicyLeafPublished(round, msg.sender, p.index, p.name, p.dtype, p.shape, p.data);
    }

    /**
     * @notice Ends an unanswered request, by anyone, once its deadline has passed: `node`'s claim is refuted as by a
     * lost score dispute (its claim bond and what it held: half the bond burned, the rest and the held prizes to the
     * requester), and the requester's bond comes back. If the claim was already refuted meanwhile, only the bond comes back.
     */
    function forfeitUnavailable(uint256 round, address node) external {
        Availability storage av = _availability[round][node];
        if (!av.open) revert SwarmNoRequest(round, node);
        if (block.number < av.deadline) revert SwarmPublishOpen(round, node, block.number, av.deadline);
        av.open = false;
        av.forfeited = true;
        _roundAvailability[round].openRequests -= 1;
        address requester = av.requester;
        (uint256 prize, uint256 burned) = COORDINATOR.forfeitClaim(round, node, requester, REQUEST_BOND);
        emit PolicyForfeited(round, node, requester, prize, burned);
    }

    /// @notice For the coordinator: the late challenge window `node`'s publication opened (0: none), and whether a request against it is open.
    function lateWindow(uint256 round, address node) external view returns (uint64 challengeEnd, bool open) {
        Availability storage av = _availability[round][node];
        return (av.challengeEnd, av.open);
    }

    function getAvailability(uint256 round, address node) external view returns (Availability memory) {
        return _availability[round][node];
    }

    function getRoundAvailability(uint256 round) external view returns (RoundAvailability memory) {
        return _roundAvailability[round];
    }
}
