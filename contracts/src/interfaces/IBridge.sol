// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice What a quorum of validators attests to: deliver `amount` of `token` (the token on the
/// executing chain) to `recipient`, for the transfer `transferId` made on `srcChainId` with `nonce`.
/// @dev EIP-712 type: `Release(bytes32 transferId,uint64 srcChainId,uint64 nonce,address token,address recipient,uint256 amount)`.
struct Release {
    bytes32 transferId;
    uint64 srcChainId;
    uint64 nonce;
    address token;
    address recipient;
    uint256 amount;
}

/// @notice What a full quorum signs to return a transfer that the destination cancelled to its
/// original sender, on the contract where the transfer began.
/// @dev EIP-712 type: `Refund(bytes32 transferId,uint64 dstChainId,address token,address recipient,uint256 amount)`.
/// `dstChainId` is the chain the transfer was sent to (the vault keeps its locked balance per token
/// and destination chain, so the refund must say whose backing it returns). `nonce` is NOT part of
/// the signed message: the contract checks
/// `transferId == keccak256(abi.encode(uint256 chainid, address this, uint256 nonce))` and
/// `nonce < nextNonce()`, so the signed transferId already commits to it and proves that this
/// contract issued the transfer.
struct Refund {
    bytes32 transferId;
    uint64 nonce;
    uint64 dstChainId;
    address token;
    address recipient;
    uint256 amount;
}

/// @title IBridgeCommon
/// @notice The events and errors the vault, the gateway and their admin module share.
interface IBridgeCommon {
    // ----------------------------------------------------------------- events
    /// @notice A validator set became current (emitted by the constructor for set 1 and by every rotation).
    event ValidatorSetRotated(
        uint64 indexed setId, address[] members, bytes2[] jurisdictions, uint8 threshold, uint8 minJurisdictions
    );
    /// @notice The time a rotated-out set stays valid changed (applies to later rotations).
    event GracePeriodSet(uint64 gracePeriod);
    /// @notice `chainId` is now a peer chain whose bridge contract is `remoteContract`; it replaced
    /// `previousRemote` (address(0) for a new chain).
    event ChainRegistered(uint64 indexed chainId, address indexed remoteContract, address previousRemote);
    /// @notice Ids issued by `remoteContract`, the replaced bridge contract of `chainId`, are still accepted.
    event RemoteKept(uint64 indexed chainId, address indexed remoteContract);
    /// @notice Ids issued by the kept `remoteContract` of `chainId` are no longer accepted.
    event KeptRemoteDropped(uint64 indexed chainId, address indexed remoteContract);
    /// @notice Everything that moves `token` here stopped (`paused`) or resumed.
    event TokenPauseSet(address indexed token, bool paused);
    /// @notice Everything to and from `chainId` stopped (`paused`) or resumed.
    event RoutePauseSet(uint64 indexed chainId, bool paused);
    /// @notice The window of the rotated-out set was closed early by `account` (admin or pauser).
    event PreviousSetExpired(uint64 indexed setId, address account);
    /// @notice A verified release (or unlock) was recorded and may be executed from `executableAt`.
    event ReleaseDelayed(bytes32 indexed transferId, uint64 executableAt);
    /// @notice `transferId` is cancelled for ever, by a blocking minority or by the guardian (pauser).
    event ReleaseCancelled(bytes32 indexed transferId, bool byGuardian);
    /// @notice A quorum of set `setId` signed `root` over the source nonces firstNonce..lastNonce
    /// of `srcChainId`; its leaves can now execute with a Merkle proof.
    event RootCommitted(
        bytes32 indexed root, uint64 indexed srcChainId, uint64 firstNonce, uint64 lastNonce, uint64 setId
    );
    /// @notice A batch item was not executed; `reason` is the selector of the error the single call
    /// reverts with (on the gateway also a mirror's refusal of the mint, e.g. MirroredToken.AccountFrozen).
    event ReleaseSkipped(bytes32 indexed transferId, bytes4 reason);
    /// @notice A cancelled transfer went back to its sender on the chain where it began.
    event Refunded(bytes32 indexed transferId, address indexed token, address indexed recipient, uint256 amount);
    /// @notice The governor of `token` now applies these values (capacity 0 = no limit).
    event GovernorSet(address indexed token, uint256 capacity, uint256 refillPerSecond, uint256 largeTransferThreshold);
    /// @notice A loosening governor change waits for the admin delay; `applyGovernor` applies it from `effectiveAt`.
    event GovernorChangeScheduled(
        address indexed token, uint256 capacity, uint256 refillPerSecond, uint256 largeTransferThreshold, uint64 effectiveAt
    );
    /// @notice The delay of large or over-limit transfers changed.
    event DelaySet(uint64 previousDelay, uint64 newDelay);
    /// @notice A loosening change of the delay or the grace period waits until `effectiveAt`.
    event ParameterChangeScheduled(bytes32 indexed parameter, uint64 value, uint64 effectiveAt);
    /// @notice A payout failed (the recipient rejected it): `amount` is credited to `recipient`, who pulls it with `claim`.
    event PayoutDeferred(bytes32 indexed transferId, address indexed token, address indexed recipient, uint256 amount);
    /// @notice `account` pulled its credited `amount` of `token` to `to`.
    event Claimed(address indexed token, address indexed account, address to, uint256 amount);
    /// @notice Bridge operations stopped (same shape as OpenZeppelin Pausable).
    event Paused(address account);
    /// @notice Bridge operations resumed.
    event Unpaused(address account);

