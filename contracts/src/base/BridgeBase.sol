// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IBridgeBase, Release} from "../interfaces/IBridge.sol";
import {SignatureBundle} from "../libraries/SignatureBundle.sol";
import {ValidatorSetData} from "../libraries/ValidatorSetData.sol";

/// @title BridgeBase
/// @notice What the vault and the gateway share: the validator set (stored as a data contract),
/// its signed rotation with a grace period for the previous set, EIP-712 digests, signature-bundle
/// checks, processed transfer ids, the chain registry, pausing and a reentrancy guard.
/// @dev Gas layout: the current set's data pointer, id, threshold, jurisdiction quorum, the paused
/// flag and the reentrancy flag share ONE storage slot, so a release reads one slot for all of them.
abstract contract BridgeBase is IBridgeBase, AccessControl, EIP712 {
    /// @notice Role that may pause (unpausing needs DEFAULT_ADMIN_ROLE).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    bytes32 public constant RELEASE_TYPEHASH = keccak256(
        "Release(bytes32 transferId,uint64 srcChainId,uint64 nonce,address token,address recipient,uint256 amount)"
    );
    bytes32 public constant VALIDATOR_SET_UPDATE_TYPEHASH = keccak256(
        "ValidatorSetUpdate(uint64 setId,address[] members,bytes2[] jurisdictions,uint8 threshold,uint8 minJurisdictions)"
    );

    uint64 public constant DEFAULT_GRACE_PERIOD = 1 days;
    uint64 public constant MAX_GRACE_PERIOD = 30 days;

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

    Core private _core;
    PreviousSet private _previous;
    uint64 private _previousValidUntil;
    uint64 private _gracePeriod;
    mapping(bytes32 transferId => bool) private _processed;
    mapping(uint64 chainId => address remoteContract) private _remotes;

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

    constructor(
        address admin,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) EIP712("ConfluxBridge", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _gracePeriod = DEFAULT_GRACE_PERIOD;
        emit GracePeriodSet(DEFAULT_GRACE_PERIOD);
        _installSet(1, members, jurisdictions, threshold, minJurisdictions);
    }

    // ------------------------------------------------------------ validator set

    /// @notice Replaces the validator set; approved by a quorum of the CURRENT set signing
    /// `ValidatorSetUpdate` with setId = current setId + 1. The replaced set stays valid for
    /// releases until `block.timestamp + gracePeriod()` (inclusive).
    /// @param members New members, strictly ascending, 1..32, no zero address.
    /// @param jurisdictions Two upper-case ASCII letters per member, aligned with `members`.
    /// @param threshold At least floor(2n/3)+1 and at most n.
    /// @param minJurisdictions At least 1, at most the number of distinct jurisdictions.
    /// @param signatures Bundle of the current set over hashValidatorSetUpdate(...).
    function rotateValidatorSet(
        address[] calldata members,
        bytes2[] calldata jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions,
        bytes calldata signatures
    ) external whenNotPaused {
        Core memory core = _core;
        uint64 newSetId = core.setId + 1;
        bytes32 digest = hashValidatorSetUpdate(newSetId, members, jurisdictions, threshold, minJurisdictions);
        (uint256 code, uint256 a, uint256 b) =
            SignatureBundle.check(core.setData, core.threshold, core.minJurisdictions, digest, signatures);
        if (code != SignatureBundle.OK) SignatureBundle.revertWith(code, a, b);
        _previous = PreviousSet(core.setData, core.setId, core.threshold, core.minJurisdictions);
        _previousValidUntil = uint64(block.timestamp) + _gracePeriod;
        _installSet(newSetId, members, jurisdictions, threshold, minJurisdictions);
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

    /// @notice Sets how long a rotated-out set stays valid; applies to later rotations only.
    /// @param newGracePeriod Seconds, at most MAX_GRACE_PERIOD.
    function setGracePeriod(uint64 newGracePeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newGracePeriod > MAX_GRACE_PERIOD) revert GracePeriodTooLong(newGracePeriod, MAX_GRACE_PERIOD);
        _gracePeriod = newGracePeriod;
        emit GracePeriodSet(newGracePeriod);
    }

    /// @notice Seconds a rotated-out set stays valid after a rotation.
    function gracePeriod() external view returns (uint64) {
        return _gracePeriod;
    }

    // ----------------------------------------------------------------- EIP-712

    /// @notice EIP-712 digest of a Release under this contract's domain.
    function hashRelease(Release calldata release) external view returns (bytes32 digest) {
        return _hashRelease(release);
    }

    /// @notice EIP-712 digest of a ValidatorSetUpdate under this contract's domain.
    function hashValidatorSetUpdate(
        uint64 setId,
        address[] calldata members,
        bytes2[] calldata jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    VALIDATOR_SET_UPDATE_TYPEHASH,
                    setId,
                    keccak256(abi.encodePacked(members)),
                    keccak256(abi.encodePacked(jurisdictions)),
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
        _verify(digest, signatures);
    }

    // ------------------------------------------------------------ replay guard

    /// @notice Whether a transfer id has been released / unlocked here.
    function isProcessed(bytes32 transferId) external view returns (bool) {
        return _processed[transferId];
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

    /// @notice Stops lock, lockNative, unlock, release, burn and rotation.
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

    /// @dev Reverts unless the bundle is a quorum of the current set, or of the previous set while
    /// its grace period lasts. On failure the error is the current set's.
    function _verify(bytes32 digest, bytes calldata signatures) internal view {
        Core memory core = _core;
        (uint256 code, uint256 a, uint256 b) =
            SignatureBundle.check(core.setData, core.threshold, core.minJurisdictions, digest, signatures);
        if (code == SignatureBundle.OK) return;
        if (block.timestamp <= _previousValidUntil) {
            PreviousSet memory prev = _previous;
            if (prev.setData == address(0)) SignatureBundle.revertWith(code, a, b);
            (uint256 prevCode,,) =
                SignatureBundle.check(prev.setData, prev.threshold, prev.minJurisdictions, digest, signatures);
            if (prevCode == SignatureBundle.OK) return;
        }
        SignatureBundle.revertWith(code, a, b);
    }

    /// @dev Marks a transfer id processed; reverts if it already was.
    function _markProcessed(bytes32 transferId) internal {
        if (_processed[transferId]) revert AlreadyProcessed(transferId);
        _processed[transferId] = true;
    }

    function _remoteOf(uint64 chainId) internal view returns (address) {
        return _remotes[chainId];
    }

    /// @dev Id of an outgoing transfer: keccak256(abi.encode(uint256 chainid, address this, uint64 nonce)).
    function _transferId(uint64 nonce) internal view returns (bytes32 id) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, chainid())
            mstore(add(p, 0x20), address())
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
        address data = ValidatorSetData.create(members, jurisdictions, threshold, minJurisdictions);
        Core storage core = _core;
        core.setData = data;
        core.setId = setId;
        core.threshold = threshold;
        core.minJurisdictions = minJurisdictions;
        emit ValidatorSetRotated(setId, members, jurisdictions, threshold, minJurisdictions);
    }
}
