// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {BridgeAdmin} from "../../src/BridgeAdmin.sol";
import {BridgeGateway} from "../../src/BridgeGateway.sol";
import {IVault} from "./IVault.sol";
import {IBridgeBase, IBridgeCommon, Release} from "../../src/interfaces/IBridge.sol";

/// @notice Validator keys, sorted signature bundles and deployment helpers shared by the tests.
abstract contract BridgeFixture is Test {
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint64 internal constant CONFLUX_CHAIN = 1030;
    uint64 internal constant ETHEREUM_CHAIN = 1;

    uint48 internal constant ADMIN_DELAY = 2 days;
    /// @dev The deadline of the rotations tests sign (far ahead: tests of the deadline pick their own).
    uint64 internal constant ROTATION_DEADLINE = 4_000_000_000;

    address internal admin = makeAddr("admin");

    /// @dev A validator set: keys and addresses sorted by address, jurisdictions aligned.
    struct ValidatorKeys {
        uint256[] keys;
        address[] members;
        bytes2[] jurisdictions;
        uint8 threshold;
        uint8 minJurisdictions;
    }

    /// @notice n validators derived from `salt`, sorted; jurisdictions cycle through `codes`.
    function _makeSet(string memory salt, uint256 n, uint256 distinctCodes) internal pure returns (ValidatorKeys memory v) {
        bytes2[8] memory codes = [bytes2("HK"), "SG", "CH", "US", "DE", "JP", "GB", "KY"];
        v.keys = new uint256[](n);
        v.members = new address[](n);
        v.jurisdictions = new bytes2[](n);
        for (uint256 i; i < n; ++i) {
            v.keys[i] = uint256(keccak256(abi.encode(salt, i))) % (SECP256K1_N - 1) + 1;
            v.members[i] = vm.addr(v.keys[i]);
        }
        // insertion sort by address
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && v.members[j] < v.members[j - 1]; --j) {
                (v.members[j], v.members[j - 1]) = (v.members[j - 1], v.members[j]);
                (v.keys[j], v.keys[j - 1]) = (v.keys[j - 1], v.keys[j]);
            }
        }
        for (uint256 i; i < n; ++i) {
            v.jurisdictions[i] = codes[i % distinctCodes];
        }
        v.threshold = uint8((2 * n) / 3 + 1);
        v.minJurisdictions = uint8(distinctCodes < 2 ? distinctCodes : 2);
    }

    /// @notice Signs `digest` with the given keys and concatenates (r, s, v) by ascending signer.
    function _bundle(bytes32 digest, uint256[] memory keys) internal pure returns (bytes memory sigs) {
        uint256 n = keys.length;
        uint256[] memory sorted = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            sorted[i] = keys[i];
        }
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && vm.addr(sorted[j]) < vm.addr(sorted[j - 1]); --j) {
                (sorted[j], sorted[j - 1]) = (sorted[j - 1], sorted[j]);
            }
        }
        for (uint256 i; i < n; ++i) {
            sigs = bytes.concat(sigs, _sign(digest, sorted[i]));
        }
    }

    /// @notice Signs `digest` with keys exactly in the order given (no sorting).
    function _bundleUnsorted(bytes32 digest, uint256[] memory keys) internal pure returns (bytes memory sigs) {
        for (uint256 i; i < keys.length; ++i) {
            sigs = bytes.concat(sigs, _sign(digest, keys[i]));
        }
    }

    function _sign(bytes32 digest, uint256 key) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @notice The first `count` keys of the set (ascending addresses).
    function _firstKeys(ValidatorKeys memory v, uint256 count) internal pure returns (uint256[] memory keys) {
        keys = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            keys[i] = v.keys[i];
        }
    }

    /// @notice Picks `count` signers that together span at least the set's minJurisdictions
    /// (the first `count` members cycle through the codes, so they do).
    function _quorumKeys(ValidatorKeys memory v) internal pure returns (uint256[] memory) {
        return _firstKeys(v, v.threshold);
    }

    function _deployVault(ValidatorKeys memory v) internal returns (IVault) {
        return _newVault(admin, ADMIN_DELAY, _newModule(), v.members, v.jurisdictions, v.threshold, v.minJurisdictions);
    }

    function _deployGateway(ValidatorKeys memory v) internal returns (BridgeGateway) {
        return _newGateway(admin, ADMIN_DELAY, _newModule(), v.members, v.jurisdictions, v.threshold, v.minJurisdictions);
    }

    // The bridges are deployed from the build's artifacts (vm.getCode), never with `new`, and
    // the vault is reached through IVault: a test that imported BridgeVault.sol was compiled with
    // it at runs = 1, and with the whole suite in that one compilation solcjs 0.8.28 aborted
    // (foundry.toml, docs/contracts.md).

    function _newModule() internal returns (BridgeAdmin) {
        return BridgeAdmin(_deployed(_create("BridgeAdmin.sol:BridgeAdmin", "")));
    }

    function _newVault(
        address admin_,
        uint48 delay,
        BridgeAdmin module,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) internal returns (IVault) {
        return IVault(
            _newBridge("BridgeVault.sol:BridgeVault", admin_, delay, module, members, jurisdictions, threshold, minJurisdictions)
        );
    }

    function _newGateway(
        address admin_,
        uint48 delay,
        BridgeAdmin module,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) internal returns (BridgeGateway) {
        return BridgeGateway(
            _newBridge("BridgeGateway.sol:BridgeGateway", admin_, delay, module, members, jurisdictions, threshold, minJurisdictions)
        );
    }

    /// @dev A vault or a gateway: both take the same constructor arguments.
    function _newBridge(
        string memory artifact,
        address admin_,
        uint48 delay,
        BridgeAdmin module,
        address[] memory members,
        bytes2[] memory jurisdictions,
        uint8 threshold,
        uint8 minJurisdictions
    ) private returns (address) {
        bytes memory args = abi.encode(admin_, delay, module, members, jurisdictions, threshold, minJurisdictions);
        return _deployed(_create(artifact, args));
    }

    /// @dev CREATE of an artifact with constructor `args`; address(0) when the constructor
    /// reverts (so that a test can expect that revert: vm.expectRevert, then this).
    function _create(string memory artifact, bytes memory args) internal returns (address addr) {
        bytes memory code = abi.encodePacked(vm.getCode(artifact), args);
        assembly {
            addr := create(0, add(code, 0x20), mload(code))
        }
    }

    function _deployed(address addr) internal pure returns (address) {
        require(addr != address(0), "deployment reverted");
        return addr;
    }

    function _release(bytes32 id, uint64 srcChainId, uint64 nonce, address token, address recipient, uint256 amount)
        internal
        pure
        returns (Release memory r)
    {
        r = Release({
            transferId: id,
            srcChainId: srcChainId,
            nonce: nonce,
            token: token,
            recipient: recipient,
            amount: amount
        });
    }

    /// @notice The id the contract `remote` on `chainId` gives its transfer `nonce` (what release and unlock require).
    function _boundId(uint64 chainId, address remote, uint64 nonce) internal pure returns (bytes32) {
        return keccak256(abi.encode(uint256(chainId), remote, uint256(nonce)));
    }

    /// @notice A Release whose id is bound to (`srcChainId`, `remote`, nonce); the nonce is taken
    /// derived from `seed` (hashed), so distinct seeds give distinct transfers.
    function _boundRelease(uint64 srcChainId, address remote, bytes32 seed, address token, address recipient, uint256 amount)
        internal
        pure
        returns (Release memory)
    {
        uint64 nonce = uint64(uint256(keccak256(abi.encode(seed))));
        return _release(_boundId(srcChainId, remote, nonce), srcChainId, nonce, token, recipient, amount);
    }

    function _rotationSigs(IBridgeBase bridge, ValidatorKeys memory current, ValidatorKeys memory next, uint64 setId)
        internal
        view
        returns (bytes memory)
    {
        bytes32 digest = bridge.hashValidatorSetUpdate(setId, bridge.validatorSetHash(), ROTATION_DEADLINE, next.members, next.jurisdictions, next.threshold, next.minJurisdictions
        );
        return _bundle(digest, _quorumKeys(current));
    }

    /// @dev Expects the next call to revert with SignerNotMember(0, s), s being the (non-zero) address
    /// that signature 0 of `sigs` recovers to over `d`, the digest the contract checks.
    function _expectStrangerSigner(bytes32 d, bytes memory sigs) internal {
        address recovered = _recoverAt(d, sigs, 0);
        assertTrue(recovered != address(0));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignerNotMember.selector, 0, recovered));
    }

    /// @dev The address ecrecover returns for signature `i` of `sigs` over `d` (what the bridge sees).
    function _recoverAt(bytes32 d, bytes memory sigs, uint256 i) internal pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            let p := add(add(sigs, 0x20), mul(i, 65))
            r := mload(p)
            s := mload(add(p, 32))
            v := byte(0, mload(add(p, 64)))
        }
        return ecrecover(d, v, r, s);
    }
}
