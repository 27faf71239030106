// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {BridgeBase} from "./base/BridgeBase.sol";
import {IBridgeVault, Release} from "./interfaces/IBridge.sol";

/// @title BridgeVault
/// @notice Conflux eSpace side of the bridge. Users lock registered ERC-20s or CFX here; a quorum of
/// validators signs a Release to unlock them when mirrors are burned on Ethereum.
/// @dev The vault credits what it actually received (fee-on-transfer tokens) and never pays out more
/// of a token than is locked for it (`lockedBalance`).
contract BridgeVault is BridgeBase, IBridgeVault {
    using SafeERC20 for IERC20;

    address private constant NATIVE = address(0);

    uint64 private _nonce;
    mapping(address token => bool) private _registered;
    mapping(address token => uint256) private _locked;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param members Validator set 1 (see rotateValidatorSet for the rules).
    constructor(
        address admin,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) BridgeBase(admin, members, jurisdictions, threshold, minJurisdictions) {}

    // ------------------------------------------------------------------- admin

    /// @notice Allows `token` to be locked; address(0) registers native CFX.
    function registerToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token != NATIVE && token.code.length == 0) revert NotAContract(token);
        if (_registered[token]) revert TokenAlreadyRegistered(token);
        _registered[token] = true;
        emit TokenRegistered(token);
    }

    /// @notice Stops new locks of `token`; what is locked can still be unlocked.
    function unregisterToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_registered[token]) revert TokenNotRegistered(token);
        _registered[token] = false;
        emit TokenUnregistered(token);
    }

    // ------------------------------------------------------------------- locks

    /// @notice Locks `amount` of `token` for `recipient` on `dstChainId`. The event and the locked
    /// balance carry the amount the vault actually received.
    /// @return transferId keccak256(abi.encode(uint256 chainid, address vault, uint64 nonce)).
    function lock(address token, uint256 amount, address recipient, uint64 dstChainId)
        external
        whenNotPaused
        nonReentrant
        returns (bytes32 transferId)
    {
        if (amount == 0) revert ZeroAmount();
        if (token == NATIVE) revert UseLockNative();
        _checkDestination(recipient, dstChainId);
        if (!_registered[token]) revert TokenNotRegistered(token);
        if (token.code.length == 0) revert NotAContract(token);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received == 0) revert ZeroAmount();
        _locked[token] += received;
        uint64 nonce = ++_nonce;
        transferId = _transferId(nonce);
        emit Locked(transferId, nonce, token, msg.sender, recipient, received, dstChainId);
    }

    /// @notice Locks the CFX sent with the call for `recipient` on `dstChainId` (token = address(0)).
    function lockNative(address recipient, uint64 dstChainId)
        external
        payable
        whenNotPaused
        nonReentrant
        returns (bytes32 transferId)
    {
        if (msg.value == 0) revert ZeroAmount();
        _checkDestination(recipient, dstChainId);
        if (!_registered[NATIVE]) revert TokenNotRegistered(NATIVE);
        _locked[NATIVE] += msg.value;
        uint64 nonce = ++_nonce;
        transferId = _transferId(nonce);
        emit Locked(transferId, nonce, NATIVE, msg.sender, recipient, msg.value, dstChainId);
    }

    // ------------------------------------------------------------------ unlock

    /// @notice Pays out a Release signed by a quorum. Anyone may submit it.
    /// @dev If a native recipient reverts, the whole call reverts with NativeTransferFailed and
    /// nothing is marked processed: the same release can be submitted again later.
    /// Unlocking does not require the token to be still registered, only enough locked balance.
    function unlock(Release calldata release, bytes calldata signatures) external whenNotPaused nonReentrant {
        address recipient = release.recipient;
        uint256 amount = release.amount;
        address token = release.token;
        uint64 srcChainId = release.srcChainId;
        if (recipient == address(0) || recipient == address(this)) revert ZeroRecipient();
        if (amount == 0) revert ZeroAmount();
        if (_remoteOf(srcChainId) == address(0)) revert ChainNotRegistered(srcChainId);
        bytes32 transferId = release.transferId;
        _markProcessed(transferId);
        _verify(_hashRelease(release), signatures);
        uint256 locked = _locked[token];
        if (amount > locked) revert InsufficientLockedBalance(token, amount, locked);
        unchecked {
            _locked[token] = locked - amount;
        }
        emit Unlocked(transferId, token, recipient, amount);
        if (token == NATIVE) {
            (bool ok,) = recipient.call{value: amount}("");
            if (!ok) revert NativeTransferFailed(recipient, amount);
        } else {
            IERC20(token).safeTransfer(recipient, amount);
        }
    }

    // ------------------------------------------------------------------- views

    /// @notice Whether `token` may be locked (address(0) = CFX).
    function isTokenRegistered(address token) external view returns (bool) {
        return _registered[token];
    }

    /// @notice What is locked for `token` and may still be unlocked (address(0) = CFX).
    function lockedBalance(address token) external view returns (uint256) {
        return _locked[token];
    }

    /// @notice The nonce the next lock will get.
    function nextNonce() external view returns (uint64) {
        return _nonce + 1;
    }

    function _checkDestination(address recipient, uint64 dstChainId) private view {
        address remote = _remoteOf(dstChainId);
        if (remote == address(0)) revert ChainNotRegistered(dstChainId);
        if (recipient == address(0) || recipient == remote || recipient == address(this)) revert ZeroRecipient();
    }
}