    // ------------------------------------------------------------ input errors
    error ZeroAmount();
    /// @dev Recipient is address(0) or the bridge contract itself (or, for outgoing transfers, the peer bridge).
    error ZeroRecipient();
    error TokenNotRegistered(address token);
    error ChainNotRegistered(uint64 chainId);
    error InvalidChainId(uint64 chainId);
    error ZeroRemoteContract();
    error NotAContract(address account);
    error AlreadyProcessed(bytes32 transferId);
    error EnforcedPause();
    error ExpectedPause();
    error ReentrantCall();
    error GracePeriodTooLong(uint64 gracePeriod, uint64 max);
    /// @dev transferId differs from keccak256(abi.encode(uint256 srcChainId, remote, uint256 nonce)).
    error WrongTransferId(bytes32 transferId, bytes32 expected);
    /// @dev The id was cancelled: it can never be released or unlocked here.
    error TransferCancelled(bytes32 transferId);
    /// @dev executeDelayed / guardianCancel on an id that is not delayed.
    error NotDelayed(bytes32 transferId);
    /// @dev executeDelayed before the transfer's executableAt.
    error DelayNotElapsed(bytes32 transferId, uint64 executableAt);
    /// @dev cancel on an id that was already executed, cancelled or refunded (status as in statusOf).
    error NotCancellable(bytes32 transferId, uint8 status);
    /// @dev guardianCancel after the delay ended (then only a blocking minority can cancel).
    error DelayElapsed(bytes32 transferId, uint64 executableAt);
    error DelayTooLong(uint64 delay, uint64 max);
    /// @dev A governor value is too large (capacity below 2^96, refill below 2^128).
    error GovernorValueTooLarge(uint256 value, uint256 max);
    /// @dev A governor value is not mantissa * 10^exponent with a mantissa below 2^24.
    error GovernorValueNotRepresentable(uint256 value);
    /// @dev applyGovernor / applyParameter with nothing scheduled, or before its time.
    error NoChangeDue(uint64 effectiveAt);
    /// @dev refund for an id this contract did not issue (nonce not yet issued, or id not derived from it).
    error NotIssuedHere(bytes32 transferId, uint64 nonce);
    error AlreadyRefunded(bytes32 transferId);
    error PreviousSetNotActive();
    /// @dev The rotation's approval was valid until `deadline` (unix seconds), which has passed.
    error RotationExpired(uint64 deadline);
    error EmptyBatch();
    error BatchLengthMismatch(uint256 releases, uint256 signatures);
    error NothingToClaim(address token, address account);
    /// @dev A payout failed for lack of gas (the submitter's gas limit), not by the recipient: nothing changed.
    error PayoutOutOfGas();
    /// @dev A pull payout (claim, sweep) to `to` failed; nothing changed.
    error ClaimFailed(address token, address to, uint256 amount);
    /// @dev `token` is paused on its own (setTokenPaused).
    error TokenPaused(address token);
    /// @dev The route to and from `chainId` is paused on its own (setRoutePaused).
    error RoutePaused(uint64 chainId);
    /// @dev dropKeptRemote on a chain that keeps no replaced remote.
    error NoKeptRemote(uint64 chainId);
    /// @dev The admin module was called directly instead of through its bridge contract.
    error NotDelegated();

    // ------------------------------------------------------------- root errors
    error ZeroRoot();
    /// @dev A root's nonce range must start at 1 or above and not end before it starts.
    error InvalidNonceRange(uint64 firstNonce, uint64 lastNonce);
    error RootAlreadyCommitted(bytes32 root);
    error RootNotCommitted(bytes32 root);
    /// @dev The set that signed `root` is neither the current set nor the previous one within
    /// its grace period.
    error RootSetExpired(bytes32 root, uint64 setId);
    /// @dev The Merkle proof (or multiproof) does not lead from the given releases to `root`.
    error InvalidProof(bytes32 root);
    /// @dev The release is in the root's tree but outside the root's source chain or nonce range.
    error OutsideRoot(bytes32 transferId);

