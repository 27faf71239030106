// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IBridgeCommon} from "../interfaces/IBridge.sol";
import {SignatureBundle} from "../libraries/SignatureBundle.sol";
import {ValidatorSetFactory} from "../ValidatorSetFactory.sol";

/// @title BridgeStorage
/// @notice The state that the vault, the gateway and their admin module (BridgeAdmin) share, and
/// the few helpers both sides need. The module runs by delegatecall in the bridge contract's
/// storage, so this contract is the ONE place where that storage is declared: BridgeBase and
/// BridgeAdmin declare no state of their own, and a derived contract (vault, gateway) only appends
/// after it. tests/unit/test_artifacts.py compares the layouts.
/// @dev Gas layout: the current set's data pointer, id, threshold, jurisdiction quorum, the paused
/// flag and the reentrancy flag share ONE storage slot, so a release reads one slot for all of them.
abstract contract BridgeStorage is IBridgeCommon, AccessControlDefaultAdminRules, EIP712 {
    /// @notice Role that may pause (the bridge, a token or a route), expire the previous set early
    /// and cancel a delayed transfer during its delay (the guardian). Unpausing needs DEFAULT_ADMIN_ROLE.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    bytes32 public constant VALIDATOR_SET_UPDATE_TYPEHASH = keccak256(
        "ValidatorSetUpdate(uint64 setId,bytes32 replacedSetHash,uint64 deadline,address[] members,bytes2[] jurisdictions,uint8 threshold,uint8 minJurisdictions)"
    );

    /// @notice EIP-712 type of a committed root: the Merkle root of the Release struct hashes a
    /// validator approved among the consecutive source nonces firstNonce..lastNonce of srcChainId.
    bytes32 public constant RELEASE_ROOT_TYPEHASH =
        keccak256("ReleaseRoot(bytes32 root,uint64 srcChainId,uint64 firstNonce,uint64 lastNonce)");

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

    /// @dev Bit of a route word (`_routes`) above the remote address: the route is paused.
    uint256 internal constant ROUTE_PAUSED = 1 << 160;

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

    /// @dev A verified transfer waiting for its delay (three slots: token and time; recipient and
    /// the chain it came from; amount).
    struct Delayed {
        address token;
        uint64 executableAt;
        address recipient;
        uint64 srcChainId;
        uint256 amount;
    }

    /// @dev A loosening change of the delay or the grace period (effectiveAt == 0: none).
    struct PendingParameter {
        uint64 value;
        uint64 effectiveAt;
    }

    Core internal _core;
    PreviousSet internal _previous;
    uint64 internal _previousValidUntil;
    uint64 internal _gracePeriod;
    uint64 internal _delay;
    /// @dev A full word per id (a STATUS_* value): writing it needs no read-modify-write.
    mapping(bytes32 transferId => uint256) internal _status;
    mapping(bytes32 transferId => Delayed) internal _delayed;
    /// @dev chainId => remote contract (bits 0..159) | ROUTE_PAUSED; 0 = not registered.
    mapping(uint64 chainId => uint256) internal _routes;
    /// @dev chainId => a replaced remote whose ids are still accepted (registerChain keepPrevious).
    mapping(uint64 chainId => address) internal _keptRemotes;
    /// @dev Every chain id ever registered, in order of first registration.
    uint64[] internal _chainIds;
    /// @dev token => its governor word (TokenBucket layout, with the token's paused bit).
    mapping(address token => uint256) internal _buckets;
    mapping(address token => PendingGovernor) internal _pendingGovernors;
    mapping(bytes32 parameter => PendingParameter) internal _pendingParameters;
    /// @dev Committed roots: srcChainId bits 0..63, firstNonce 64..127, lastNonce 128..191, the id
    /// of the set whose quorum signed it 192..255 (never 0: set ids start at 1). 0 = not committed.
    mapping(bytes32 root => uint256) internal _roots;

    constructor(uint48 adminDelay, address admin)
        AccessControlDefaultAdminRules(adminDelay, admin)
        EIP712("ConfluxBridge", "1")
    {}

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
    ) internal view returns (bytes32) {
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

    /// @dev Reverts with the bundle's error unless `signatures` over `digest` meet `threshold`
    /// and `minJurisdictions` in the set stored at `setData`.
    /// @dev EIP-712 digest of ReleaseRoot(root, srcChainId, firstNonce, lastNonce).
    function _hashReleaseRoot(bytes32 root, uint64 srcChainId, uint64 firstNonce, uint64 lastNonce)
        internal
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(RELEASE_ROOT_TYPEHASH, root, srcChainId, firstNonce, lastNonce)));
    }

    function _requireBundle(
        address setData,
        uint256 threshold,
        uint256 minJurisdictions,
        bytes32 digest,
        bytes calldata signatures
    ) internal view {
        (uint256 code, uint256 a, uint256 b) =
            SignatureBundle.check(setData, threshold, minJurisdictions, digest, signatures);
        if (code != SignatureBundle.OK) SignatureBundle.revertWith(code, a, b);
    }

    /// @dev Checks the set with `factory`, deploys its data contract and makes it current.
    function _installSet(
        ValidatorSetFactory factory,
        uint64 setId,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) internal {
        address data = factory.create(members, jurisdictions, threshold, minJurisdictions);
        Core storage core = _core;
        core.setData = data;
        core.setId = setId;
        core.threshold = threshold;
        core.minJurisdictions = minJurisdictions;
        emit ValidatorSetRotated(setId, members, jurisdictions, threshold, minJurisdictions);
    }
}
