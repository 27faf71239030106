// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {BridgeAdmin} from "./BridgeAdmin.sol";
import {BridgeBase} from "./base/BridgeBase.sol";
import {IBridgeVault, Release} from "./interfaces/IBridge.sol";
import {TokenBucket} from "./libraries/TokenBucket.sol";

/// @title BridgeVault
/// @notice Conflux eSpace side of the bridge. Users lock registered ERC-20s or CFX here; a quorum of
/// validators signs a Release to unlock them when mirrors are burned on Ethereum.
/// @dev The vault credits what it actually received (fee-on-transfer tokens) and keeps the locked
/// balance per token AND destination chain: an unlock from chain C (or a refund of a lock sent to
/// C) spends only what was locked for C, so one destination can never spend the backing of
/// another. It never pays out more than is locked; what it holds above what it owes (locked,
/// delayed and claimable amounts) the admin may sweep. Rebasing and shrinking tokens are not
/// supported (docs/contracts.md).
contract BridgeVault is BridgeBase, IBridgeVault {
    using SafeERC20 for IERC20;

    address private constant NATIVE = address(0);

    /// @notice Gas given to a native payout; a recipient that needs more gets a claim instead.
    uint256 public constant NATIVE_PAYOUT_GAS = 50_000;

    uint64 private _nonce;
    mapping(address token => bool) private _registered;
    mapping(address token => mapping(uint64 chainId => uint256)) private _locked;
    /// @dev Verified unlocks waiting for their delay (already out of `_locked`).
    mapping(address token => uint256) private _reserved;
    /// @dev The sum of `_claims` per token.
    mapping(address token => uint256) private _owed;
    mapping(address token => mapping(address account => uint256)) private _claims;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param adminDelay Admin transfer delay, also the wait of loosening changes.
    /// @param module The admin module (BridgeAdmin) the governance functions run in.
    /// @param members Validator set 1 (see rotateValidatorSet for the rules).
    constructor(
        address admin,
        uint48 adminDelay,
        BridgeAdmin module,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) BridgeBase(admin, adminDelay, module, members, jurisdictions, threshold, minJurisdictions) {}

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

    /// @notice Sends `to` what the vault holds of `token` (address(0) = CFX) above what it owes:
    /// the locked balances of every destination chain, the delayed unlocks and the claims. Never
    /// below that (L-2: an airdrop, a forced CFX transfer or a token sent by mistake).
    /// @return amount What was swept.
    function sweep(address token, address to) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroRecipient();
        uint256 held = token == NATIVE ? address(this).balance : IERC20(token).balanceOf(address(this));
        uint256 owed = _totalLocked(token) + _reserved[token] + _owed[token];
        if (held <= owed) revert NothingToSweep(token);
        amount = held - owed;
        emit Swept(token, to, amount);
        if (!_send(token, to, amount, false)) revert ClaimFailed(token, to, amount);
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
        _checkDestination(token, recipient, dstChainId);
        if (!_registered[token]) revert TokenNotRegistered(token);
        if (token.code.length == 0) revert NotAContract(token);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received == 0) revert ZeroAmount();
        return _recordLock(token, received, recipient, dstChainId);
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
        _checkDestination(NATIVE, recipient, dstChainId);
        if (!_registered[NATIVE]) revert TokenNotRegistered(NATIVE);
        return _recordLock(NATIVE, msg.value, recipient, dstChainId);
    }

    // ------------------------------------------------------------------ unlock

    /// @notice Pays out a Release signed by a quorum, or records it as delayed (`ReleaseDelayed`)
    /// when it exceeds the governor. Anyone may submit it.
    /// @dev The amount leaves the locked balance when the release is admitted (a delayed one is
    /// reserved; a cancel returns it). A payout the recipient rejects is credited to it (`claim`):
    /// the transfer still counts as executed. Unlocking does not require the token to be still
    /// registered, only enough locked balance.
    function unlock(Release calldata release, bytes calldata signatures) external nonReentrant {
        uint256 core = _coreWord();
        if (_pausedIn(core)) revert EnforcedPause();
        _unlockOne(release, signatures, core, 0, true);
    }

    /// @notice Processes each unlock on its own: an invalid item is skipped with
    /// `ReleaseSkipped(transferId, selector of the error unlock() would revert with)`, the others
    /// execute or are delayed. Reverts only when paused, empty, or the arrays differ in length.
    function unlockBatch(Release[] calldata releases, bytes[] calldata signatures) external nonReentrant {
        uint256 core = _batchCore(releases.length, signatures.length);
        for (uint256 i; i < releases.length; ++i) {
            _unlockOne(releases[i], signatures[i], core, 0, false);
        }
    }

    /// @notice `unlock` without signatures: `proof` shows that the release is a leaf of the
    /// committed `root` (see commitRoot).
    function unlockWithProof(Release calldata release, bytes32 root, bytes32[] calldata proof) external nonReentrant {
        uint256 core = _coreWord();
        if (_pausedIn(core)) revert EnforcedPause();
        _unlockOne(release, msg.data[:0], core, _provenRoot(release, root, proof), true);
    }

    /// @notice `unlockBatch` of leaves of the committed `root`, proven by one multiproof (see
    /// the gateway's releaseBatchWithProof).
    function unlockBatchWithProof(
        bytes32 root,
        Release[] calldata releases,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external nonReentrant {
        uint256 core = _batchCore(releases.length, releases.length);
        uint256 word = _provenRootOfAll(root, releases, proof, proofFlags);
        for (uint256 i; i < releases.length; ++i) {
            _unlockOne(releases[i], msg.data[:0], core, word, false);
        }
    }

    /// @notice Pays `to` what was credited to the caller for `token` after a rejected payout.
    function claim(address token, address to) external nonReentrant {
        uint256 amount = _claims[token][msg.sender];
        if (amount == 0) revert NothingToClaim(token, msg.sender);
        if (to == address(0)) revert ZeroRecipient();
        delete _claims[token][msg.sender];
        _owed[token] -= amount;
        emit Claimed(token, msg.sender, to, amount);
        if (!_send(token, to, amount, false)) revert ClaimFailed(token, to, amount);
    }

    function _unlockOne(
        Release calldata release,
        bytes calldata signatures,
        uint256 core,
        uint256 root,
        bool strict
    ) private returns (bool) {
        (bytes32 transferId, address token, address recipient, uint256 amount) = _fieldsOf(release);
        if (recipient == address(0) || recipient == address(this)) {
            return _fail(strict, transferId, ZeroRecipient.selector, 0, 0, 0, 0);
        }
        if (amount == 0) return _fail(strict, transferId, ZeroAmount.selector, 0, 0, 0, 0);
        uint256 word = _buckets[token];
        if (TokenBucket.isPaused(word)) return _fail(strict, transferId, TokenPaused.selector, 1, uint160(token), 0, 0);
        if (!_admit(release, signatures, core, root, strict)) return false;
        (uint64 srcChainId,) = _originOf(release);
        uint256 locked = _locked[token][srcChainId];
        if (amount > locked) {
            return _fail(strict, transferId, InsufficientLockedBalance.selector, 3, uint160(token), amount, locked);
        }
        unchecked {
            _locked[token][srcChainId] = locked - amount;
        }
        if (_govern(transferId, srcChainId, token, recipient, amount, word)) {
            _deliver(transferId, token, recipient, amount);
        }
        return true;
    }

    // ------------------------------------------------------------------- views

    /// @notice Whether `token` may be locked (address(0) = CFX).
    function isTokenRegistered(address token) external view returns (bool) {
        return _registered[token];
    }

    /// @notice What is locked for `token` towards all destination chains together (address(0) = CFX).
    function lockedBalance(address token) external view returns (uint256) {
        return _totalLocked(token);
    }

    /// @notice What is locked for `token` towards `dstChainId`: what unlocks from that chain (and
    /// refunds of locks sent to it) may still take.
    function lockedBalanceOf(address token, uint64 dstChainId) external view returns (uint256) {
        return _locked[token][dstChainId];
    }

    /// @notice The nonce the next lock will get.
    function nextNonce() external view returns (uint64) {
        return _nonce + 1;
    }

    /// @notice What a rejected payout credited to `account` for `token`.
    function claimable(address token, address account) external view returns (uint256) {
        return _claims[token][account];
    }

    // ---------------------------------------------------------------- internal

    /// @dev Pays out with bounded gas for CFX (no return data copied) and a non-reverting ERC-20
    /// transfer; a rejected payout becomes a claim, so no transfer is stuck.
    function _deliver(bytes32 transferId, address token, address recipient, uint256 amount) internal override {
        emit Unlocked(transferId, token, recipient, amount);
        _payout(transferId, token, recipient, amount);
    }

    /// @dev A refunded lock pays the sender back from the balance locked towards `dstChainId`.
    function _payRefund(bytes32 transferId, uint64 dstChainId, address token, address recipient, uint256 amount)
        internal
        override
    {
        uint256 locked = _locked[token][dstChainId];
        if (amount > locked) revert InsufficientLockedBalance(token, amount, locked);
        unchecked {
            _locked[token][dstChainId] = locked - amount;
        }
        emit Refunded(transferId, token, recipient, amount);
        _payout(transferId, token, recipient, amount);
    }

    function _onDelayed(uint64, address token, uint256 amount) internal override {
        _reserved[token] += amount;
    }

    function _onDelayedExecuted(address token, uint256 amount) internal override {
        _reserved[token] -= amount;
    }

    function _onDelayedCancelled(uint64 srcChainId, address token, uint256 amount) internal override {
        _reserved[token] -= amount;
        _locked[token][srcChainId] += amount;
    }

    function _totalLocked(address token) private view returns (uint256 total) {
        uint256 n = _chainIds.length;
        for (uint256 i; i < n; ++i) {
            total += _locked[token][_chainIds[i]];
        }
    }

    function _lastNonce() internal view override returns (uint64) {
        return _nonce;
    }

    function _payout(bytes32 transferId, address token, address recipient, uint256 amount) private {
        if (!_send(token, recipient, amount, true)) {
            _claims[token][recipient] += amount;
            _owed[token] += amount;
            emit PayoutDeferred(transferId, token, recipient, amount);
        }
    }

    /// @dev Sends CFX (`bounded`: with NATIVE_PAYOUT_GAS; no return data copied) or an ERC-20
    /// without reverting on the recipient's refusal.
    /// A failure with no more than 1/63 of the gas left is the submitter's short gas limit, not the
    /// recipient's refusal: it reverts (PayoutOutOfGas) so that no one can turn payouts into claims.
    function _send(address token, address to, uint256 amount, bool bounded) private returns (bool ok) {
        uint256 before = gasleft();
        if (token != NATIVE) {
            ok = IERC20(token).trySafeTransfer(to, amount);
        } else {
            uint256 nativeGas = bounded ? NATIVE_PAYOUT_GAS : before;
            if (bounded && before < nativeGas + nativeGas / 63 + 2_000) revert PayoutOutOfGas();
            assembly ("memory-safe") {
                ok := call(nativeGas, to, amount, 0, 0, 0, 0)
            }
        }
        if (!ok && gasleft() <= before / 63) revert PayoutOutOfGas();
    }

    function _recordLock(address token, uint256 amount, address recipient, uint64 dstChainId)
        private
        returns (bytes32 transferId)
    {
        _locked[token][dstChainId] += amount;
        uint64 nonce = ++_nonce;
        transferId = _transferId(nonce);
        emit Locked(transferId, nonce, token, msg.sender, recipient, amount, dstChainId);
    }

    function _checkDestination(address token, address recipient, uint64 dstChainId) private view {
        if (TokenBucket.isPaused(_buckets[token])) revert TokenPaused(token);
        address remote = _openRemoteOf(dstChainId);
        if (remote == address(0)) revert ChainNotRegistered(dstChainId);
        if (recipient == address(0) || recipient == remote || recipient == address(this)) revert ZeroRecipient();
    }
}
