// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/**
 * @title NodeRegistry: the nodes of the mycel network and their bonds
 * @notice A node is one secp256k1 key: its Ethereum address (msg.sender) and its libp2p PeerId are derived from the
 * same key, so the address IS the identity and there is nothing to keep in sync. A node registers by bonding at
 * least {MIN_STAKE} tokens; it may also publish its 64-byte uncompressed public key (x ‖ y), which is checked to
 * hash to msg.sender (keccak256(key)[12:]), so that peers can derive its PeerId (the compressed key, off chain)
 * from the registration event alone. The 64-byte form was chosen over the 33-byte compressed key because checking
 * it is one keccak256, while decompressing on chain needs a modular square root (~10x the gas).
 *
 * Leaving: {requestWithdraw} starts the unbonding delay ({UNBONDING_DELAY} blocks) and makes the node inactive
 * (it can take no new job); {withdraw} returns the bond once the delay has passed and the node holds no job. The
 * delay is counted in blocks, like every deadline of the market and the dispute game: one clock for all of them.
 *
 * Locking: job and dispute stakes are held by the JobMarket itself, in escrow per job. The registry only counts a
 * node's open jobs ({lock}/{unlock}, callable by the market alone), and a node with open jobs cannot withdraw its
 * bond, so a solver cannot leave the network in the middle of a job. The bond itself is never slashed: there is no
 * function that moves a node's bond anywhere but back to the node.
 */