    // ----------------------------------------------------------- bundle errors
    /// @dev The bundle's length is zero or not a multiple of 65.
    error InvalidSignaturesLength(uint256 length);
    /// @dev Signature `index` has v not 27/28, s above secp256k1n/2, or recovers to address(0).
    error InvalidSignature(uint256 index);
    /// @dev Signer of signature `index` is not strictly above the previous signer.
    error SignersNotAscending(uint256 index);
    /// @dev Signer of signature `index` is not a member of the set.
    error SignerNotMember(uint256 index, address signer);
    error BelowThreshold(uint256 count, uint256 threshold);
    error TooFewJurisdictions(uint256 count, uint256 required);

    // -------------------------------------------------------------- set errors
    /// @dev Umbrella for malformed sets that no more specific error names (kept for tooling).
    error InvalidValidatorSet();
    error InvalidValidatorSetSize(uint256 size);
    error JurisdictionsLengthMismatch(uint256 members, uint256 jurisdictions);
    error ZeroMember(uint256 index);
    error DuplicateMember(uint256 index, address member);
    error MembersNotAscending(uint256 index);
    error InvalidJurisdictionCode(uint256 index, bytes2 code);
    error ThresholdTooLow(uint8 threshold, uint256 minimum);
    error ThresholdTooHigh(uint8 threshold, uint256 members);
    error InvalidMinJurisdictions(uint8 minJurisdictions, uint256 distinctJurisdictions);
    error WrongSetId(uint64 setId, uint64 expected);

}

/// @title IBridgeAdmin
/// @notice The governance functions of the vault and the gateway, implemented once by the admin
/// module (BridgeAdmin) that both call by delegatecall: the rotation of the validator set, the
/// governor and delay settings, the chain registry, pausing and the guardian's veto.
interface IBridgeAdmin is IBridgeCommon {
    function rotateValidatorSet(
        address[] calldata members,
        bytes2[] calldata jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions,
        uint64 deadline,
        bytes calldata signatures
    ) external;

    function setGovernor(address token, uint256 capacity, uint256 refillPerSecond, uint256 largeTransferThreshold)
        external;

    function applyGovernor(address token) external;

    function applyParameter(bytes32 parameter) external;

    function setDelay(uint64 newDelay) external;

    function expirePreviousSet() external;

    function registerChain(uint64 chainId, address remoteContract, bool keepPrevious) external;

    function setGracePeriod(uint64 gracePeriod) external;

    function pause() external;

    function unpause() external;

    function dropKeptRemote(uint64 chainId) external;

    function setTokenPaused(address token, bool paused_) external;

    function setRoutePaused(uint64 chainId, bool paused_) external;

    function commitRoot(bytes32 root, uint64 srcChainId, uint64 firstNonce, uint64 lastNonce, bytes calldata signatures)
        external;
}

/// @title IBridgeBase
/// @notice What the Conflux eSpace vault and the Ethereum gateway share: the validator set and its
/// rotation, signature bundles, replay protection, governor, veto, refunds, chain registry, pausing.
interface IBridgeBase is IBridgeAdmin {
    function validatorSetHash() external view returns (bytes32);

    function validatorSet()
        external
        view
        returns (
            uint64 setId,
            address[] memory members,
            bytes2[] memory jurisdictions,
            uint8 threshold,
            uint8 minJurisdictions
        );

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
        );

    function hashRelease(Release calldata release) external view returns (bytes32 digest);

    function hashReleaseRoot(bytes32 root, uint64 srcChainId, uint64 firstNonce, uint64 lastNonce)
        external
        view
        returns (bytes32 digest);

    function rootOf(bytes32 root)
        external
        view
        returns (uint64 srcChainId, uint64 firstNonce, uint64 lastNonce, uint64 setId, bool live);

    function hashValidatorSetUpdate(
        uint64 setId,
        bytes32 replacedSetHash,
        uint64 deadline,
        address[] calldata members,
        bytes2[] calldata jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) external view returns (bytes32);

    function domainSeparator() external view returns (bytes32);

    function verifySignatures(bytes32 digest, bytes calldata signatures) external view;

    function isProcessed(bytes32 transferId) external view returns (bool);

    function statusOf(bytes32 transferId) external view returns (uint8);

    function executeDelayed(bytes32 transferId) external;

    function cancel(bytes32 transferId, bytes calldata signatures) external;

    function guardianCancel(bytes32 transferId) external;

    function refund(Refund calldata refund_, bytes calldata signatures) external;

    function delayedOf(bytes32 transferId)
        external
        view
        returns (address token, address recipient, uint256 amount, uint64 executableAt);

    function governorOf(address token)
        external
        view
        returns (uint256 capacity, uint256 available, uint256 refillPerSecond, uint256 largeTransferThreshold);

    function delay() external view returns (uint64);

    function remoteContractOf(uint64 chainId) external view returns (address);

    function gracePeriod() external view returns (uint64);

    function paused() external view returns (bool);

    function keptRemoteOf(uint64 chainId) external view returns (address);

    function isTokenPaused(address token) external view returns (bool);

    function isRoutePaused(uint64 chainId) external view returns (bool);

    function hashCancel(bytes32 transferId) external view returns (bytes32);

    function hashRefund(Refund calldata refund_) external view returns (bytes32);
}

