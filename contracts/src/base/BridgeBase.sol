// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BridgeAdmin} from "../BridgeAdmin.sol";
import {IBridgeBase, Refund, Release} from "../interfaces/IBridge.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {SignatureBundle} from "../libraries/SignatureBundle.sol";
import {TokenBucket} from "../libraries/TokenBucket.sol";
import {ValidatorSetData} from "../libraries/ValidatorSetData.sol";
import {ValidatorSetFactory} from "../ValidatorSetFactory.sol";
import {BridgeStorage} from "./BridgeStorage.sol";

/// @title BridgeBase
/// @notice What the vault and the gateway share: the validator set (stored as a data contract),
/// EIP-712 digests, signature-bundle checks, the status of every transfer id, the governor (a
/// token bucket and a large-transfer threshold per token) with its delay, the veto by a blocking
/// minority, refunds, the chain registry, pausing and a reentrancy guard.
/// @dev The governance functions (IBridgeAdmin) are declared here and forwarded by DELEGATECALL to
/// the admin module this contract deploys (BridgeAdmin), which runs them in this contract's
/// storage; their documentation is on BridgeAdmin. The storage is declared in BridgeStorage.
abstract contract BridgeBase is BridgeStorage, IBridgeBase {
    bytes32 public constant RELEASE_TYPEHASH = keccak256(
        "Release(bytes32 transferId,uint64 srcChainId,uint64 nonce,address token,address recipient,uint256 amount)"
    );
    bytes32 public constant CANCEL_TYPEHASH = keccak256("Cancel(bytes32 transferId)");
    bytes32 public constant REFUND_TYPEHASH = keccak256(
        "Refund(bytes32 transferId,uint64 dstChainId,address token,address recipient,uint256 amount)"
    );

    /// @notice The admin module the governance functions are forwarded to (set at deployment,
    /// immutable; its code is the published BridgeAdmin build, which auditors compare).
    address public immutable adminModule;

    /// @notice Checks and deploys the data contracts of this contract's validator sets (the admin module's).
    ValidatorSetFactory public immutable validatorSetFactory;

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
    /// @param module The admin module (a BridgeAdmin deployed beforehand: the bridge contract does
    /// not create it, so that its deployment fits the 15,000,000 gas a Conflux transaction may use).
    constructor(
        address admin,
        uint48 adminDelay,
        BridgeAdmin module,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) BridgeStorage(adminDelay, admin) {
        if (address(module).code.length == 0) revert NotAContract(address(module));
        adminModule = address(module);
        ValidatorSetFactory factory = module.validatorSetFactory();
        validatorSetFactory = factory;
        _grantRole(PAUSER_ROLE, admin);
        _gracePeriod = DEFAULT_GRACE_PERIOD;
        emit GracePeriodSet(DEFAULT_GRACE_PERIOD);
        _delay = DEFAULT_DELAY;
        emit DelaySet(0, DEFAULT_DELAY);
        _installSet(factory, 1, members, jurisdictions, threshold, minJurisdictions);
    }

    // ------------------------------------------- governance (in the admin module)

    /// @notice Replaces the validator set; approved by a quorum of the CURRENT set signing
    /// `ValidatorSetUpdate` with setId = current setId + 1, replacedSetHash = `validatorSetHash()`
    /// and a `deadline`: an approval names the set it replaces and cannot be submitted after its
    /// deadline, so an abandoned or stale one is dead. The replaced set stays valid for
    /// releases until `block.timestamp + gracePeriod()` (inclusive). Allowed while paused, so that
    /// a leaked set can be replaced without reopening the bridge. Arguments: the new members
    /// (strictly ascending, 1..32, no zero address), their jurisdictions (two upper-case ASCII
    /// letters each), threshold (floor(2n/3)+1 ..= n), minJurisdictions (1 ..= distinct
    /// jurisdictions), deadline (last unix second, inclusive, the approval may be submitted) and
    /// the current set's bundle over hashValidatorSetUpdate(...).
    function rotateValidatorSet(address[] calldata, bytes2[] calldata, uint8, uint8, uint64, bytes calldata)
        external
    {
        _delegateToAdmin();
    }

    /// @notice Ends the rotated-out set's window now (admin or pauser): after a key leak, pause,
    /// rotate, then call this so the leaked set signs nothing more.
    function expirePreviousSet() external {
        _delegateToAdmin();
    }

    /// @notice Sets how long a rotated-out set stays valid; applies to later rotations only. A
    /// shorter period applies at once; a longer one waits for the admin delay (`applyParameter`).
    /// At most 7 days.
    function setGracePeriod(uint64) external {
        _delegateToAdmin();
    }

    /// @notice Sets the governor of `token` (the token delivered by this contract). Capacity 0
    /// turns it off for that token (no limit, no threshold). A change that only tightens
    /// (smaller capacity, slower refill, lower threshold, or any limit where there was none)
    /// applies at once; any loosening waits for the admin delay and is applied by `applyGovernor`.
    /// Each value must be exactly mantissa * 10^exponent with a mantissa below 2^24 (e.g.
    /// 1,500,000.000000 HKD = 15 * 10^11): limits are stored compactly, never rounded. Capacity
    /// below 2^96, refill below 2^128; a transfer of at least the threshold is always delayed
    /// (threshold 0 = none).
    function setGovernor(address, uint256, uint256, uint256) external {
        _delegateToAdmin();
    }

    /// @notice Applies the loosening governor change scheduled for `token` once its time has come (anyone).
    function applyGovernor(address) external {
        _delegateToAdmin();
    }

    /// @notice Sets the delay of transfers that exceed the bucket or reach the threshold; applies
    /// to transfers delayed later. A longer delay applies at once, a shorter one waits for the
    /// admin delay. At most 7 days.
    function setDelay(uint64) external {
        _delegateToAdmin();
    }

    /// @notice Applies a scheduled loosening of `parameter` ("delay" or "gracePeriod") when due (anyone).
    function applyParameter(bytes32) external {
        _delegateToAdmin();
    }

    /// @notice Registers (or re-points) a peer chain and its bridge contract (not 0, not this
    /// chain; remote not 0). The replaced remote's ids are refused from then on, unless
    /// `keepPrevious`: then they stay accepted (`RemoteKept`) until `dropKeptRemote`.
    /// `ChainRegistered` names the replaced remote.
    function registerChain(uint64, address, bool) external {
        _delegateToAdmin();
    }

    /// @notice Stops accepting the ids issued by the kept (replaced) remote of `chainId` (admin).
    function dropKeptRemote(uint64) external {
        _delegateToAdmin();
    }

    /// @notice Stops lock, lockNative, unlock, release, burn, executeDelayed and refund (not
    /// rotation, cancel or expirePreviousSet: the tools of an incident). Pauser.
    function pause() external {
        _delegateToAdmin();
    }

    /// @notice Resumes operations (admin only).
    function unpause() external {
        _delegateToAdmin();
    }

    /// @notice Pauses (pauser or admin) or resumes (admin) one token on its own: its locks or
    /// burns, releases or unlocks, delayed executions and refunds stop; a batch skips its items
    /// (`TokenPaused`).
    function setTokenPaused(address, bool) external {
        _delegateToAdmin();
    }

    /// @notice Pauses (pauser or admin) or resumes (admin) one route on its own: transfers to
    /// and from the registered chain `chainId`, their delayed executions and refunds (`RoutePaused`).
    function setRoutePaused(uint64, bool) external {
        _delegateToAdmin();
    }

    /// @notice Commits `root`: the Merkle root (docs/contracts.md, "Committed roots") of the
    /// Release struct hashes a quorum approved among the source nonces firstNonce..lastNonce of
    /// `srcChainId`, signed as `ReleaseRoot(bytes32 root,uint64 srcChainId,uint64 firstNonce,uint64 lastNonce)`
    /// by a quorum of the current set (or of the previous set within its grace period). Each
    /// leaf then executes with its proof (`releaseWithProof` / `unlockWithProof` and their batch
    /// forms) under the same checks as a signed release, while the set that signed the root
    /// stays valid. Once per root; not while paused; the route must be registered.
    function commitRoot(bytes32, uint64, uint64, uint64, bytes calldata) external {
        _delegateToAdmin();
    }

    // ------------------------------------------------------------ validator set

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

    /// @notice Seconds a rotated-out set stays valid after a rotation.
    function gracePeriod() external view returns (uint64) {
        return _gracePeriod;
    }

    // ---------------------------------------------------------------- governor

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
    /// it does not consume the bucket. Waits while its token or its route is paused.
    function executeDelayed(bytes32 transferId) external whenNotPaused nonReentrant {
        if (_status[transferId] != STATUS_DELAYED) revert NotDelayed(transferId);
        Delayed memory d = _delayed[transferId];
        if (block.timestamp < d.executableAt) revert DelayNotElapsed(transferId, d.executableAt);
        _requireOpen(d.token, d.srcChainId);
        _status[transferId] = STATUS_EXECUTED;
        delete _delayed[transferId];
        _onDelayedExecuted(d.token, d.amount);
        _deliver(transferId, d.token, d.recipient, d.amount);
    }

    /// @notice Cancels `transferId` for ever: a delayed transfer, or an id never executed here.
    /// Signed (`Cancel(bytes32 transferId)`) by a blocking minority of the current set: at least
    /// n - threshold + 1 distinct members, ascending as in a release bundle. Allowed while paused.
    function cancel(bytes32 transferId, bytes calldata signatures) external {
        uint8 status = uint8(_status[transferId]);
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
    /// destination `dstChainId` shows the id cancelled at its confirmed head. Once per id. Waits
    /// while the token or the route to `dstChainId` is paused.
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
        _requireOpen(refund_.token, refund_.dstChainId);
        (uint256 code, uint256 a, uint256 b) = _quorum(_coreWord(), hashRefund(refund_), signatures);
        if (code != SignatureBundle.OK) SignatureBundle.revertWith(code, a, b);
        _status[transferId] = STATUS_REFUNDED;
        _payRefund(transferId, refund_.dstChainId, refund_.token, recipient, amount);
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

    /// @notice EIP-712 digest of a ReleaseRoot under this contract's domain.
    function hashReleaseRoot(bytes32 root, uint64 srcChainId, uint64 firstNonce, uint64 lastNonce)
        external
        view
        returns (bytes32)
    {
        return _hashReleaseRoot(root, srcChainId, firstNonce, lastNonce);
    }

    /// @notice A committed root (zeros when not committed) and whether its leaves can execute now
    /// (the set that signed it is current, or previous within its grace period).
    function rootOf(bytes32 root)
        external
        view
        returns (uint64 srcChainId, uint64 firstNonce, uint64 lastNonce, uint64 setId, bool live)
    {
        uint256 word = _roots[root];
        setId = uint64(word >> 192);
        return (uint64(word), uint64(word >> 64), uint64(word >> 128), setId, word != 0 && _setLive(setId));
    }

    /// @notice EIP-712 digest of `Cancel(bytes32 transferId)` under this contract's domain.
    function hashCancel(bytes32 transferId) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CANCEL_TYPEHASH, transferId)));
    }

    /// @notice EIP-712 digest of
    /// `Refund(bytes32 transferId,uint64 dstChainId,address token,address recipient,uint256 amount)`
    /// (refund_.nonce is not part of it).
    function hashRefund(Refund calldata refund_) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    REFUND_TYPEHASH,
                    refund_.transferId,
                    refund_.dstChainId,
                    refund_.token,
                    refund_.recipient,
                    refund_.amount
                )
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

    /// @notice The EIP-712 domain separator (name "ConfluxBridge", version "1", this chain, this contract).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Reverts with the bundle error unless `signatures` is a valid quorum over `digest`
    /// for the current set (or the previous set within its grace period).
    function verifySignatures(bytes32 digest, bytes calldata signatures) external view {
        (uint256 code, uint256 a, uint256 b) = _quorum(_coreWord(), digest, signatures);
        if (code != SignatureBundle.OK) SignatureBundle.revertWith(code, a, b);
    }

    // ------------------------------------------------------------ replay guard

    /// @notice Whether a transfer id was executed, delayed or cancelled here (it can never be released again).
    function isProcessed(bytes32 transferId) external view returns (bool) {
        uint256 status = _status[transferId];
        return status != STATUS_UNKNOWN && status != STATUS_REFUNDED;
    }

    /// @notice 0 unknown, 1 executed, 2 delayed, 3 cancelled, 4 refunded (on the contract where it began).
    function statusOf(bytes32 transferId) external view returns (uint8) {
        return uint8(_status[transferId]);
    }

    // ---------------------------------------------------------- chain registry

    /// @notice The bridge contract registered for `chainId` (address(0) when not registered).
    function remoteContractOf(uint64 chainId) external view returns (address) {
        return address(uint160(_routes[chainId]));
    }

    /// @notice The replaced remote of `chainId` whose ids are still accepted (address(0): none).
    function keptRemoteOf(uint64 chainId) external view returns (address) {
        return _keptRemotes[chainId];
    }

    // ----------------------------------------------------------------- pausing

    /// @notice Whether operations are stopped.
    function paused() external view returns (bool) {
        return _core.paused;
    }

    /// @notice Whether `token` is paused on its own.
    function isTokenPaused(address token) external view returns (bool) {
        return TokenBucket.isPaused(_buckets[token]);
    }

    /// @notice Whether the route to and from `chainId` is paused on its own.
    function isRoutePaused(uint64 chainId) external view returns (bool) {
        return _routes[chainId] & ROUTE_PAUSED != 0;
    }

    // ---------------------------------------------------------------- internal

    /// @dev Delivers an executed transfer (mint, or pay out) and emits Released / Unlocked.
    function _deliver(bytes32 transferId, address token, address recipient, uint256 amount) internal virtual;

    /// @dev Pays a refund of a transfer sent to `dstChainId` (re-mint, or pay out from the locked
    /// balance) and emits Refunded.
    function _payRefund(bytes32 transferId, uint64 dstChainId, address token, address recipient, uint256 amount)
        internal
        virtual;

    /// @dev A transfer of `amount` of `token` from `srcChainId` was delayed (the vault reserves it).
    function _onDelayed(uint64 srcChainId, address token, uint256 amount) internal virtual;

    /// @dev A delayed transfer was executed (the vault releases its reservation as it pays out).
    function _onDelayedExecuted(address token, uint256 amount) internal virtual;

    /// @dev A delayed transfer was cancelled (the vault returns its reserved amount to the locked
    /// balance of the chain it came from).
    function _onDelayedCancelled(uint64 srcChainId, address token, uint256 amount) internal virtual;

    /// @dev Forwards the call to the admin module by DELEGATECALL and returns or reverts with its
    /// answer (this contract's storage, msg.sender and msg.value unchanged).
    function _delegateToAdmin() private {
        address module = adminModule;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev Reverts unless `token` and the route of `chainId` are open (not paused on their own).
    function _requireOpen(address token, uint64 chainId) internal view {
        if (TokenBucket.isPaused(_buckets[token])) revert TokenPaused(token);
        if (_routes[chainId] & ROUTE_PAUSED != 0) revert RoutePaused(chainId);
    }

    /// @dev The last nonce this contract issued.
    function _lastNonce() internal view virtual returns (uint64);

    /// @dev The core slot as one word, read without building a memory struct (the release
    /// path's first read). Core's packing: setData bits 0..159, setId 160..223, threshold
    /// 224..231, minJurisdictions 232..239, paused 240..247, entered 248..255.
    function _coreWord() internal view returns (uint256 word) {
        assembly ("memory-safe") {
            word := sload(_core.slot)
        }
    }

    /// @dev Whether the core word says paused.
    function _pausedIn(uint256 core) internal pure returns (bool) {
        return uint8(core >> 240) != 0;
    }

    /// @dev The static fields of a Release in calldata, read directly (no per-field decoder
    /// checks) and masked to their types. A dirty high bit is dropped here but stays in the
    /// digest (`_hashRelease` hashes the raw words), so such an item never carries a quorum.
    function _fieldsOf(Release calldata release)
        internal
        pure
        returns (bytes32 transferId, address token, address recipient, uint256 amount)
    {
        assembly ("memory-safe") {
            transferId := calldataload(release)
            token := and(calldataload(add(release, 0x60)), 0xffffffffffffffffffffffffffffffffffffffff)
            recipient := and(calldataload(add(release, 0x80)), 0xffffffffffffffffffffffffffffffffffffffff)
            amount := calldataload(add(release, 0xa0))
        }
    }

    /// @dev The source chain and nonce of a Release in calldata (as `_fieldsOf`).
    function _originOf(Release calldata release) internal pure returns (uint64 srcChainId, uint64 nonce) {
        assembly ("memory-safe") {
            srcChainId := and(calldataload(add(release, 0x20)), 0xffffffffffffffff)
            nonce := and(calldataload(add(release, 0x40)), 0xffffffffffffffff)
        }
    }

    /// @dev The core word for a batch of `n` releases and `m` bundles; reverts only when paused,
    /// empty or mismatched (every other failure skips one item).
    function _batchCore(uint256 n, uint256 m) internal view returns (uint256 core) {
        core = _coreWord();
        if (_pausedIn(core)) revert EnforcedPause();
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

    /// @dev The checks every release or unlock shares after the token-specific ones: the route
    /// is registered and open, the id is bound to its remote contract (or to the kept replaced
    /// one), it is new, and the bundle is a quorum; or, when `root` is a committed root's word
    /// (not 0) whose proof the caller verified, the release lies in that root's source chain and
    /// nonce range. Returns false (after _fail) when an item must be skipped.
    function _admit(Release calldata release, bytes calldata signatures, uint256 core, uint256 root, bool strict)
        internal
        returns (bool)
    {
        bytes32 transferId = release.transferId;
        {
            (uint64 srcChainId, uint64 nonce) = _originOf(release);
            uint256 route = _routes[srcChainId];
            if (route == 0) return _fail(strict, transferId, ChainNotRegistered.selector, 1, srcChainId, 0, 0);
            if (route & ROUTE_PAUSED != 0) return _fail(strict, transferId, RoutePaused.selector, 1, srcChainId, 0, 0);
            bytes32 expected = _boundId(srcChainId, address(uint160(route)), nonce);
            if (transferId != expected) {
                address kept = _keptRemotes[srcChainId];
                if (kept == address(0) || transferId != _boundId(srcChainId, kept, nonce)) {
                    return _fail(strict, transferId, WrongTransferId.selector, 2, uint256(transferId), uint256(expected), 0);
                }
            }
        }
        uint256 status = _status[transferId];
        if (status == STATUS_CANCELLED) {
            return _fail(strict, transferId, TransferCancelled.selector, 1, uint256(transferId), 0, 0);
        }
        if (status != STATUS_UNKNOWN) {
            return _fail(strict, transferId, AlreadyProcessed.selector, 1, uint256(transferId), 0, 0);
        }
        if (root != 0) {
            (uint64 srcChainId, uint64 nonce) = _originOf(release);
            if (srcChainId == uint64(root) && nonce >= uint64(root >> 64) && nonce <= uint64(root >> 128)) {
                return true;
            }
            return _fail(strict, transferId, OutsideRoot.selector, 1, uint256(transferId), 0, 0);
        }
        (uint256 code, uint256 a, uint256 b) = _quorum(core, _hashRelease(release), signatures);
        if (code == SignatureBundle.OK) return true;
        (bytes4 selector, uint256 argc) = SignatureBundle.errorOf(code);
        return _fail(strict, transferId, selector, argc, a, b, 0);
    }

    /// @dev For an admitted transfer: executes at once when the governor allows it (consuming the
    /// bucket), otherwise records it as delayed. Returns whether it executes now (the caller delivers).
    /// `word` is `_buckets[token]` as the caller read it.
    function _govern(
        bytes32 transferId,
        uint64 srcChainId,
        address token,
        address recipient,
        uint256 amount,
        uint256 word
    ) internal returns (bool) {
        (bool now_, uint256 next) = TokenBucket.take(word, amount, block.timestamp);
        if (next != word) _buckets[token] = next;
        if (now_) {
            _status[transferId] = STATUS_EXECUTED;
            return true;
        }
        uint64 executableAt = uint64(block.timestamp) + _delay;
        _status[transferId] = STATUS_DELAYED;
        _delayed[transferId] = Delayed(token, executableAt, recipient, srcChainId, amount);
        _onDelayed(srcChainId, token, amount);
        emit ReleaseDelayed(transferId, executableAt);
        return false;
    }

    function _cancel(bytes32 transferId, uint8 status, bool byGuardian) private {
        _status[transferId] = STATUS_CANCELLED;
        if (status == STATUS_DELAYED) {
            Delayed memory d = _delayed[transferId];
            delete _delayed[transferId];
            _onDelayedCancelled(d.srcChainId, d.token, d.amount);
        }
        emit ReleaseCancelled(transferId, byGuardian);
    }

    function _hashRelease(Release calldata release) internal view returns (bytes32) {
        return _hashTypedDataV4(_releaseLeaf(release));
    }

    /// @dev The Release struct hash: what a validator's signature covers (under the domain) and
    /// a leaf of a committed root. The six members are static: the calldata words are hashed
    /// directly. Dirty high bits would only change the hash, so such an item can never carry a
    /// valid quorum nor be in a signed root.
    function _releaseLeaf(Release calldata release) internal pure returns (bytes32 structHash) {
        bytes32 typehash = RELEASE_TYPEHASH;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, typehash)
            calldatacopy(add(p, 0x20), release, 0xc0)
            structHash := keccak256(p, 0xe0)
        }
    }

    /// @dev The word of committed `root` if its leaves may execute now; reverts otherwise.
    function _liveRoot(bytes32 root) internal view returns (uint256 word) {
        word = _roots[root];
        if (word == 0) revert RootNotCommitted(root);
        uint64 setId = uint64(word >> 192);
        if (!_setLive(setId)) revert RootSetExpired(root, setId);
    }

    /// @dev Whether signatures of set `setId` are accepted now: it is the current set, or the
    /// previous one within its grace period (as `_quorum` accepts bundles).
    function _setLive(uint64 setId) internal view returns (bool) {
        if (setId == _core.setId) return true;
        return setId == _previous.setId && block.timestamp <= _previousValidUntil;
    }

    /// @dev Reverts unless `proof` leads from `release` to the committed, live `root`; returns its word.
    function _provenRoot(Release calldata release, bytes32 root, bytes32[] calldata proof)
        internal
        view
        returns (uint256 word)
    {
        word = _liveRoot(root);
        if (!MerkleProof.verifyCalldata(proof, root, _releaseLeaf(release))) revert InvalidProof(root);
    }

    /// @dev Reverts unless the multiproof (OpenZeppelin's format, leaves in tree order) leads
    /// from every release of `releases` to the committed, live `root`; returns its word.
    function _provenRootOfAll(
        bytes32 root,
        Release[] calldata releases,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) internal view returns (uint256 word) {
        word = _liveRoot(root);
        uint256 n = releases.length;
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = _releaseLeaf(releases[i]);
        }
        if (!MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves)) revert InvalidProof(root);
    }

    /// @dev Checks the bundle against the current set, or the previous set while its grace period
    /// lasts. On failure the error is the current set's.
    function _quorum(uint256 core, bytes32 digest, bytes calldata signatures)
        internal
        view
        returns (uint256 code, uint256 a, uint256 b)
    {
        (code, a, b) = SignatureBundle.check(
            address(uint160(core)), uint8(core >> 224), uint8(core >> 232), digest, signatures
        );
        if (code == SignatureBundle.OK || block.timestamp > _previousValidUntil) return (code, a, b);
        PreviousSet memory prev = _previous;
        if (prev.setData == address(0)) return (code, a, b);
        (uint256 prevCode,,) =
            SignatureBundle.check(prev.setData, prev.threshold, prev.minJurisdictions, digest, signatures);
        if (prevCode == SignatureBundle.OK) return (prevCode, 0, 0);
    }

    /// @dev The registered remote contract of `chainId` (address(0) when none); reverts with
    /// RoutePaused when that route is paused on its own.
    function _openRemoteOf(uint64 chainId) internal view returns (address) {
        uint256 route = _routes[chainId];
        if (route & ROUTE_PAUSED != 0) revert RoutePaused(chainId);
        return address(uint160(route));
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
}
