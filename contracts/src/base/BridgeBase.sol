// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IBridgeBase, Refund, Release} from "../interfaces/IBridge.sol";
import {SignatureBundle} from "../libraries/SignatureBundle.sol";
import {TokenBucket} from "../libraries/TokenBucket.sol";
import {ValidatorSetData} from "../libraries/ValidatorSetData.sol";
import {ValidatorSetFactory} from "../ValidatorSetFactory.sol";

/// @title BridgeBase
/// @notice What the vault and the gateway share: the validator set (stored as a data contract),
/// its signed rotation with a grace period for the previous set, EIP-712 digests, signature-bundle
/// checks, the status of every transfer id, the governor (a token bucket and a large-transfer
/// threshold per token) with its delay, the veto by a blocking minority, refunds, the chain
/// registry, pausing and a reentrancy guard.
/// @dev Gas layout: the current set's data pointer, id, threshold, jurisdiction quorum, the paused
/// flag and the reentrancy flag share ONE storage slot, so a release reads one slot for all of them.
abstract contract BridgeBase is IBridgeBase, AccessControlDefaultAdminRules, EIP712 {
    /// @notice Role that may pause, expire the previous set early and cancel a delayed transfer
    /// during its delay (the guardian). Unpausing needs DEFAULT_ADMIN_ROLE.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    bytes32 public constant RELEASE_TYPEHASH = keccak256(
        "Release(bytes32 transferId,uint64 srcChainId,uint64 nonce,address token,address recipient,uint256 amount)"
    );
    bytes32 public constant VALIDATOR_SET_UPDATE_TYPEHASH = keccak256(
        "ValidatorSetUpdate(uint64 setId,bytes32 replacedSetHash,uint64 deadline,address[] members,bytes2[] jurisdictions,uint8 threshold,uint8 minJurisdictions)"
    );
    bytes32 public constant CANCEL_TYPEHASH = keccak256("Cancel(bytes32 transferId)");
    bytes32 public constant REFUND_TYPEHASH =
        keccak256("Refund(bytes32 transferId,address token,address recipient,uint256 amount)");

    uint64 internal constant DEFAULT_GRACE_PERIOD = 1 days;
    uint64 internal constant MAX_GRACE_PERIOD = 7 days;
    uint64 internal constant DEFAULT_DELAY = 24 hours;
    uint64 internal constant MAX_DELAY = 7 days;

    /// @notice `applyParameter` names of the values whose loosening waits for the admin delay.
    bytes32 public constant DELAY_PARAMETER = "delay";
    bytes32 public constant GRACE_PERIOD_PARAMETER = "gracePeriod";

    /// @dev statusOf values (documented on statusOf; internal to keep the runtime code small).
    uint8 internal constant STATUS_UNKNOWN = 0;
    uint8 internal constant STATUS_EXECUTED = 1;
    uint8 internal constant STATUS_DELAYED = 2;
    uint8 internal constant STATUS_CANCELLED = 3;
    uint8 internal constant STATUS_REFUNDED = 4;

    /// @dev One slot: 20 + 8 + 1 + 1 + 1 + 1 bytes.
    struct Core {
        address setData;
        uint64 setId;
        uint8 threshold;
        uint8 minJurisdictions;
        bool paused;
        bool entered;
    }

    /// @dev The set before the last rotation (setData == 0 before the first rotation).
    struct PreviousSet {
        address setData;
        uint64 setId;
        uint8 threshold;
        uint8 minJurisdictions;
    }

    /// @dev A loosening governor change waiting for the admin delay (effectiveAt == 0: none);
    /// the three limits in TokenBucket's compact form.
    struct PendingGovernor {
        uint32 capacity;
        uint32 refillPerSecond;
        uint32 largeTransferThreshold;
        uint64 effectiveAt;
    }

    /// @dev A verified transfer waiting for its delay.
    struct Delayed {
        address token;
        uint64 executableAt;
        address recipient;
        uint256 amount;
    }

    /// @dev A loosening change of the delay or the grace period (effectiveAt == 0: none).
    struct PendingParameter {
        uint64 value;
        uint64 effectiveAt;
    }

    /// @notice Checks and deploys the data contracts of this contract's validator sets.
    ValidatorSetFactory public immutable validatorSetFactory;

    Core private _core;
    PreviousSet private _previous;
    uint64 private _previousValidUntil;
    uint64 private _gracePeriod;
    uint64 private _delay;
    mapping(bytes32 transferId => uint8) private _status;
    mapping(bytes32 transferId => Delayed) private _delayed;
    mapping(uint64 chainId => address remoteContract) private _remotes;
    /// @dev token => its governor word (TokenBucket layout).
    mapping(address token => uint256) private _buckets;
    mapping(address token => PendingGovernor) private _pendingGovernors;
    mapping(bytes32 parameter => PendingParameter) private _pendingParameters;

    modifier whenNotPaused() {
        if (_core.paused) revert EnforcedPause();
        _;
    }

    /// @dev Guard for functions that call tokens or send native value; its flag lives in the core slot.
    modifier nonReentrant() {
        if (_core.entered) revert ReentrantCall();
        _core.entered = true;
        _;
        _core.entered = false;
    }

    /// @param admin Receives DEFAULT_ADMIN_ROLE (two-step transfer, see AccessControlDefaultAdminRules)
    /// and PAUSER_ROLE.
    /// @param adminDelay Seconds an admin transfer waits, and a loosening change (governor, delay,
    /// grace period) waits before it can be applied.
    constructor(
        address admin,
        uint48 adminDelay,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) AccessControlDefaultAdminRules(adminDelay, admin) EIP712("ConfluxBridge", "1") {
        validatorSetFactory = new ValidatorSetFactory();
        _grantRole(PAUSER_ROLE, admin);
        _gracePeriod = DEFAULT_GRACE_PERIOD;
        emit GracePeriodSet(DEFAULT_GRACE_PERIOD);
        _delay = DEFAULT_DELAY;
        emit DelaySet(0, DEFAULT_DELAY);
        _installSet(1, members, jurisdictions, threshold, minJurisdictions);
    }

    // ------------------------------------------------------------ validator set

    /// @notice Replaces the validator set; approved by a quorum of the CURRENT set signing
    /// `ValidatorSetUpdate` with setId = current setId + 1, replacedSetHash = `validatorSetHash()`
    /// and a `deadline`: an approval names the set it replaces and cannot be submitted after its
    /// deadline, so an abandoned or stale one is dead. The replaced set stays valid for
    /// releases until `block.timestamp + gracePeriod()` (inclusive). Allowed while paused, so that
    /// a leaked set can be replaced without reopening the bridge.
    /// @param members New members, strictly ascending, 1..32, no zero address.
    /// @param jurisdictions Two upper-case ASCII letters per member, aligned with `members`.
    /// @param threshold At least floor(2n/3)+1 and at most n.
    /// @param minJurisdictions At least 1, at most the number of distinct jurisdictions.
    /// @param deadline Last second (unix, inclusive) at which the approval may be submitted.
    /// @param signatures Bundle of the current set over hashValidatorSetUpdate(...).
    function rotateValidatorSet(
        address[] calldata members,
        bytes2[] calldata jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions,
        uint64 deadline,
        bytes calldata signatures
    ) external {
        if (block.timestamp > deadline) revert RotationExpired(deadline);
        bytes32 digest = _hashSetUpdate(
            _core.setId + 1,
            _core.setData.codehash,
            deadline,
            keccak256(abi.encodePacked(members)),
            keccak256(abi.encodePacked(jurisdictions)),
            threshold,
            minJurisdictions
        );
        Core memory core = _core;
        _requireBundle(core.setData, core.threshold, core.minJurisdictions, digest, signatures);
        _previous = PreviousSet(core.setData, core.setId, core.threshold, core.minJurisdictions);
        _previousValidUntil = uint64(block.timestamp) + _gracePeriod;
        _installSet(core.setId + 1, members, jurisdictions, threshold, minJurisdictions);
    }

    /// @notice Ends the rotated-out set's window now (admin or pauser): after a key leak, pause,
    /// rotate, then call this so the leaked set signs nothing more.
    function expirePreviousSet() external {
        if (!hasRole(PAUSER_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, PAUSER_ROLE);
        }
        if (_previous.setData == address(0) || block.timestamp > _previousValidUntil) revert PreviousSetNotActive();
        _previousValidUntil = uint64(block.timestamp) - 1;
        emit PreviousSetExpired(_previous.setId, msg.sender);
    }

    /// @notice The current validator set.
    function validatorSet()
        external
        view
        returns (
            uint64 setId,
            address[] memory members,
            bytes2[] memory jurisdictions,
            uint8 threshold,
            uint8 minJurisdictions
        )
    {
        Core memory core = _core;
        (members, jurisdictions) = ValidatorSetData.read(core.setData);
        return (core.setId, members, jurisdictions, core.threshold, core.minJurisdictions);
    }

    /// @notice The set replaced by the last rotation and the last second it is still accepted
    /// (all zero / empty before the first rotation).
    function previousValidatorSet()
        external
        view
        returns (
            uint64 setId,
            address[] memory members,
            bytes2[] memory jurisdictions,
            uint8 threshold,
            uint8 minJurisdictions,
            uint64 validUntil
        )
    {
        PreviousSet memory prev = _previous;
        if (prev.setData != address(0)) (members, jurisdictions) = ValidatorSetData.read(prev.setData);
        return (prev.setId, members, jurisdictions, prev.threshold, prev.minJurisdictions, _previousValidUntil);
    }

    /// @notice Sets how long a rotated-out set stays valid; applies to later rotations only. A
    /// shorter period applies at once; a longer one waits for the admin delay (`applyParameter`).
    /// @param newGracePeriod Seconds, at most MAX_GRACE_PERIOD (7 days).
    function setGracePeriod(uint64 newGracePeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newGracePeriod > MAX_GRACE_PERIOD) revert GracePeriodTooLong(newGracePeriod, MAX_GRACE_PERIOD);
        if (newGracePeriod <= _gracePeriod) {
            delete _pendingParameters[GRACE_PERIOD_PARAMETER];
            _gracePeriod = newGracePeriod;
            emit GracePeriodSet(newGracePeriod);
        } else {
            _schedule(GRACE_PERIOD_PARAMETER, newGracePeriod);
        }
    }

    /// @notice Seconds a rotated-out set stays valid after a rotation.
    function gracePeriod() external view returns (uint64) {
        return _gracePeriod;
    }

    // ---------------------------------------------------------------- governor

    /// @notice Sets the governor of `token` (the token delivered by this contract). Capacity 0
    /// turns it off for that token (no limit, no threshold). A change that only tightens
    /// (smaller capacity, slower refill, lower threshold, or any limit where there was none)
    /// applies at once; any loosening waits for the admin delay and is applied by `applyGovernor`.
    /// Each value must be exactly mantissa * 10^exponent with a mantissa below 2^24 (e.g.
    /// 1,500,000.000000 HKD = 15 * 10^11): limits are stored compactly, never rounded.
    /// @param capacity Most that may execute at once when the bucket is full (< 2^96).
    /// @param refillPerSecond What the bucket regains per second, up to capacity (< 2^128).
    /// @param largeTransferThreshold Transfers of at least this amount are always delayed; 0 = no threshold.
    function setGovernor(address token, uint256 capacity, uint256 refillPerSecond, uint256 largeTransferThreshold)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (capacity > type(uint96).max) revert GovernorValueTooLarge(capacity, type(uint96).max);
        if (refillPerSecond > type(uint128).max) revert GovernorValueTooLarge(refillPerSecond, type(uint128).max);
        uint32 c = _compact(capacity);
        uint32 r = _compact(refillPerSecond);
        uint32 t = _compact(largeTransferThreshold);
        uint256 word = _buckets[token];
        if (_loosens(word, capacity, refillPerSecond, largeTransferThreshold)) {
            uint64 effectiveAt = uint64(block.timestamp) + uint64(defaultAdminDelay());
            _pendingGovernors[token] = PendingGovernor(c, r, t, effectiveAt);
            emit GovernorChangeScheduled(token, capacity, refillPerSecond, largeTransferThreshold, effectiveAt);
        } else {
            delete _pendingGovernors[token];
            _buckets[token] = TokenBucket.configure(word, c, r, t, block.timestamp);
            emit GovernorSet(token, capacity, refillPerSecond, largeTransferThreshold);
        }
    }

    /// @notice Applies the loosening governor change scheduled for `token` once its time has come (anyone).
    function applyGovernor(address token) external {
        PendingGovernor memory p = _pendingGovernors[token];
        if (p.effectiveAt == 0 || block.timestamp < p.effectiveAt) revert NoChangeDue(p.effectiveAt);
        delete _pendingGovernors[token];
        _buckets[token] =
            TokenBucket.configure(_buckets[token], p.capacity, p.refillPerSecond, p.largeTransferThreshold, block.timestamp);
        emit GovernorSet(
            token,
            TokenBucket.decode(p.capacity),
            TokenBucket.decode(p.refillPerSecond),
            TokenBucket.decode(p.largeTransferThreshold)
        );
    }

    /// @notice The governor of `token` with the refill applied up to now (capacity 0 = no limit).
    function governorOf(address token)
        external
        view
        returns (uint256 capacity, uint256 available, uint256 refillPerSecond, uint256 largeTransferThreshold)
    {
        uint256 word = _buckets[token];
        return (
            TokenBucket.capacityOf(word),
            TokenBucket.availableAt(word, block.timestamp),
            TokenBucket.refillOf(word),
            TokenBucket.thresholdOf(word)
        );
    }

    /// @notice The loosening governor change waiting for `token` (effectiveAt 0 = none).
    function pendingGovernorOf(address token)
        external
        view
        returns (uint256 capacity, uint256 refillPerSecond, uint256 largeTransferThreshold, uint64 effectiveAt)
    {
        PendingGovernor memory p = _pendingGovernors[token];
        return (
            TokenBucket.decode(p.capacity),
            TokenBucket.decode(p.refillPerSecond),
            TokenBucket.decode(p.largeTransferThreshold),
            p.effectiveAt
        );
    }

    /// @notice Sets the delay of transfers that exceed the bucket or reach the threshold; applies
    /// to transfers delayed later. A longer delay applies at once, a shorter one waits for the admin delay.
    /// @param newDelay Seconds, at most MAX_DELAY (7 days).
    function setDelay(uint64 newDelay) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newDelay > MAX_DELAY) revert DelayTooLong(newDelay, MAX_DELAY);
        if (newDelay >= _delay) {
            delete _pendingParameters[DELAY_PARAMETER];
            emit DelaySet(_delay, newDelay);
            _delay = newDelay;
        } else {
            _schedule(DELAY_PARAMETER, newDelay);
        }
    }

    /// @notice Applies a scheduled loosening of `parameter` (DELAY_PARAMETER or GRACE_PERIOD_PARAMETER) when due (anyone).
    function applyParameter(bytes32 parameter) external {
        PendingParameter memory p = _pendingParameters[parameter];
        if (p.effectiveAt == 0 || block.timestamp < p.effectiveAt) revert NoChangeDue(p.effectiveAt);
        delete _pendingParameters[parameter];
        if (parameter == DELAY_PARAMETER) {
            emit DelaySet(_delay, p.value);
            _delay = p.value;
        } else {
            _gracePeriod = p.value;
            emit GracePeriodSet(p.value);
        }
    }

    /// @notice The loosening change waiting for `parameter` (effectiveAt 0 = none).
    function pendingParameterOf(bytes32 parameter) external view returns (uint64 value, uint64 effectiveAt) {
        PendingParameter memory p = _pendingParameters[parameter];
        return (p.value, p.effectiveAt);
    }

    /// @notice Seconds a delayed transfer waits before `executeDelayed` (default 24 h).
    function delay() external view returns (uint64) {
        return _delay;
    }

    // ------------------------------------------------------ delay, veto, refund

    /// @notice Executes a delayed transfer once its `executableAt` has passed. Anyone may call it;
    /// it does not consume the bucket.
    function executeDelayed(bytes32 transferId) external whenNotPaused nonReentrant {
        if (_status[transferId] != STATUS_DELAYED) revert NotDelayed(transferId);
        Delayed memory d = _delayed[transferId];
        if (block.timestamp < d.executableAt) revert DelayNotElapsed(transferId, d.executableAt);
        _status[transferId] = STATUS_EXECUTED;
        delete _delayed[transferId];
        _deliver(transferId, d.token, d.recipient, d.amount);
    }

    /// @notice Cancels `transferId` for ever: a delayed transfer, or an id never executed here.
    /// Signed (`Cancel(bytes32 transferId)`) by a blocking minority of the current set: at least
    /// n - threshold + 1 distinct members, ascending as in a release bundle. Allowed while paused.
    function cancel(bytes32 transferId, bytes calldata signatures) external {
        uint8 status = _status[transferId];
        if (status != STATUS_UNKNOWN && status != STATUS_DELAYED) revert NotCancellable(transferId, status);
        Core memory core = _core;
        uint256 members = (core.setData.code.length - 1) / 32;
        _requireBundle(core.setData, members - core.threshold + 1, 0, hashCancel(transferId), signatures);
        _cancel(transferId, status, false);
    }

    /// @notice The guardian (PAUSER_ROLE) cancels a delayed transfer during its delay.
    function guardianCancel(bytes32 transferId) external onlyRole(PAUSER_ROLE) {
        if (_status[transferId] != STATUS_DELAYED) revert NotDelayed(transferId);
        uint64 executableAt = _delayed[transferId].executableAt;
        if (block.timestamp >= executableAt) revert DelayElapsed(transferId, executableAt);
        _cancel(transferId, STATUS_DELAYED, true);
    }

    /// @notice Returns a transfer that began here to its sender, signed (`Refund`) by a full
    /// quorum (threshold and jurisdictions, as a release). Validators sign only after the
    /// destination shows the id cancelled at its confirmed head. Once per id.
    function refund(Refund calldata refund_, bytes calldata signatures) external whenNotPaused nonReentrant {
        bytes32 transferId = refund_.transferId;
        uint64 nonce = refund_.nonce;
        if (nonce == 0 || nonce > _lastNonce() || _transferId(nonce) != transferId) {
            revert NotIssuedHere(transferId, nonce);
        }
        address recipient = refund_.recipient;
        uint256 amount = refund_.amount;
        if (recipient == address(0) || recipient == address(this)) revert ZeroRecipient();
        if (amount == 0) revert ZeroAmount();
        if (_status[transferId] == STATUS_REFUNDED) revert AlreadyRefunded(transferId);
        (uint256 code, uint256 a, uint256 b) = _quorum(_core, hashRefund(refund_), signatures);
        if (code != SignatureBundle.OK) SignatureBundle.revertWith(code, a, b);
        _status[transferId] = STATUS_REFUNDED;
        _payRefund(transferId, refund_.token, recipient, amount);
    }

    /// @notice The recorded delayed transfer (zeros when `transferId` is not delayed).
    function delayedOf(bytes32 transferId)
        external
        view
        returns (address token, address recipient, uint256 amount, uint64 executableAt)
    {
        Delayed memory d = _delayed[transferId];
        return (d.token, d.recipient, d.amount, d.executableAt);
    }

    // ----------------------------------------------------------------- EIP-712

    /// @notice EIP-712 digest of a Release under this contract's domain.
    function hashRelease(Release calldata release) external view returns (bytes32 digest) {
        return _hashRelease(release);
    }

    /// @notice EIP-712 digest of `Cancel(bytes32 transferId)` under this contract's domain.
    function hashCancel(bytes32 transferId) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CANCEL_TYPEHASH, transferId)));
    }

    /// @notice EIP-712 digest of `Refund(bytes32 transferId,address token,address recipient,uint256 amount)`
    /// (refund_.nonce is not part of it).
    function hashRefund(Refund calldata refund_) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(REFUND_TYPEHASH, refund_.transferId, refund_.token, refund_.recipient, refund_.amount)
            )
        );
    }

    /// @notice The hash a rotation names as the set it replaces: the code hash of the current
    /// set's data contract (its members and jurisdictions, as `ValidatorSetData` stores them).
    function validatorSetHash() external view returns (bytes32) {
        return _core.setData.codehash;
    }

    /// @notice EIP-712 digest of a ValidatorSetUpdate under this contract's domain.
    function hashValidatorSetUpdate(
        uint64 setId,
        bytes32 replacedSetHash,
        uint64 deadline,
        address[] calldata members,
        bytes2[] calldata jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) public view returns (bytes32) {
        return _hashSetUpdate(
            setId,
            replacedSetHash,
            deadline,
            keccak256(abi.encodePacked(members)),
            keccak256(abi.encodePacked(jurisdictions)),
            threshold,
            minJurisdictions
        );
    }

    /// @dev The ValidatorSetUpdate digest from its array hashes (EIP-712 hashes an array as the
    /// keccak256 of its packed 32-byte elements).
    function _hashSetUpdate(
        uint64 setId,
        bytes32 replacedSetHash,
        uint64 deadline,
        bytes32 membersHash,
        bytes32 jurisdictionsHash,
        uint8 threshold,
        uint8 minJurisdictions
    ) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    VALIDATOR_SET_UPDATE_TYPEHASH,
                    setId,
                    replacedSetHash,
                    deadline,
                    membersHash,
                    jurisdictionsHash,
                    threshold,
                    minJurisdictions
                )
            )
        );
    }

    /// @notice The EIP-712 domain separator (name "ConfluxBridge", version "1", this chain, this contract).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Reverts with the bundle error unless `signatures` is a valid quorum over `digest`
    /// for the current set (or the previous set within its grace period).
    function verifySignatures(bytes32 digest, bytes calldata signatures) external view {
        (uint256 code, uint256 a, uint256 b) = _quorum(_core, digest, signatures);
        if (code != SignatureBundle.OK) SignatureBundle.revertWith(code, a, b);
    }

    // ------------------------------------------------------------ replay guard

    /// @notice Whether a transfer id was executed, delayed or cancelled here (it can never be released again).
    function isProcessed(bytes32 transferId) external view returns (bool) {
        uint8 status = _status[transferId];
        return status != STATUS_UNKNOWN && status != STATUS_REFUNDED;
    }

    /// @notice 0 unknown, 1 executed, 2 delayed, 3 cancelled, 4 refunded (on the contract where it began).
    function statusOf(bytes32 transferId) external view returns (uint8) {
        return _status[transferId];
    }

    // ---------------------------------------------------------- chain registry

    /// @notice Registers (or re-points) a peer chain and its bridge contract.
    /// @param chainId The peer chain's id (not 0, not this chain).
    /// @param remoteContract The bridge contract on that chain (not 0).
    function registerChain(uint64 chainId, address remoteContract) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (chainId == 0 || chainId == block.chainid) revert InvalidChainId(chainId);
        if (remoteContract == address(0)) revert ZeroRemoteContract();
        _remotes[chainId] = remoteContract;
        emit ChainRegistered(chainId, remoteContract);
    }

    /// @notice The bridge contract registered for `chainId` (address(0) when not registered).
    function remoteContractOf(uint64 chainId) external view returns (address) {
        return _remotes[chainId];
    }

    // ----------------------------------------------------------------- pausing

    /// @notice Stops lock, lockNative, unlock, release, burn, executeDelayed and refund (not
    /// rotation, cancel or expirePreviousSet: the tools of an incident).
    function pause() external onlyRole(PAUSER_ROLE) {
        if (_core.paused) revert EnforcedPause();
        _core.paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Resumes operations (admin only).
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_core.paused) revert ExpectedPause();
        _core.paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Whether operations are stopped.
    function paused() external view returns (bool) {
        return _core.paused;
    }

    // ---------------------------------------------------------------- internal

    /// @dev Delivers an executed transfer (mint, or pay out) and emits Released / Unlocked.
    function _deliver(bytes32 transferId, address token, address recipient, uint256 amount) internal virtual;

    /// @dev Pays a refund (re-mint, or pay out from the locked balance) and emits Refunded.
    function _payRefund(bytes32 transferId, address token, address recipient, uint256 amount) internal virtual;

    /// @dev A delayed transfer was cancelled (the vault returns its reserved amount to the locked balance).
    function _onDelayedCancelled(address token, uint256 amount) internal virtual;

    /// @dev The last nonce this contract issued.
    function _lastNonce() internal view virtual returns (uint64);

    function _coreSlot() internal view returns (Core memory) {
        return _core;
    }

    /// @dev The core slot for a batch of `n` releases and `m` bundles; reverts only when paused,
    /// empty or mismatched (every other failure skips one item).
    function _batchCore(uint256 n, uint256 m) internal view returns (Core memory core) {
        core = _core;
        if (core.paused) revert EnforcedPause();
        if (n == 0) revert EmptyBatch();
        if (n != m) revert BatchLengthMismatch(n, m);
    }

    /// @dev In a single call (`strict`), reverts with the custom error `selector` and its first
    /// `argc` of (a, b, c) as arguments (all static); in a batch, emits ReleaseSkipped with the
    /// selector and returns false so the batch goes on.
    function _fail(bool strict, bytes32 transferId, bytes4 selector, uint256 argc, uint256 a, uint256 b, uint256 c)
        internal
        returns (bool)
    {
        if (strict) {
            assembly ("memory-safe") {
                let p := mload(0x40)
                mstore(p, selector)
                mstore(add(p, 0x04), a)
                mstore(add(p, 0x24), b)
                mstore(add(p, 0x44), c)
                revert(p, add(4, shl(5, argc)))
            }
        }
        emit ReleaseSkipped(transferId, selector);
        return false;
    }

    /// @dev The checks every release or unlock shares after the token-specific ones: the id is
    /// bound to the registered remote contract, it is new, and the bundle is a quorum. Returns
    /// false (after _fail) when an item must be skipped.
    function _admit(Release calldata release, bytes calldata signatures, Core memory core, bool strict)
        internal
        returns (bool)
    {
        bytes32 transferId = release.transferId;
        {
            uint64 srcChainId = release.srcChainId;
            address remote = _remotes[srcChainId];
            if (remote == address(0)) return _fail(strict, transferId, ChainNotRegistered.selector, 1, srcChainId, 0, 0);
            bytes32 expected = _boundId(srcChainId, remote, release.nonce);
            if (transferId != expected) {
                return _fail(strict, transferId, WrongTransferId.selector, 2, uint256(transferId), uint256(expected), 0);
            }
        }
        uint8 status = _status[transferId];
        if (status == STATUS_CANCELLED) {
            return _fail(strict, transferId, TransferCancelled.selector, 1, uint256(transferId), 0, 0);
        }
        if (status != STATUS_UNKNOWN) {
            return _fail(strict, transferId, AlreadyProcessed.selector, 1, uint256(transferId), 0, 0);
        }
        (uint256 code, uint256 a, uint256 b) = _quorum(core, _hashRelease(release), signatures);
        if (code == SignatureBundle.OK) return true;
        (bytes4 selector, uint256 argc) = SignatureBundle.errorOf(code);
        return _fail(strict, transferId, selector, argc, a, b, 0);
    }

    /// @dev For an admitted transfer: executes at once when the governor allows it (consuming the
    /// bucket), otherwise records it as delayed. Returns whether it executes now (the caller delivers).
    function _govern(bytes32 transferId, address token, address recipient, uint256 amount) internal returns (bool) {
        if (_takeFromBucket(token, amount)) {
            _status[transferId] = STATUS_EXECUTED;
            return true;
        }
        uint64 executableAt = uint64(block.timestamp) + _delay;
        _status[transferId] = STATUS_DELAYED;
        _delayed[transferId] = Delayed(token, executableAt, recipient, amount);
        emit ReleaseDelayed(transferId, executableAt);
        return false;
    }

    /// @dev Consumes `amount` from `token`'s bucket when it fits and is below the threshold.
    function _takeFromBucket(address token, uint256 amount) private returns (bool) {
        uint256 word = _buckets[token];
        (bool ok, uint256 next) = TokenBucket.take(word, amount, block.timestamp);
        if (next != word) _buckets[token] = next;
        return ok;
    }

    function _compact(uint256 value) private pure returns (uint32 packed) {
        bool exact;
        (packed, exact) = TokenBucket.encode(value);
        if (!exact) revert GovernorValueNotRepresentable(value);
    }

    /// @dev Whether a governor change loosens any dimension (capacity 0 = no limit, threshold 0 = none).
    function _loosens(uint256 word, uint256 capacity, uint256 refill, uint256 threshold)
        private
        pure
        returns (bool)
    {
        uint256 oldCapacity = TokenBucket.capacityOf(word);
        if (oldCapacity == 0) return false; // from no limit, every setting tightens
        if (capacity == 0 || capacity > oldCapacity) return true;
        if (refill > TokenBucket.refillOf(word)) return true;
        uint256 oldThreshold = TokenBucket.thresholdOf(word);
        return oldThreshold != 0 && (threshold == 0 || threshold > oldThreshold);
    }

    /// @dev The per-token tag (TokenBucket bits 224..255) a derived contract keeps next to the bucket.
    function _tagOf(address token) internal view returns (uint32) {
        return TokenBucket.tagOf(_buckets[token]);
    }

    function _setTag(address token, uint32 tag) internal {
        _buckets[token] = TokenBucket.withTag(_buckets[token], tag);
    }

    function _schedule(bytes32 parameter, uint64 value) private {
        uint64 effectiveAt = uint64(block.timestamp) + uint64(defaultAdminDelay());
        _pendingParameters[parameter] = PendingParameter(value, effectiveAt);
        emit ParameterChangeScheduled(parameter, value, effectiveAt);
    }

    function _cancel(bytes32 transferId, uint8 status, bool byGuardian) private {
        _status[transferId] = STATUS_CANCELLED;
        if (status == STATUS_DELAYED) {
            Delayed memory d = _delayed[transferId];
            delete _delayed[transferId];
            _onDelayedCancelled(d.token, d.amount);
        }
        emit ReleaseCancelled(transferId, byGuardian);
    }

    function _hashRelease(Release calldata release) internal view returns (bytes32) {
        bytes32 typehash = RELEASE_TYPEHASH;
        bytes32 structHash;
        // The six members are static: hash the calldata words directly. Dirty high bits would only
        // change the digest, so such a call can never carry a valid quorum.
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, typehash)
            calldatacopy(add(p, 0x20), release, 0xc0)
            structHash := keccak256(p, 0xe0)
        }
        return _hashTypedDataV4(structHash);
    }

    /// @dev Reverts with the bundle's error unless `signatures` over `digest` meet `threshold`
    /// and `minJurisdictions` in the set stored at `setData`.
    function _requireBundle(
        address setData,
        uint256 threshold,
        uint256 minJurisdictions,
        bytes32 digest,
        bytes calldata signatures
    ) private view {
        (uint256 code, uint256 a, uint256 b) =
            SignatureBundle.check(setData, threshold, minJurisdictions, digest, signatures);
        if (code != SignatureBundle.OK) SignatureBundle.revertWith(code, a, b);
    }

    /// @dev Checks the bundle against the current set, or the previous set while its grace period
    /// lasts. On failure the error is the current set's.
    function _quorum(Core memory core, bytes32 digest, bytes calldata signatures)
        internal
        view
        returns (uint256 code, uint256 a, uint256 b)
    {
        (code, a, b) = SignatureBundle.check(core.setData, core.threshold, core.minJurisdictions, digest, signatures);
        if (code == SignatureBundle.OK || block.timestamp > _previousValidUntil) return (code, a, b);
        PreviousSet memory prev = _previous;
        if (prev.setData == address(0)) return (code, a, b);
        (uint256 prevCode,,) =
            SignatureBundle.check(prev.setData, prev.threshold, prev.minJurisdictions, digest, signatures);
        if (prevCode == SignatureBundle.OK) return (prevCode, 0, 0);
    }

    function _remoteOf(uint64 chainId) internal view returns (address) {
        return _remotes[chainId];
    }

    /// @dev Id of an outgoing transfer: keccak256(abi.encode(uint256 chainid, address this, uint64 nonce)).
    function _transferId(uint64 nonce) internal view returns (bytes32 id) {
        return _boundId(block.chainid, address(this), nonce);
    }

    /// @dev keccak256(abi.encode(uint256 chainId, address remote, uint256 nonce)): the id the
    /// contract `remote` on `chainId` gave its transfer `nonce`.
    function _boundId(uint256 chainId, address remote, uint64 nonce) private pure returns (bytes32 id) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, chainId)
            mstore(add(p, 0x20), remote)
            mstore(add(p, 0x40), nonce)
            id := keccak256(p, 0x60)
        }
    }

    function _installSet(
        uint64 setId,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) private {
        address data = validatorSetFactory.create(members, jurisdictions, threshold, minJurisdictions);
        Core storage core = _core;
        core.setData = data;
        core.setId = setId;
        core.threshold = threshold;
        core.minJurisdictions = minJurisdictions;
        emit ValidatorSetRotated(setId, members, jurisdictions, threshold, minJurisdictions);
    }
}
