// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BridgeAdmin} from "./BridgeAdmin.sol";
import {BridgeBase} from "./base/BridgeBase.sol";
import {IBridgeGateway, Release} from "./interfaces/IBridge.sol";
import {TokenBucket} from "./libraries/TokenBucket.sol";
import {MirrorFactory} from "./MirrorFactory.sol";
import {MirroredToken} from "./MirroredToken.sol";

/// @title BridgeGateway
/// @notice Ethereum side of the bridge. Mints a MirroredToken per source token against Releases
/// signed by a quorum (at once, or after the delay when the token's governor says so), and burns
/// mirrors to send value back to the source chain.
/// @dev A mirror's source chain is the tag of its governor word (TokenBucket), so a release proves
/// "registered mirror", "its source chain" and the bucket with ONE cold SLOAD; source chain ids
/// are therefore below 2^31 (Ethereum 1, Sepolia 11155111, Conflux 1030 and 71 all are); the same
/// word carries the mirror's paused bit.
/// `_sources` keeps the full (chain, token) pair for views and burns. No reentrancy guard on
/// release: it calls only mirrors this contract deployed.
contract BridgeGateway is BridgeBase, IBridgeGateway {
    /// @notice Deploys this gateway's mirrors (created by the constructor).
    MirrorFactory public immutable mirrorFactory;

    uint64 private _nonce;
    /// @dev mirror => (srcChainId << 160 | srcToken); 0 = not a mirror. srcChainId is never 0.
    mapping(address mirror => uint256) private _sources;
    mapping(uint64 srcChainId => mapping(address srcToken => address)) private _mirrors;

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
    ) BridgeBase(admin, adminDelay, module, members, jurisdictions, threshold, minJurisdictions) {
        mirrorFactory = new MirrorFactory();
    }

    // ------------------------------------------------------------------- admin

    /// @notice Deploys the mirror of `srcToken` (address(0) = the source chain's native coin) from
    /// the registered chain `srcChainId`, without issuer (nobody can freeze its holders).
    /// @return mirror The new MirroredToken.
    function registerToken(
        uint64 srcChainId,
        address srcToken,
        string calldata name,
        string calldata symbol,
        uint8 decimals
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (address mirror) {
        return _registerToken(srcChainId, srcToken, name, symbol, decimals, address(0));
    }

    /// @notice `registerToken` of a mirror whose `issuer` may freeze and unfreeze its holders
    /// (MirroredToken.freeze); address(0) = none, as `registerToken`.
    /// @return mirror The new MirroredToken.
    function registerTokenWithIssuer(
        uint64 srcChainId,
        address srcToken,
        string calldata name,
        string calldata symbol,
        uint8 decimals,
        address issuer
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (address mirror) {
        return _registerToken(srcChainId, srcToken, name, symbol, decimals, issuer);
    }

    // ----------------------------------------------------------------- release

    /// @notice Mints the mirror named in a Release signed by a quorum, or records it as delayed
    /// (`ReleaseDelayed`) when it exceeds the governor. Anyone may submit it.
    /// @dev release.token is the mirror; release.srcChainId must be the mirror's source chain and
    /// release.transferId the id the remote contract registered for that chain gave release.nonce.
    function release(Release calldata release_, bytes calldata signatures) external {
        uint256 core = _coreWord();
        if (_pausedIn(core)) revert EnforcedPause();
        _releaseOne(release_, signatures, core, 0, true);
    }

    /// @notice Processes each release on its own: an invalid item is skipped with
    /// `ReleaseSkipped(transferId, selector of the error release() would revert with)`, the others
    /// execute or are delayed. Reverts only when paused, empty, or the arrays differ in length.
    function releaseBatch(Release[] calldata releases, bytes[] calldata signatures) external {
        uint256 core = _batchCore(releases.length, signatures.length);
        for (uint256 i; i < releases.length; ++i) {
            _releaseOne(releases[i], signatures[i], core, 0, false);
        }
    }

    /// @notice `release` without signatures: `proof` shows that it is a leaf of the committed
    /// `root` (see commitRoot). Reverts as `release` does, and with RootNotCommitted,
    /// RootSetExpired, InvalidProof or OutsideRoot.
    function releaseWithProof(Release calldata release_, bytes32 root, bytes32[] calldata proof) external {
        uint256 core = _coreWord();
        if (_pausedIn(core)) revert EnforcedPause();
        _releaseOne(release_, msg.data[:0], core, _provenRoot(release_, root, proof), true);
    }

    /// @notice `releaseBatch` of leaves of the committed `root`, proven together by one
    /// OpenZeppelin multiproof (`proof`, `proofFlags`; the releases in tree order). Reverts when
    /// paused, empty, or when the root is not live or the multiproof fails; otherwise each item
    /// is executed, delayed or skipped (`ReleaseSkipped`) on its own.
    function releaseBatchWithProof(
        bytes32 root,
        Release[] calldata releases,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external {
        uint256 core = _batchCore(releases.length, releases.length);
        uint256 word = _provenRootOfAll(root, releases, proof, proofFlags);
        for (uint256 i; i < releases.length; ++i) {
            _releaseOne(releases[i], msg.data[:0], core, word, false);
        }
    }

    function _releaseOne(
        Release calldata release_,
        bytes calldata signatures,
        uint256 core,
        uint256 root,
        bool strict
    ) private returns (bool) {
        (bytes32 transferId, address token, address recipient, uint256 amount) = _fieldsOf(release_);
        if (recipient == address(0) || recipient == address(this)) {
            return _fail(strict, transferId, ZeroRecipient.selector, 0, 0, 0, 0);
        }
        if (amount == 0) return _fail(strict, transferId, ZeroAmount.selector, 0, 0, 0, 0);
        uint256 word = _buckets[token];
        uint64 mirrorChain = TokenBucket.tagOf(word);
        if (mirrorChain == 0) {
            return _fail(strict, transferId, TokenNotRegistered.selector, 1, uint160(token), 0, 0);
        }
        if (TokenBucket.isPaused(word)) return _fail(strict, transferId, TokenPaused.selector, 1, uint160(token), 0, 0);
        (uint64 srcChainId,) = _originOf(release_);
        if (mirrorChain != srcChainId) {
            return _fail(strict, transferId, WrongSourceChain.selector, 2, srcChainId, mirrorChain, 0);
        }
        if (!_admit(release_, signatures, core, root, strict)) return false;
        if (_govern(transferId, srcChainId, token, recipient, amount, word)) {
            return _mintOrSkip(transferId, token, recipient, amount, word, strict);
        }
        return true;
    }

    /// @dev Delivers an admitted release executing now. When the mirror refuses the mint (its
    /// issuer froze the recipient: AccountFrozen; the supply would overflow: Panic), a single
    /// release reverts with the mirror's error and a batch skips the item with
    /// `ReleaseSkipped(transferId, that error's selector)` after undoing what `_govern` wrote
    /// (status back to unknown, the bucket back to `word`), so it can be released later. A
    /// revert without a selector (out of gas) reverts the batch.
    function _mintOrSkip(bytes32 transferId, address token, address recipient, uint256 amount, uint256 word, bool strict)
        private
        returns (bool)
    {
        if (_callMirror(token, MirroredToken.mint.selector, recipient, amount)) {
            emit Released(transferId, token, recipient, amount);
            return true;
        }
        bytes4 reason;
        assembly ("memory-safe") {
            if iszero(lt(returndatasize(), 4)) {
                returndatacopy(0, 0, 4)
                reason := and(mload(0), shl(224, 0xffffffff))
            }
        }
        if (strict || reason == 0) _bubble();
        _status[transferId] = STATUS_UNKNOWN;
        _buckets[token] = word;
        emit ReleaseSkipped(transferId, reason);
        return false;
    }

    // -------------------------------------------------------------------- burn

    /// @notice Burns `amount` of the mirror `token` from the caller to deliver the source token to
    /// `recipient` on `dstChainId` (which must be the mirror's source chain).
    /// @return transferId keccak256(abi.encode(uint256 chainid, address gateway, uint64 nonce)).
    function burn(address token, uint256 amount, address recipient, uint64 dstChainId)
        external
        whenNotPaused
        returns (bytes32 transferId)
    {
        if (amount == 0) revert ZeroAmount();
        uint256 source = _sources[token];
        if (source == 0) revert TokenNotRegistered(token);
        if (TokenBucket.isPaused(_buckets[token])) revert TokenPaused(token);
        address remote = _openRemoteOf(dstChainId);
        if (remote == address(0)) revert ChainNotRegistered(dstChainId);
        if (uint64(source >> 160) != dstChainId) revert WrongDestinationChain(dstChainId, uint64(source >> 160));
        if (recipient == address(0) || recipient == remote || recipient == address(this)) revert ZeroRecipient();
        if (!_callMirror(token, MirroredToken.burn.selector, msg.sender, amount)) _bubble();
        uint64 nonce = ++_nonce;
        transferId = _transferId(nonce);
        emit Burned(transferId, nonce, token, msg.sender, recipient, amount, dstChainId);
    }

    // ------------------------------------------------------------------- views

    /// @notice The mirror of (`srcChainId`, `srcToken`), or address(0).
    function mirrorOf(uint64 srcChainId, address srcToken) external view returns (address) {
        return _mirrors[srcChainId][srcToken];
    }

    /// @notice The source chain and token of `mirror` (zeros when it is not a mirror).
    function sourceOf(address mirror) external view returns (uint64 srcChainId, address srcToken) {
        uint256 source = _sources[mirror];
        return (uint64(source >> 160), address(uint160(source)));
    }

    /// @notice The nonce the next burn will get.
    function nextNonce() external view returns (uint64) {
        return _nonce + 1;
    }

    // ---------------------------------------------------------------- internal

    /// @dev Calls `selector`(account, amount), MirroredToken's mint or burn, on `mirror`: a
    /// contract this gateway deployed, so without Solidity's EXTCODESIZE check and without
    /// reading mint's `true`. Returns whether it succeeded; a revert's data stays in the return
    /// buffer for the caller.
    function _callMirror(address mirror, bytes4 selector, address account, uint256 amount) private returns (bool ok) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, selector)
            mstore(add(p, 0x04), account)
            mstore(add(p, 0x24), amount)
            ok := call(gas(), mirror, 0, p, 0x44, 0, 0)
        }
    }

    /// @dev Reverts with the return data of the last call (a mirror's error, as it gave it).
    function _bubble() private pure {
        assembly ("memory-safe") {
            let p := mload(0x40)
            returndatacopy(p, 0, returndatasize())
            revert(p, returndatasize())
        }
    }

    function _registerToken(
        uint64 srcChainId,
        address srcToken,
        string calldata name,
        string calldata symbol,
        uint8 decimals,
        address issuer
    ) private returns (address mirror) {
        if (srcChainId > type(uint32).max >> 1) revert InvalidChainId(srcChainId);
        if (_routes[srcChainId] == 0) revert ChainNotRegistered(srcChainId);
        if (_mirrors[srcChainId][srcToken] != address(0)) revert TokenAlreadyRegistered(srcChainId, srcToken);
        mirror = mirrorFactory.create(name, symbol, decimals, issuer);
        _mirrors[srcChainId][srcToken] = mirror;
        _sources[mirror] = (uint256(srcChainId) << 160) | uint256(uint160(srcToken));
        _buckets[mirror] = TokenBucket.withTag(_buckets[mirror], uint32(srcChainId));
        emit TokenRegistered(srcChainId, srcToken, mirror, decimals);
    }

    function _deliver(bytes32 transferId, address token, address recipient, uint256 amount) internal override {
        if (!_callMirror(token, MirroredToken.mint.selector, recipient, amount)) _bubble();
        emit Released(transferId, token, recipient, amount);
    }

    /// @dev A refunded burn re-mints the mirror to the burner; a burn went to the mirror's source chain.
    function _payRefund(bytes32 transferId, uint64 dstChainId, address token, address recipient, uint256 amount)
        internal
        override
    {
        uint256 source = _sources[token];
        if (source == 0) revert TokenNotRegistered(token);
        if (uint64(source >> 160) != dstChainId) revert WrongDestinationChain(dstChainId, uint64(source >> 160));
        emit Refunded(transferId, token, recipient, amount);
        if (!_callMirror(token, MirroredToken.mint.selector, recipient, amount)) _bubble();
    }

    function _onDelayed(uint64, address, uint256) internal pure override {}

    function _onDelayedExecuted(address, uint256) internal pure override {}

    function _onDelayedCancelled(uint64, address, uint256) internal pure override {}

    function _lastNonce() internal view override returns (uint64) {
        return _nonce;
    }
}
