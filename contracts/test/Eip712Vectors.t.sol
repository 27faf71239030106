// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BridgeAdmin} from "../src/BridgeAdmin.sol";
import {IVault} from "./utils/IVault.sol";
import {Refund, Release} from "../src/interfaces/IBridge.sol";
import {BridgeFixture} from "./utils/BridgeFixture.sol";

/// @notice Checks the contracts' EIP-712 hashing and signature path against the shared vectors in
/// tests/vectors/eip712.json, generated independently with eth_account (tests/vectors/make_vectors.py).
contract Eip712VectorsTest is BridgeFixture {
    string internal json;

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/../tests/vectors/eip712.json"));
    }

    function _deployAt(string memory domainPath, address member) internal returns (IVault vault) {
        vm.chainId(vm.parseJsonUint(json, string.concat(domainPath, ".chainId")));
        address where = vm.parseJsonAddress(json, string.concat(domainPath, ".verifyingContract"));
        address[] memory members = new address[](1);
        members[0] = member;
        bytes2[] memory codes = new bytes2[](1);
        codes[0] = "HK";
        deployCodeTo(
            "BridgeVault.sol:BridgeVault",
            abi.encode(admin, uint48(0), _newModule(), members, codes, uint8(1), uint8(1)),
            where
        );
        vault = IVault(where);
    }

    function test_typehash_matchesVectors() public {
        IVault vault = _deployVault(_makeSet("v", 1, 1));
        assertEq(vault.RELEASE_TYPEHASH(), vm.parseJsonBytes32(json, ".typehash"));
    }

    function test_hashRelease_matchesVectors() public {
        uint256 count;
        for (uint256 i; vm.keyExistsJson(json, string.concat(".cases[", vm.toString(i), "]")); ++i) {
            string memory c = string.concat(".cases[", vm.toString(i), "]");
            uint256 snapshot = vm.snapshotState();
            IVault vault = _deployAt(string.concat(c, ".domain"), vm.parseJsonAddress(json, string.concat(c, ".signer")));
            Release memory r = Release({
                transferId: vm.parseJsonBytes32(json, string.concat(c, ".release.transferId")),
                srcChainId: uint64(vm.parseJsonUint(json, string.concat(c, ".release.srcChainId"))),
                nonce: uint64(vm.parseJsonUint(json, string.concat(c, ".release.nonce"))),
                token: vm.parseJsonAddress(json, string.concat(c, ".release.token")),
                recipient: vm.parseJsonAddress(json, string.concat(c, ".release.recipient")),
                amount: vm.parseUint(vm.parseJsonString(json, string.concat(c, ".release.amount")))
            });
            bytes32 digest = vm.parseJsonBytes32(json, string.concat(c, ".digest"));
            string memory name = vm.parseJsonString(json, string.concat(c, ".name"));
            assertEq(vault.domainSeparator(), vm.parseJsonBytes32(json, string.concat(c, ".domainSeparator")), name);
            assertEq(vault.hashRelease(r), digest, name);
            // the struct hash, via the EIP-712 envelope
            bytes32 structHash = vm.parseJsonBytes32(json, string.concat(c, ".structHash"));
            assertEq(keccak256(abi.encodePacked("\x19\x01", vault.domainSeparator(), structHash)), digest, name);
            // the signature passes the contract's own recovery path (1-of-1 set of the signer)
            bytes memory signature = vm.parseJsonBytes(json, string.concat(c, ".signature"));
            vault.verifySignatures(digest, signature);
            assertEq(vm.addr(vm.parseJsonUint(json, string.concat(c, ".privateKey"))), vm.parseJsonAddress(json, string.concat(c, ".signer")), name);
            vm.revertToState(snapshot);
            ++count;
        }
        assertGt(count, 0, "no release vectors");
    }

    function test_hashValidatorSetUpdate_matchesVectors() public {
        uint256 count;
        for (uint256 i; vm.keyExistsJson(json, string.concat(".rotation_cases[", vm.toString(i), "]")); ++i) {
            string memory c = string.concat(".rotation_cases[", vm.toString(i), "]");
            uint256 snapshot = vm.snapshotState();
            IVault vault = _deployAt(string.concat(c, ".domain"), address(0x1234));
            bytes32 got = _rotationDigest(vault, c);
            assertEq(got, vm.parseJsonBytes32(json, string.concat(c, ".digest")), vm.parseJsonString(json, string.concat(c, ".name")));
            vm.revertToState(snapshot);
            ++count;
        }
        assertGt(count, 0, "no rotation vectors");
    }

    /// @dev hashValidatorSetUpdate over the update of vector `c`.
    function _rotationDigest(IVault vault, string memory c) internal view returns (bytes32) {
        address[] memory members = vm.parseJsonAddressArray(json, string.concat(c, ".update.members"));
        bytes[] memory raw = vm.parseJsonBytesArray(json, string.concat(c, ".update.jurisdictions"));
        bytes2[] memory codes = new bytes2[](raw.length);
        for (uint256 k; k < raw.length; ++k) {
            codes[k] = bytes2(raw[k]);
        }
        uint64 setId = uint64(vm.parseJsonUint(json, string.concat(c, ".update.setId")));
        bytes32 replaced = vm.parseJsonBytes32(json, string.concat(c, ".update.replacedSetHash"));
        uint64 deadline = uint64(vm.parseJsonUint(json, string.concat(c, ".update.deadline")));
        uint8 threshold = uint8(vm.parseJsonUint(json, string.concat(c, ".update.threshold")));
        uint8 minJ = uint8(vm.parseJsonUint(json, string.concat(c, ".update.minJurisdictions")));
        return vault.hashValidatorSetUpdate(setId, replaced, deadline, members, codes, threshold, minJ);
    }

    function test_cancelAndRefundTypehashes_matchVectors() public {
        IVault vault = _deployVault(_makeSet("v", 1, 1));
        assertEq(vault.CANCEL_TYPEHASH(), vm.parseJsonBytes32(json, ".cancelTypehash"));
        assertEq(vault.REFUND_TYPEHASH(), vm.parseJsonBytes32(json, ".refundTypehash"));
    }

    function test_hashReleaseRoot_matchesVectors() public {
        uint256 count;
        for (uint256 i; vm.keyExistsJson(json, string.concat(".root_cases[", vm.toString(i), "]")); ++i) {
            string memory c = string.concat(".root_cases[", vm.toString(i), "]");
            uint256 snapshot = vm.snapshotState();
            IVault vault = _deployAt(string.concat(c, ".domain"), vm.parseJsonAddress(json, string.concat(c, ".signer")));
            bytes32 digest = vault.hashReleaseRoot(
                vm.parseJsonBytes32(json, string.concat(c, ".releaseRoot.root")),
                uint64(vm.parseJsonUint(json, string.concat(c, ".releaseRoot.srcChainId"))),
                uint64(vm.parseJsonUint(json, string.concat(c, ".releaseRoot.firstNonce"))),
                uint64(vm.parseJsonUint(json, string.concat(c, ".releaseRoot.lastNonce")))
            );
            assertEq(digest, vm.parseJsonBytes32(json, string.concat(c, ".digest")));
            vault.verifySignatures(digest, vm.parseJsonBytes(json, string.concat(c, ".signature")));
            vm.revertToState(snapshot);
            ++count;
        }
        assertGt(count, 0, "no root vectors");
        assertEq(
            _deployVault(_makeSet("v", 1, 1)).RELEASE_ROOT_TYPEHASH(), vm.parseJsonBytes32(json, ".releaseRootTypehash")
        );
    }

    function test_hashCancel_matchesVectors() public {
        uint256 count;
        for (uint256 i; vm.keyExistsJson(json, string.concat(".cancel_cases[", vm.toString(i), "]")); ++i) {
            string memory c = string.concat(".cancel_cases[", vm.toString(i), "]");
            uint256 snapshot = vm.snapshotState();
            IVault vault = _deployAt(string.concat(c, ".domain"), vm.parseJsonAddress(json, string.concat(c, ".signer")));
            bytes32 digest = vm.parseJsonBytes32(json, string.concat(c, ".digest"));
            assertEq(vault.hashCancel(vm.parseJsonBytes32(json, string.concat(c, ".cancel.transferId"))), digest);
            // a 1-of-1 set: n - threshold + 1 = 1 signature is a blocking minority
            vault.verifySignatures(digest, vm.parseJsonBytes(json, string.concat(c, ".signature")));
            vm.revertToState(snapshot);
            ++count;
        }
        assertGt(count, 0, "no cancel vectors");
    }

    function test_hashRefund_matchesVectors() public {
        uint256 count;
        for (uint256 i; vm.keyExistsJson(json, string.concat(".refund_cases[", vm.toString(i), "]")); ++i) {
            string memory c = string.concat(".refund_cases[", vm.toString(i), "]");
            uint256 snapshot = vm.snapshotState();
            IVault vault = _deployAt(string.concat(c, ".domain"), vm.parseJsonAddress(json, string.concat(c, ".signer")));
            Refund memory f = Refund({
                transferId: vm.parseJsonBytes32(json, string.concat(c, ".refund.transferId")),
                nonce: 12345, // not signed: any nonce gives the same digest
                dstChainId: uint64(vm.parseJsonUint(json, string.concat(c, ".refund.dstChainId"))),
                token: vm.parseJsonAddress(json, string.concat(c, ".refund.token")),
                recipient: vm.parseJsonAddress(json, string.concat(c, ".refund.recipient")),
                amount: vm.parseUint(vm.parseJsonString(json, string.concat(c, ".refund.amount")))
            });
            bytes32 digest = vm.parseJsonBytes32(json, string.concat(c, ".digest"));
            assertEq(vault.hashRefund(f), digest);
            f.nonce = 1;
            assertEq(vault.hashRefund(f), digest);
            vault.verifySignatures(digest, vm.parseJsonBytes(json, string.concat(c, ".signature")));
            vm.revertToState(snapshot);
            ++count;
        }
        assertGt(count, 0, "no refund vectors");
    }
}