contract NodeRegistry {
    using SafeERC20 for IERC20;

    /// @notice The record of one node, one storage slot.
    struct Node {
        uint128 stake; // bonded tokens
        uint64 unlockAt; // 0 while active; else the block from which withdraw is allowed
        uint32 activeJobs; // jobs claimed and not yet settled in the market
        bool registered;
    }

    /// @notice The stake and reward token.
    IERC20 public immutable TOKEN;
    /// @notice The only contract that may {lock} and {unlock} nodes.
    address public immutable MARKET;
    /// @notice The least bond a node must stake to register.
    uint256 public immutable MIN_STAKE;
    /// @notice Blocks between {requestWithdraw} and the earliest {withdraw}.
    uint64 public immutable UNBONDING_DELAY;

    mapping(address node => Node) private _nodes;

    /// @notice `node` registered with `stake`; `publicKey` is its 64-byte uncompressed key, or empty.
    event NodeRegistered(address indexed node, uint256 stake, bytes publicKey);
    /// @notice `node` started unbonding; it may withdraw from block `unlockAt` on.
    event NodeWithdrawRequested(address indexed node, uint64 unlockAt);
    /// @notice `node` left and took back `stake`.
    event NodeWithdrawn(address indexed node, uint256 stake);
    /// @notice The market locked `node` for one more job; it now holds `activeJobs`.
    event NodeLocked(address indexed node, uint32 activeJobs);
    /// @notice The market released one job of `node`; it now holds `activeJobs`.
    event NodeUnlocked(address indexed node, uint32 activeJobs);

    /// @notice `node` is already registered.
    error NodeAlreadyRegistered(address node);
    /// @notice `node` offered `stake`, less than `minimum`.
    error NodeStakeTooLow(address node, uint256 stake, uint256 minimum);
    /// @notice The stake does not fit the registry's 128-bit field.
    error NodeStakeTooHigh(address node, uint256 stake);
    /// @notice A public key must be empty or 64 bytes (uncompressed, without the 0x04 prefix), not `length`.
    error NodePublicKeyLength(uint256 length);
    /// @notice The public key hashes to `keyAddress`, not to the sender `node`.
    error NodePublicKeyMismatch(address node, address keyAddress);
    /// @notice `node` is not registered.
    error NodeNotRegistered(address node);
    /// @notice `node` is unbonding (since it requested to withdraw; it may withdraw from block `unlockAt`).
    error NodeUnbonding(address node, uint64 unlockAt);
    /// @notice `node` has not called requestWithdraw.
    error NodeWithdrawNotRequested(address node);
    /// @notice `node` may withdraw only from block `unlockAt`; it is block `blockNumber`.
    error NodeStillUnbonding(address node, uint256 blockNumber, uint64 unlockAt);
    /// @notice `node` still holds `activeJobs` jobs in the market; its stake is locked until they settle.
    error NodeStakeLocked(address node, uint32 activeJobs);
    /// @notice Only the market may lock or unlock nodes; `caller` is not it.
    error RegistryUnauthorizedCaller(address caller);
    /// @notice The constructor needs a positive minimum stake.
    error RegistryMinStakeZero();

    /**
     * @param token The token bonds are staked in.
     * @param market The JobMarket (its address is known before it is deployed: deployMycel predicts it).
     * @param minStake The least bond; must be positive.
     * @param unbondingDelay Blocks from requestWithdraw to withdraw.
     */
    constructor(IERC20 token, address market, uint256 minStake, uint64 unbondingDelay) {
        if (minStake == 0) revert RegistryMinStakeZero();
        TOKEN = token;
        MARKET = market;
        MIN_STAKE = minStake;
        UNBONDING_DELAY = unbondingDelay;
    }

    modifier onlyMarket() {
        if (msg.sender != MARKET) revert RegistryUnauthorizedCaller(msg.sender);
        _;
    }

    /**
     * @notice Registers msg.sender as a node with a bond of `stake` tokens (approve this registry first, or use
     * the token's permit). `publicKey` is empty or the 64-byte uncompressed secp256k1 key of msg.sender.
     */
    function register(uint256 stake, bytes calldata publicKey) external {
        address node = msg.sender;
        if (_nodes[node].registered) revert NodeAlreadyRegistered(node);
        if (stake < MIN_STAKE) revert NodeStakeTooLow(node, stake, MIN_STAKE);
        if (stake > type(uint128).max) revert NodeStakeTooHigh(node, stake);
        if (publicKey.length != 0) _checkPublicKey(node, publicKey);

        _nodes[node] = Node({stake: uint128(stake), unlockAt: 0, activeJobs: 0, registered: true});
        emit NodeRegistered(node, stake, publicKey);
        TOKEN.safeTransferFrom(node, address(this), stake);
    }

    /// @notice Starts unbonding: msg.sender takes no new job and may withdraw after {UNBONDING_DELAY}.
    function requestWithdraw() external {
        Node storage n = _active(msg.sender);
        uint64 unlockAt = uint64(block.number) + UNBONDING_DELAY;
        n.unlockAt = unlockAt;
        emit NodeWithdrawRequested(msg.sender, unlockAt);
    }

    /// @notice Returns msg.sender's bond once unbonded and free of jobs, and deregisters it.
    function withdraw() external {
        address node = msg.sender;
        Node memory n = _nodes[node];
        if (!n.registered) revert NodeNotRegistered(node);
        if (n.unlockAt == 0) revert NodeWithdrawNotRequested(node);
        if (block.number < n.unlockAt) revert NodeStillUnbonding(node, block.number, n.unlockAt);
        if (n.activeJobs != 0) revert NodeStakeLocked(node, n.activeJobs);

        delete _nodes[node];
        emit NodeWithdrawn(node, n.stake);
        TOKEN.safeTransfer(node, n.stake);
    }

    /// @notice Market only: `node` (registered, not unbonding) takes one more job.
    function lock(address node) external onlyMarket {
        Node storage n = _active(node);
        uint32 jobs = n.activeJobs + 1;
        n.activeJobs = jobs;
        emit NodeLocked(node, jobs);
    }

    /// @notice Market only: one job of `node` settled.
    function unlock(address node) external onlyMarket {
        Node storage n = _nodes[node];
        // Checked arithmetic: the market unlocks only nodes it locked, so an underflow would be a market bug.
        uint32 jobs = n.activeJobs - 1;
        n.activeJobs = jobs;
        emit NodeUnlocked(node, jobs);
    }

    /// @notice The record of `node` (all zero when it is not registered).
    function getNode(address node) external view returns (Node memory) {
        return _nodes[node];
    }

    /// @notice Whether `node` is registered and not unbonding, i.e. may take jobs.
    function isActive(address node) external view returns (bool) {
        Node memory n = _nodes[node];
        return n.registered && n.unlockAt == 0;
    }

    function _active(address node) private view returns (Node storage n) {
        n = _nodes[node];
        if (!n.registered) revert NodeNotRegistered(node);
        if (n.unlockAt != 0) revert NodeUnbonding(node, n.unlockAt);
    }

    function _checkPublicKey(address node, bytes calldata publicKey) private pure {
        if (publicKey.length != 64) revert NodePublicKeyLength(publicKey.length);
        address keyAddress = address(uint160(uint256(keccak256(publicKey))));
        if (keyAddress != node) revert NodePublicKeyMismatch(node, keyAddress);
    }
}
