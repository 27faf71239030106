// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BridgeGateway} from "../src/BridgeGateway.sol";
import {IBridgeCommon, Release} from "../src/interfaces/IBridge.sol";
import {BridgeFixture} from "./utils/BridgeFixture.sol";

/// @notice Every rule of a signature bundle, through verifySignatures and release.
contract SignatureBundleTest is BridgeFixture {
    BridgeGateway internal gateway;
    ValidatorKeys internal set;
    bytes32 internal digest;

    function setUp() public {
        set = _makeSet("bundle", 7, 3); // threshold 5, minJurisdictions 2
        gateway = _deployGateway(set);
        digest = gateway.hashRelease(_release(keccak256("x"), CONFLUX_CHAIN, 1, address(1), address(2), 3));
    }

    function test_verifySignatures_acceptsQuorum() public view {
        gateway.verifySignatures(digest, _bundle(digest, _quorumKeys(set)));
    }

    function test_verifySignatures_acceptsAllMembers() public view {
        gateway.verifySignatures(digest, _bundle(digest, set.keys));
    }

    function test_verifySignatures_revertsBelowThreshold() public {
        bytes memory sigs = _bundle(digest, _firstKeys(set, set.threshold - 1));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.BelowThreshold.selector, 4, 5));
        gateway.verifySignatures(digest, sigs);
    }

    function test_verifySignatures_revertsOnRepeatedSignature() public {
        bytes memory one = _sign(digest, set.keys[0]);
        bytes memory sigs = bytes.concat(one, one, one, one, one);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignersNotAscending.selector, 1));
        gateway.verifySignatures(digest, sigs);
    }

    function test_verifySignatures_revertsOnDuplicateSigner() public {
        uint256[] memory keys = _quorumKeys(set);
        keys[1] = keys[0];
        bytes memory sigs = _bundle(digest, keys);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignersNotAscending.selector, 1));
        gateway.verifySignatures(digest, sigs);
    }

    function test_verifySignatures_revertsOnDescendingSigners() public {
        uint256[] memory keys = new uint256[](5);
        for (uint256 i; i < 5; ++i) {
            keys[i] = set.keys[4 - i];
        }
        bytes memory sigs = _bundleUnsorted(digest, keys);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignersNotAscending.selector, 1));
        gateway.verifySignatures(digest, sigs);
    }

    function test_verifySignatures_revertsOnNonMember() public {
        uint256[] memory keys = _quorumKeys(set);
        uint256 outsider = 0xBAD;
        keys[4] = outsider;
        bytes memory sigs = _bundle(digest, keys);
        // find where the outsider landed in the sorted bundle
        address o = vm.addr(outsider);
        uint256 index;
        for (uint256 i; i < 4; ++i) {
            if (vm.addr(keys[i]) < o) ++index;
        }
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignerNotMember.selector, index, o));
        gateway.verifySignatures(digest, sigs);
    }

    function test_verifySignatures_revertsWhenSignedOverOtherDigest() public {
        bytes memory sigs = _bundle(keccak256("other"), _quorumKeys(set));
        // signature 0 recovers (over the real digest) to an unrelated address: not a member
        _expectStrangerSigner(digest, sigs);
        gateway.verifySignatures(digest, sigs);
    }

    function test_verifySignatures_revertsOnEmptyBundle() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidSignaturesLength.selector, 0));
        gateway.verifySignatures(digest, "");
    }

    function test_verifySignatures_revertsOn64ByteSignature() public {
        bytes memory sig = _sign(digest, set.keys[0]);
        bytes memory short = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            short[i] = sig[i];
        }
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidSignaturesLength.selector, 64));
        gateway.verifySignatures(digest, short);
    }

    function test_verifySignatures_revertsOnTruncatedBundle() public {
        bytes memory sigs = _bundle(digest, _quorumKeys(set));
        assembly {
            mstore(sigs, sub(mload(sigs), 1))
        }
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidSignaturesLength.selector, 5 * 65 - 1));
        gateway.verifySignatures(digest, sigs);
    }

    function test_verifySignatures_revertsOnOverlongBundle() public {
        bytes memory sigs = bytes.concat(_bundle(digest, _quorumKeys(set)), hex"00");
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidSignaturesLength.selector, 5 * 65 + 1));
        gateway.verifySignatures(digest, sigs);
    }

    function test_verifySignatures_revertsOnHighS() public {
        uint256[] memory keys = _quorumKeys(set);
        bytes memory sigs = _bundle(digest, keys);
        // malleate signature 2: s' = n - s, v' = v ^ 1 (same signer, the high-s twin)
        uint256 off = 2 * 65;
        bytes32 s;
        uint8 v;
        assembly {
            s := mload(add(add(sigs, 0x20), add(off, 32)))
            v := byte(0, mload(add(add(sigs, 0x20), add(off, 64))))
        }
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flipped = v == 27 ? 28 : 27;
        assembly {
            mstore(add(add(sigs, 0x20), add(off, 32)), highS)
            mstore8(add(add(sigs, 0x20), add(off, 64)), flipped)
        }
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidSignature.selector, 2));
        gateway.verifySignatures(digest, sigs);
    }

    function test_verifySignatures_revertsOnV0AndV1() public {
        bytes memory sigs = _bundle(digest, _quorumKeys(set));
        for (uint8 badV; badV < 2; ++badV) {
            bytes memory copy = bytes.concat(sigs);
            copy[64] = bytes1(badV);
            vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidSignature.selector, 0));
            gateway.verifySignatures(digest, copy);
        }
    }

    function test_verifySignatures_revertsWhenEcrecoverReturnsZero() public {
        // r = 0 is not a curve point: the precompile returns nothing (address 0)
        bytes memory sigs = _bundle(digest, _quorumKeys(set));
        for (uint256 i; i < 32; ++i) {
            sigs[i] = 0;
        }
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidSignature.selector, 0));
        gateway.verifySignatures(digest, sigs);
        // all-zero signature with a valid v
        bytes memory zero = new bytes(65);
        zero[64] = bytes1(uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidSignature.selector, 0));
        gateway.verifySignatures(digest, zero);
    }

    function test_verifySignatures_revertsOnTooFewJurisdictions() public {
        // 7 members over 3 codes: HK at indexes 0,3,6 — only 3 HK members, so use a 5-of-7 set
        // with all-but-one in one jurisdiction instead.
        ValidatorKeys memory v = _makeSet("juris", 7, 1);
        v.jurisdictions[6] = "SG";
        v.minJurisdictions = 2;
        BridgeGateway g = _deployGateway(v);
        bytes32 d = g.hashRelease(_release(keccak256("x"), CONFLUX_CHAIN, 1, address(1), address(2), 3));
        bytes memory sigs = _bundle(d, _firstKeys(v, 6)); // all HK
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TooFewJurisdictions.selector, 1, 2));
        g.verifySignatures(d, sigs);
        // adding the SG member satisfies it
        g.verifySignatures(d, _bundle(d, v.keys));
    }

    function test_verifySignatures_thresholdCheckedBeforeJurisdictions() public {
        ValidatorKeys memory v = _makeSet("juris", 7, 1);
        v.jurisdictions[6] = "SG";
        v.minJurisdictions = 2;
        BridgeGateway g = _deployGateway(v);
        bytes32 d = keccak256("d");
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.BelowThreshold.selector, 1, 5));
        g.verifySignatures(d, _bundle(d, _firstKeys(v, 1)));
    }

    // ------------------------------------------------------------------- fuzz

    /// Any subset of members passes exactly when it reaches the threshold AND spans
    /// minJurisdictions; the jurisdictions of the 7 members and minJurisdictions are fuzzed too,
    /// so the jurisdiction rule really decides some cases.
    function testFuzz_verifySignatures_subsets(uint256 seed) public {
        ValidatorKeys memory v = _makeSet("subsets", 7, 3);
        bytes2[3] memory codes = [bytes2("HK"), "SG", "CH"];
        uint256 present;
        for (uint256 i; i < 7; ++i) {
            uint256 c = (seed >> (8 + 2 * i)) % 3;
            v.jurisdictions[i] = codes[c];
            present |= 1 << c;
        }
        v.minJurisdictions = uint8(1 + (seed >> 40) % _popcount(present));
        BridgeGateway g = _deployGateway(v);
        bytes32 d = keccak256("subset digest");
        uint256 mask = seed & 0x7f;
        uint256 count;
        uint256 spanned;
        for (uint256 i; i < 7; ++i) {
            if (mask & (1 << i) != 0) {
                ++count;
                spanned |= 1 << ((seed >> (8 + 2 * i)) % 3);
            }
        }
        if (count == 0) return;
        uint256[] memory keys = new uint256[](count);
        uint256 k;
        for (uint256 i; i < 7; ++i) {
            if (mask & (1 << i) != 0) keys[k++] = v.keys[i];
        }
        (bool ok, bytes memory err) =
            address(g).staticcall(abi.encodeCall(g.verifySignatures, (d, _bundle(d, keys))));
        if (count < 5) {
            assertEq(err, abi.encodeWithSelector(IBridgeCommon.BelowThreshold.selector, count, 5));
        } else if (_popcount(spanned) < v.minJurisdictions) {
            assertEq(
                err,
                abi.encodeWithSelector(IBridgeCommon.TooFewJurisdictions.selector, _popcount(spanned), v.minJurisdictions)
            );
        } else {
            assertTrue(ok);
        }
    }

    function _popcount(uint256 x) private pure returns (uint256 n) {
        for (; x != 0; x &= x - 1) {
            ++n;
        }
    }

    /// Any ordering other than ascending fails; ascending passes.
    function testFuzz_verifySignatures_orderings(uint256 seed) public view {
        uint256[] memory keys = _quorumKeys(set);
        // Fisher-Yates shuffle
        for (uint256 i = keys.length - 1; i > 0; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, i))) % (i + 1);
            (keys[i], keys[j]) = (keys[j], keys[i]);
        }
        bool ascending = true;
        for (uint256 i = 1; i < keys.length; ++i) {
            if (vm.addr(keys[i]) < vm.addr(keys[i - 1])) ascending = false;
        }
        (bool ok,) = address(gateway).staticcall(
            abi.encodeCall(gateway.verifySignatures, (digest, _bundleUnsorted(digest, keys)))
        );
        assertEq(ok, ascending);
    }

    /// Flipping any byte of a valid bundle makes it fail (or, for bytes of r that still recover
    /// to some address, fail as a non-member/ordering error).
    function testFuzz_verifySignatures_malformedByte(uint256 position, uint8 xorMask) public view {
        vm.assume(xorMask != 0);
        bytes memory sigs = _bundle(digest, _quorumKeys(set));
        position = bound(position, 0, sigs.length - 1);
        sigs[position] = bytes1(uint8(sigs[position]) ^ xorMask);
        (bool ok,) = address(gateway).staticcall(abi.encodeCall(gateway.verifySignatures, (digest, sigs)));
        assertFalse(ok);
    }

    /// Random bytes never form a valid bundle.
    function testFuzz_verifySignatures_randomBytes(bytes calldata junk) public view {
        (bool ok,) = address(gateway).staticcall(abi.encodeCall(gateway.verifySignatures, (digest, junk)));
        assertFalse(ok);
    }

    function test_release_revertsWithThresholdMinusOne() public {
        vm.startPrank(admin);
        gateway.registerChain(CONFLUX_CHAIN, makeAddr("vault"), false);
        address mirror = gateway.registerToken(CONFLUX_CHAIN, address(0), "CFX", "CFX", 18);
        vm.stopPrank();
        Release memory r = _boundRelease(CONFLUX_CHAIN, makeAddr("vault"), keccak256("t"), mirror, makeAddr("alice"), 1);
        bytes memory sigs = _bundle(gateway.hashRelease(r), _firstKeys(set, set.threshold - 1));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.BelowThreshold.selector, 4, 5));
        gateway.release(r, sigs);
        assertFalse(gateway.isProcessed(r.transferId));
    }
}
