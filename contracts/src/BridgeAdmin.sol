// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BridgeStorage} from "./base/BridgeStorage.sol";
import {IBridgeAdmin} from "./interfaces/IBridge.sol";
import {SignatureBundle} from "./libraries/SignatureBundle.sol";
import {TokenBucket} from "./libraries/TokenBucket.sol";
import {ValidatorSetFactory} from "./ValidatorSetFactory.sol";

/// @title BridgeAdmin
/// @notice The governance functions of a bridge contract (vault or gateway): rotation of the
/// validator set, the previous set's window, the governor, the delay and the grace period, the
/// chain registry with kept remotes, and pausing of the whole contract, one token or one route.
/// @dev A module, not a contract of its own: it is deployed first, each bridge contract names it
/// in its constructor and forwards these functions to it by DELEGATECALL (BridgeBase), so the code runs in the
/// bridge contract's storage (declared once, in BridgeStorage), with its roles, its events and
/// msg.sender unchanged. This keeps the vault under the 24,576-byte limit of EIP-170. Calling the
/// module directly reverts (`NotDelegated`): its own storage is never used.
contract BridgeAdmin is BridgeStorage, IBridgeAdmin {
    /// @notice Checks and deploys the data contracts of the bridge contract's validator sets.
    ValidatorSetFactory public immutable validatorSetFactory;

    address private immutable _self;

    /// @dev The module's own (unused) storage gets its deployer as admin; every function below
    /// refuses to run outside a delegatecall.
    constructor() BridgeStorage(0, msg.sender) {
        validatorSetFactory = new ValidatorSetFactory();
        _self = address(this);
    }

    modifier onlyDelegated() {
        if (address(this) == _self) revert NotDelegated();
        _;
    }

    // ------------------------------------------------------------ validator set

    /// @notice See BridgeBase: replaces the validator set with a quorum of the current set's
    /// signatures over `ValidatorSetUpdate`; allowed while paused.
    function rotateValidatorSet(
        address[] calldata members,
        bytes2[] calldata jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions,
        uint64 deadline,
        bytes calldata signatures
    ) external onlyDelegated {
        if (block.timestamp > deadline) revert RotationExpired(deadline);
        Core memory core = _core;
        bytes32 digest = _hashSetUpdate(
            core.setId + 1,
            core.setData.codehash,
            deadline,
            keccak256(abi.encodePacked(members)),
            keccak256(abi.encodePacked(jurisdictions)),
            threshold,
            minJurisdictions
        );
        _requireBundle(core.setData, core.threshold, core.minJurisdictions, digest, signatures);
        _previous = PreviousSet(core.setData, core.setId, core.threshold, core.minJurisdictions);
        _previousValidUntil = uint64(block.timestamp) + _gracePeriod;
        _installSet(validatorSetFactory, core.setId + 1, members, jurisdictions, threshold, minJurisdictions);
    }

    /// @notice See BridgeBase: records `root` once a quorum (of the current set, or of the
    /// previous set within its grace period) has signed `ReleaseRoot`.
    function commitRoot(bytes32 root, uint64 srcChainId, uint64 firstNonce, uint64 lastNonce, bytes calldata signatures)
        external
        onlyDelegated
    {
        Core memory core = _core;
        if (core.paused) revert EnforcedPause();
        if (root == bytes32(0)) revert ZeroRoot();
        if (firstNonce == 0 || firstNonce > lastNonce) revert InvalidNonceRange(firstNonce, lastNonce);
        if (_routes[srcChainId] == 0) revert ChainNotRegistered(srcChainId);
        if (_roots[root] != 0) revert RootAlreadyCommitted(root);
        bytes32 digest = _hashReleaseRoot(root, srcChainId, firstNonce, lastNonce);
        uint64 setId = core.setId;
        (uint256 code, uint256 a, uint256 b) =
            SignatureBundle.check(core.setData, core.threshold, core.minJurisdictions, digest, signatures);
        if (code != SignatureBundle.OK) {
            PreviousSet memory prev = _previous;
            if (prev.setData == address(0) || block.timestamp > _previousValidUntil) {
                SignatureBundle.revertWith(code, a, b);
            }
            (uint256 prevCode,,) =
                SignatureBundle.check(prev.setData, prev.threshold, prev.minJurisdictions, digest, signatures);
            if (prevCode != SignatureBundle.OK) SignatureBundle.revertWith(code, a, b);
            setId = prev.setId;
        }
        _roots[root] = uint256(srcChainId) | (uint256(firstNonce) << 64) | (uint256(lastNonce) << 128)
            | (uint256(setId) << 192);
        emit RootCommitted(root, srcChainId, firstNonce, lastNonce, setId);
    }

    /// @notice Ends the rotated-out set's window now (admin or pauser).
    function expirePreviousSet() external onlyDelegated {
        if (!hasRole(PAUSER_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, PAUSER_ROLE);
        }
        if (_previous.setData == address(0) || block.timestamp > _previousValidUntil) revert PreviousSetNotActive();
        _previousValidUntil = uint64(block.timestamp) - 1;
        emit PreviousSetExpired(_previous.setId, msg.sender);
    }

    /// @notice Sets how long a rotated-out set stays valid (later rotations only). Shorter applies
    /// at once, longer waits for the admin delay (`applyParameter`). At most 7 days.
    function setGracePeriod(uint64 newGracePeriod) external onlyDelegated onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newGracePeriod > MAX_GRACE_PERIOD) revert GracePeriodTooLong(newGracePeriod, MAX_GRACE_PERIOD);
        if (newGracePeriod <= _gracePeriod) {
            delete _pendingParameters[GRACE_PERIOD_PARAMETER];
            _gracePeriod = newGracePeriod;
            emit GracePeriodSet(newGracePeriod);
        } else {
            _schedule(GRACE_PERIOD_PARAMETER, newGracePeriod);
        }
    }

    // ---------------------------------------------------------------- governor

    /// @notice Sets the governor of `token` (see BridgeBase for the rules); a loosening waits for
    /// the admin delay and is applied by `applyGovernor`.
    function setGovernor(address token, uint256 capacity, uint256 refillPerSecond, uint256 largeTransferThreshold)
        external
        onlyDelegated
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

    /// @notice Applies the loosening governor change scheduled for `token` once due (anyone).
    function applyGovernor(address token) external onlyDelegated {
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

    /// @notice Sets the delay of governed transfers (later ones only). Longer applies at once,
    /// shorter waits for the admin delay. At most 7 days.
    function setDelay(uint64 newDelay) external onlyDelegated onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newDelay > MAX_DELAY) revert DelayTooLong(newDelay, MAX_DELAY);
        if (newDelay >= _delay) {
            delete _pendingParameters[DELAY_PARAMETER];
            emit DelaySet(_delay, newDelay);
            _delay = newDelay;
        } else {
            _schedule(DELAY_PARAMETER, newDelay);
        }
    }

    /// @notice Applies a scheduled loosening of "delay" or "gracePeriod" when due (anyone).
    function applyParameter(bytes32 parameter) external onlyDelegated {
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

    // ---------------------------------------------------------- chain registry

    /// @notice Registers (or re-points) a peer chain and its bridge contract. The replaced remote
    /// is no longer accepted, unless `keepPrevious`: then the ids it issued stay accepted
    /// (`RemoteKept`) until `dropKeptRemote`. The route's paused flag is kept.
    function registerChain(uint64 chainId, address remoteContract, bool keepPrevious)
        external
        onlyDelegated
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (chainId == 0 || chainId == block.chainid) revert InvalidChainId(chainId);
        if (remoteContract == address(0)) revert ZeroRemoteContract();
        uint256 route = _routes[chainId];
        address previous = address(uint160(route));
        if (previous == address(0)) _chainIds.push(chainId);
        _routes[chainId] = (route & ROUTE_PAUSED) | uint160(remoteContract);
        emit ChainRegistered(chainId, remoteContract, previous);
        address kept = _keptRemotes[chainId];
        if (keepPrevious && previous != address(0) && previous != remoteContract) {
            _keptRemotes[chainId] = previous;
            if (kept != address(0) && kept != previous) emit KeptRemoteDropped(chainId, kept);
            emit RemoteKept(chainId, previous);
        } else if (kept != address(0)) {
            delete _keptRemotes[chainId];
            emit KeptRemoteDropped(chainId, kept);
        }
    }

    /// @notice Stops accepting the ids issued by the kept (replaced) remote of `chainId`.
    function dropKeptRemote(uint64 chainId) external onlyDelegated onlyRole(DEFAULT_ADMIN_ROLE) {
        address kept = _keptRemotes[chainId];
        if (kept == address(0)) revert NoKeptRemote(chainId);
        delete _keptRemotes[chainId];
        emit KeptRemoteDropped(chainId, kept);
    }

    // ----------------------------------------------------------------- pausing

    /// @notice Stops the whole contract (pauser); see BridgeBase.paused for what stops.
    function pause() external onlyDelegated onlyRole(PAUSER_ROLE) {
        if (_core.paused) revert EnforcedPause();
        _core.paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Resumes the whole contract (admin only).
    function unpause() external onlyDelegated onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_core.paused) revert ExpectedPause();
        _core.paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Pauses (pauser or admin) or resumes (admin only) everything that moves `token`
    /// here: locks or burns, releases or unlocks, delayed executions and refunds.
    function setTokenPaused(address token, bool paused_) external onlyDelegated {
        _checkPauseRole(paused_);
        uint256 word = _buckets[token];
        if (TokenBucket.isPaused(word) == paused_) _revertPauseState(paused_);
        _buckets[token] = TokenBucket.withPaused(word, paused_);
        emit TokenPauseSet(token, paused_);
    }

    /// @notice Pauses (pauser or admin) or resumes (admin only) the route to and from the
    /// registered chain `chainId`: outgoing transfers to it, incoming ones from it, their
    /// delayed executions and refunds.
    function setRoutePaused(uint64 chainId, bool paused_) external onlyDelegated {
        _checkPauseRole(paused_);
        uint256 route = _routes[chainId];
        if (route == 0) revert ChainNotRegistered(chainId);
        if ((route & ROUTE_PAUSED != 0) == paused_) _revertPauseState(paused_);
        _routes[chainId] = paused_ ? route | ROUTE_PAUSED : route & ~ROUTE_PAUSED;
        emit RoutePauseSet(chainId, paused_);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Pausing: the pauser or the admin; resuming: the admin.
    function _checkPauseRole(bool pausing) private view {
        if (hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) return;
        if (!pausing || !hasRole(PAUSER_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, pausing ? PAUSER_ROLE : DEFAULT_ADMIN_ROLE);
        }
    }

    /// @dev Pausing what is paused, or resuming what runs.
    function _revertPauseState(bool pausing) private pure {
        if (pausing) revert EnforcedPause();
        revert ExpectedPause();
    }

    function _schedule(bytes32 parameter, uint64 value) private {
        uint64 effectiveAt = uint64(block.timestamp) + uint64(defaultAdminDelay());
        _pendingParameters[parameter] = PendingParameter(value, effectiveAt);
        emit ParameterChangeScheduled(parameter, value, effectiveAt);
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
}