/// @title IBridgeVault
/// @notice The Conflux eSpace side: locks ERC-20s and CFX, unlocks them against a quorum's signatures.
interface IBridgeVault is IBridgeBase {
    event Locked(
        bytes32 indexed transferId,
        uint64 indexed nonce,
        address indexed token,
        address sender,
        address recipient,
        uint256 amount,
        uint64 dstChainId
    );
    event Unlocked(bytes32 indexed transferId, address indexed token, address indexed recipient, uint256 amount);
    event TokenRegistered(address indexed token);
    event TokenUnregistered(address indexed token);
    /// @notice The admin moved `amount` of `token` that the vault held above what it owes to `to`.
    event Swept(address indexed token, address indexed to, uint256 amount);

    error TokenAlreadyRegistered(address token);
    /// @dev The vault holds no more of `token` than it owes (locked, delayed and claimable amounts).
    error NothingToSweep(address token);
    error InsufficientLockedBalance(address token, uint256 requested, uint256 locked);
    /// @dev lock() was given address(0): use lockNative() for CFX.
    error UseLockNative();

    function lock(address token, uint256 amount, address recipient, uint64 dstChainId)
        external
        returns (bytes32 transferId);

    function lockNative(address recipient, uint64 dstChainId) external payable returns (bytes32 transferId);

    function unlock(Release calldata release, bytes calldata signatures) external;

    function unlockBatch(Release[] calldata releases, bytes[] calldata signatures) external;

    function unlockWithProof(Release calldata release, bytes32 root, bytes32[] calldata proof) external;

    function unlockBatchWithProof(
        bytes32 root,
        Release[] calldata releases,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external;

    function claim(address token, address to) external;

    function claimable(address token, address account) external view returns (uint256);

    function registerToken(address token) external;

    function unregisterToken(address token) external;

    function isTokenRegistered(address token) external view returns (bool);

    function lockedBalance(address token) external view returns (uint256);

    function lockedBalanceOf(address token, uint64 dstChainId) external view returns (uint256);

    function sweep(address token, address to) external returns (uint256 amount);

    function nextNonce() external view returns (uint64);
}

/// @title IBridgeGateway
/// @notice The Ethereum side: mints mirrors against a quorum's signatures, burns them to go back.
interface IBridgeGateway is IBridgeBase {
    event TokenRegistered(
        uint64 indexed srcChainId, address indexed srcToken, address indexed mirror, uint8 decimals
    );
    event Released(bytes32 indexed transferId, address indexed token, address indexed recipient, uint256 amount);
    event Burned(
        bytes32 indexed transferId,
        uint64 indexed nonce,
        address indexed token,
        address sender,
        address recipient,
        uint256 amount,
        uint64 dstChainId
    );

    error TokenAlreadyRegistered(uint64 srcChainId, address srcToken);
    /// @dev release.srcChainId differs from the mirror's source chain.
    error WrongSourceChain(uint64 srcChainId, uint64 expected);
    /// @dev A mirror can only be burned towards its own source chain.
    error WrongDestinationChain(uint64 dstChainId, uint64 expected);

    function registerToken(uint64 srcChainId, address srcToken, string calldata name, string calldata symbol, uint8 decimals)
        external
        returns (address mirror);

    function registerTokenWithIssuer(
        uint64 srcChainId,
        address srcToken,
        string calldata name,
        string calldata symbol,
        uint8 decimals,
        address issuer
    ) external returns (address mirror);

    function mirrorOf(uint64 srcChainId, address srcToken) external view returns (address);

    function sourceOf(address mirror) external view returns (uint64 srcChainId, address srcToken);

    function release(Release calldata release_, bytes calldata signatures) external;

    function releaseBatch(Release[] calldata releases, bytes[] calldata signatures) external;

    function releaseWithProof(Release calldata release_, bytes32 root, bytes32[] calldata proof) external;

    function releaseBatchWithProof(
        bytes32 root,
        Release[] calldata releases,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external;

    function burn(address token, uint256 amount, address recipient, uint64 dstChainId)
        external
        returns (bytes32 transferId);

    function nextNonce() external view returns (uint64);
}
