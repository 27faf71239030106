// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {BridgeBase} from "../src/base/BridgeBase.sol";
import {BridgeAdmin} from "../src/BridgeAdmin.sol";
import {BridgeGateway} from "../src/BridgeGateway.sol";
import {IVault} from "./utils/IVault.sol";
import {IBridgeCommon} from "../src/interfaces/IBridge.sol";
import {BridgeFixture} from "./utils/BridgeFixture.sol";

/// @notice Set rules at construction and rotation, the rotation itself, grace period, views.
contract ValidatorSetTest is BridgeFixture {
    IVault internal vault;
    ValidatorKeys internal set;
    ValidatorKeys internal next;
    /// @dev Deployed in setUp, so that `new BridgeAdmin()` is never the call an expectRevert watches.
    BridgeAdmin internal module;
    address internal alice = makeAddr("alice");

    function setUp() public {
        set = _makeSet("set1", 7, 3);
        next = _makeSet("set2", 4, 2);
        vault = _deployVault(set);
        module = _newModule();
    }

    function _deployRaw(address[] memory m, bytes2[] memory j, uint8 t, uint8 mj) internal returns (IVault) {
        return IVault(_create("BridgeVault.sol:BridgeVault", abi.encode(admin, ADMIN_DELAY, module, m, j, t, mj)));
    }

    // -------------------------------------------------------------- constructor

    function test_constructor_storesSetOne() public view {
        (uint64 id, address[] memory m, bytes2[] memory j, uint8 t, uint8 mj) = vault.validatorSet();
        assertEq(id, 1);
        assertEq(m, set.members);
        assertEq(j.length, 7);
        for (uint256 i; i < 7; ++i) {
            assertEq(j[i], set.jurisdictions[i]);
        }
        assertEq(t, 5);
        assertEq(mj, 2);
        assertEq(vault.gracePeriod(), 1 days);
        assertTrue(vault.hasRole(vault.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(vault.hasRole(vault.PAUSER_ROLE(), admin));
    }

    function test_constructor_emitsValidatorSetRotated() public {
        vm.expectEmit(true, false, false, true);
        emit IBridgeCommon.ValidatorSetRotated(1, set.members, set.jurisdictions, 5, 2);
        _deployVault(set);
    }

    function test_previousValidatorSet_emptyBeforeRotation() public view {
        (uint64 id, address[] memory m,, uint8 t,, uint64 until) = vault.previousValidatorSet();
        assertEq(id, 0);
        assertEq(m.length, 0);
        assertEq(t, 0);
        assertEq(until, 0);
    }

    function test_constructor_revertsOnEmptySet() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidValidatorSetSize.selector, 0));
        _deployRaw(new address[](0), new bytes2[](0), 1, 1);
    }

    function test_constructor_revertsOnMoreThan32Members() public {
        ValidatorKeys memory big = _makeSet("big", 33, 3);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidValidatorSetSize.selector, 33));
        _deployRaw(big.members, big.jurisdictions, 23, 2);
    }

    function test_constructor_accepts32Members() public {
        ValidatorKeys memory big = _makeSet("big", 32, 8);
        IVault v = _deployRaw(big.members, big.jurisdictions, 22, 8);
        (, address[] memory m,,,) = v.validatorSet();
        assertEq(m.length, 32);
    }

    function test_constructor_revertsOnLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.JurisdictionsLengthMismatch.selector, 7, 6));
        _deployRaw(set.members, new bytes2[](6), 5, 2);
    }

    function test_constructor_revertsOnZeroMember() public {
        address[] memory m = set.members;
        m[0] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ZeroMember.selector, 0));
        _deployRaw(m, set.jurisdictions, 5, 2);
    }

    function test_constructor_revertsOnDuplicateMember() public {
        address[] memory m = set.members;
        m[3] = m[2];
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.DuplicateMember.selector, 3, m[2]));
        _deployRaw(m, set.jurisdictions, 5, 2);
    }

    function test_constructor_revertsOnUnsortedMembers() public {
        address[] memory m = set.members;
        (m[3], m[4]) = (m[4], m[3]);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.MembersNotAscending.selector, 4));
        _deployRaw(m, set.jurisdictions, 5, 2);
    }

    function test_constructor_revertsOnBadJurisdictionCode() public {
        bytes2[5] memory bad = [bytes2("hk"), bytes2(0), "H1", "@A", "Z["];
        for (uint256 k; k < bad.length; ++k) {
            bytes2[] memory j = new bytes2[](7);
            for (uint256 i; i < 7; ++i) {
                j[i] = set.jurisdictions[i];
            }
            j[5] = bad[k];
            vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidJurisdictionCode.selector, 5, bad[k]));
            _deployRaw(set.members, j, 5, 2);
        }
    }

    function test_constructor_revertsOnThresholdZero() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ThresholdTooLow.selector, 0, 5));
        _deployRaw(set.members, set.jurisdictions, 0, 2);
    }

    function test_constructor_revertsOnThresholdBelowFloor() public {
        // n = 7: floor(14/3)+1 = 5
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ThresholdTooLow.selector, 4, 5));
        _deployRaw(set.members, set.jurisdictions, 4, 2);
    }

    function test_constructor_revertsOnThresholdAboveN() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ThresholdTooHigh.selector, 8, 7));
        _deployRaw(set.members, set.jurisdictions, 8, 2);
    }

    function test_constructor_revertsOnMinJurisdictionsZero() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidMinJurisdictions.selector, 0, 3));
        _deployRaw(set.members, set.jurisdictions, 5, 0);
    }

    function test_constructor_revertsOnMinJurisdictionsAboveDistinct() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidMinJurisdictions.selector, 4, 3));
        _deployRaw(set.members, set.jurisdictions, 5, 4);
    }

    function testFuzz_constructor_thresholdFloor(uint8 n, uint8 threshold) public {
        n = uint8(bound(n, 1, 32));
        ValidatorKeys memory v = _makeSet("fuzz", n, 1);
        uint256 floor = (2 * uint256(n)) / 3 + 1;
        if (threshold < floor) {
            vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ThresholdTooLow.selector, threshold, floor));
        } else if (threshold > n) {
            vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ThresholdTooHigh.selector, threshold, n));
        }
        _deployRaw(v.members, v.jurisdictions, threshold, 1);
    }

    // ------------------------------------------------------------------ rotate

    function _rotate() internal {
        vault.rotateValidatorSet(
            next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, _rotationSigs(vault, set, next, 2)
        );
    }

    function test_rotateValidatorSet_installsNewSet() public {
        vm.expectEmit(true, false, false, true, address(vault));
        emit IBridgeCommon.ValidatorSetRotated(2, next.members, next.jurisdictions, next.threshold, next.minJurisdictions);
        _rotate();
        (uint64 id, address[] memory m,, uint8 t, uint8 mj) = vault.validatorSet();
        assertEq(id, 2);
        assertEq(m, next.members);
        assertEq(t, next.threshold);
        assertEq(mj, next.minJurisdictions);
        (uint64 pid, address[] memory pm,, uint8 pt,, uint64 until) = vault.previousValidatorSet();
        assertEq(pid, 1);
        assertEq(pm, set.members);
        assertEq(pt, 5);
        assertEq(until, block.timestamp + 1 days);
    }

    function test_rotateValidatorSet_revertsOnWrongSetIdSignatures() public {
        // signed for setId 3 (skipping 2): digest differs, so the signers are garbage
        bytes memory sigs = _rotationSigs(vault, set, next, 3);
        bytes32 expected =
            vault.hashValidatorSetUpdate(2, vault.validatorSetHash(), ROTATION_DEADLINE, next.members, next.jurisdictions, next.threshold, next.minJurisdictions);
        _expectStrangerSigner(expected, sigs);
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, sigs);
    }

    function test_rotateValidatorSet_revertsAfterItsDeadline() public {
        uint64 deadline = uint64(block.timestamp + 1 hours);
        bytes32 d = vault.hashValidatorSetUpdate(
            2, vault.validatorSetHash(), deadline, next.members, next.jurisdictions, next.threshold, next.minJurisdictions
        );
        bytes memory sigs = _bundle(d, _quorumKeys(set));
        vm.warp(uint256(deadline) + 1); // the approval was abandoned, then found again
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.RotationExpired.selector, deadline));
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, next.minJurisdictions, deadline, sigs);
        vm.warp(deadline); // at the deadline itself it is still valid
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, next.minJurisdictions, deadline, sigs);
        (uint64 id,,,,) = vault.validatorSet();
        assertEq(id, 2);
    }

    function test_rotateValidatorSet_bindsTheDeadlineAndTheReplacedSet() public {
        bytes32 current = vault.validatorSetHash();
        assertTrue(current != bytes32(0));
        // signed with another deadline than the one submitted: the digest differs
        bytes32 signedD = vault.hashValidatorSetUpdate(
            2, current, ROTATION_DEADLINE - 1, next.members, next.jurisdictions, next.threshold, next.minJurisdictions
        );
        bytes memory sigs = _bundle(signedD, _quorumKeys(set));
        bytes32 checked = vault.hashValidatorSetUpdate(
            2, current, ROTATION_DEADLINE, next.members, next.jurisdictions, next.threshold, next.minJurisdictions
        );
        _expectStrangerSigner(checked, sigs);
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, sigs);
        // signed over another replaced set (a stale view of the set): refused the same way
        bytes32 stale = vault.hashValidatorSetUpdate(
            2, keccak256("another set"), ROTATION_DEADLINE, next.members, next.jurisdictions, next.threshold, next.minJurisdictions
        );
        sigs = _bundle(stale, _quorumKeys(set));
        _expectStrangerSigner(checked, sigs);
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, sigs);
        // the set hash follows the installed set
        _rotate();
        assertTrue(vault.validatorSetHash() != current);
    }

    function test_rotateValidatorSet_revertsWhenReplayed() public {
        bytes memory sigs = _rotationSigs(vault, set, next, 2);
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, sigs);
        // now the message would need setId 3 and the new set's signatures: over the setId-3 digest
        // the old signature 0 recovers to an address outside set 2
        bytes32 expected =
            vault.hashValidatorSetUpdate(3, vault.validatorSetHash(), ROTATION_DEADLINE, next.members, next.jurisdictions, next.threshold, next.minJurisdictions);
        _expectStrangerSigner(expected, sigs);
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, sigs);
    }

    function test_rotateValidatorSet_revertsBelowThreshold() public {
        bytes32 d = vault.hashValidatorSetUpdate(2, vault.validatorSetHash(), ROTATION_DEADLINE, next.members, next.jurisdictions, next.threshold, 2);
        bytes memory sigs = _bundle(d, _firstKeys(set, 4));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.BelowThreshold.selector, 4, 5));
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, 2, ROTATION_DEADLINE, sigs);
    }

    function test_rotateValidatorSet_revertsWhenSignedByNewSet() public {
        bytes memory sigs = _rotationSigs(vault, next, next, 2);
        // the first signer is the new set's lowest member, not a member of the current set 1
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignerNotMember.selector, 0, next.members[0]));
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, sigs);
    }

    function test_rotateValidatorSet_revertsOnInvalidNewSet() public {
        // threshold 0, > n, below floor, duplicate, zero member, bad code: each signed by a quorum
        address[] memory dup = new address[](4);
        for (uint256 i; i < 4; ++i) {
            dup[i] = next.members[i];
        }
        dup[1] = dup[0];
        address[] memory zero = new address[](4);
        for (uint256 i; i < 4; ++i) {
            zero[i] = next.members[i];
        }
        zero[0] = address(0);
        bytes2[] memory badCode = new bytes2[](4);
        for (uint256 i; i < 4; ++i) {
            badCode[i] = next.jurisdictions[i];
        }
        badCode[2] = "x1";

        _expectRotationRevert(next.members, next.jurisdictions, 0, 2, abi.encodeWithSelector(IBridgeCommon.ThresholdTooLow.selector, 0, 3));
        _expectRotationRevert(next.members, next.jurisdictions, 5, 2, abi.encodeWithSelector(IBridgeCommon.ThresholdTooHigh.selector, 5, 4));
        _expectRotationRevert(next.members, next.jurisdictions, 2, 2, abi.encodeWithSelector(IBridgeCommon.ThresholdTooLow.selector, 2, 3));
        _expectRotationRevert(dup, next.jurisdictions, 3, 2, abi.encodeWithSelector(IBridgeCommon.DuplicateMember.selector, 1, dup[0]));
        _expectRotationRevert(zero, next.jurisdictions, 3, 2, abi.encodeWithSelector(IBridgeCommon.ZeroMember.selector, 0));
        _expectRotationRevert(next.members, badCode, 3, 2, abi.encodeWithSelector(IBridgeCommon.InvalidJurisdictionCode.selector, 2, bytes2("x1")));
        _expectRotationRevert(next.members, next.jurisdictions, 3, 3, abi.encodeWithSelector(IBridgeCommon.InvalidMinJurisdictions.selector, 3, 2));
    }

    function _expectRotationRevert(address[] memory m, bytes2[] memory j, uint8 t, uint8 mj, bytes memory err) internal {
        bytes32 d = vault.hashValidatorSetUpdate(2, vault.validatorSetHash(), ROTATION_DEADLINE, m, j, t, mj);
        bytes memory sigs = _bundle(d, _quorumKeys(set));
        vm.expectRevert(err);
        vault.rotateValidatorSet(m, j, t, mj, ROTATION_DEADLINE, sigs);
    }

    function test_rotateValidatorSet_worksWhilePaused() public {
        bytes memory sigs = _rotationSigs(vault, set, next, 2);
        vm.prank(admin);
        vault.pause();
        vault.rotateValidatorSet(next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, sigs);
        (uint64 setId,,,,) = vault.validatorSet();
        assertEq(setId, 2);
        assertTrue(vault.paused());
    }

    /// @notice The key-leak runbook (ops/README.md): pause, rotate, expire the previous set.
    /// Afterwards the leaked set signs nothing, not even during what was its grace period.
    function test_keyLeakRunbook_pauseRotateExpire() public {
        bytes32 d = keccak256("release by leaked keys");
        bytes memory leaked = _bundle(d, _quorumKeys(set));
        address guardian = makeAddr("guardian");
        bytes32 pauserRole = vault.PAUSER_ROLE();
        vm.prank(admin);
        vault.grantRole(pauserRole, guardian);
        vm.prank(guardian);
        vault.pause();
        vault.rotateValidatorSet(
            next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, _rotationSigs(vault, set, next, 2)
        );
        vault.verifySignatures(d, leaked); // still inside the grace period
        vm.expectEmit(address(vault));
        emit IBridgeCommon.PreviousSetExpired(1, guardian);
        vm.prank(guardian);
        vault.expirePreviousSet();
        (,,,,, uint64 validUntil) = vault.previousValidatorSet();
        assertEq(validUntil, block.timestamp - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IBridgeCommon.SignerNotMember.selector, 0, _recoverAt(d, leaked, 0))
        );
        vault.verifySignatures(d, leaked);
        vault.verifySignatures(d, _bundle(d, _quorumKeys(next)));
        // nothing re-opens the window: a second expiry has nothing to end
        vm.prank(admin);
        vm.expectRevert(IBridgeCommon.PreviousSetNotActive.selector);
        vault.expirePreviousSet();
    }

    function test_expirePreviousSet_revertsForOthersAndBeforeRotation() public {
        vm.prank(admin);
        vm.expectRevert(IBridgeCommon.PreviousSetNotActive.selector);
        vault.expirePreviousSet();
        _rotate();
        address stranger = makeAddr("stranger");
        bytes32 pauserRole = vault.PAUSER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, pauserRole)
        );
        vault.expirePreviousSet();
        vm.warp(block.timestamp + 1 days + 1);
        vm.prank(admin);
        vm.expectRevert(IBridgeCommon.PreviousSetNotActive.selector);
        vault.expirePreviousSet();
    }

    function test_setGracePeriod_longerWaitsForAdminDelay() public {
        vm.prank(admin);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.ParameterChangeScheduled("gracePeriod", 3 days, uint64(block.timestamp) + ADMIN_DELAY);
        vault.setGracePeriod(3 days);
        assertEq(vault.gracePeriod(), 1 days);
        bytes32 param = vault.GRACE_PERIOD_PARAMETER();
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NoChangeDue.selector, uint64(block.timestamp) + ADMIN_DELAY));
        vault.applyParameter(param);
        vm.warp(block.timestamp + ADMIN_DELAY);
        vault.applyParameter(param);
        assertEq(vault.gracePeriod(), 3 days);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NoChangeDue.selector, 0));
        vault.applyParameter(param);
    }

    function test_setGracePeriod_shorterCancelsAPendingLonger() public {
        vm.startPrank(admin);
        vault.setGracePeriod(3 days);
        vault.setGracePeriod(1 hours);
        vm.stopPrank();
        assertEq(vault.gracePeriod(), 1 hours);
        (, uint64 effectiveAt) = vault.pendingParameterOf(vault.GRACE_PERIOD_PARAMETER());
        assertEq(effectiveAt, 0);
    }

    function test_verifySignatures_previousSetValidDuringGrace() public {
        bytes32 d = keccak256("release");
        bytes memory oldSigs = _bundle(d, _quorumKeys(set));
        _rotate();
        vault.verifySignatures(d, oldSigs);
        vm.warp(block.timestamp + 1 days);
        vault.verifySignatures(d, oldSigs); // validUntil is inclusive
        vault.verifySignatures(d, _bundle(d, _quorumKeys(next)));
    }

    function test_verifySignatures_rotatedOutSetRejectedAfterGrace() public {
        bytes32 d = keccak256("release");
        bytes memory oldSigs = _bundle(d, _quorumKeys(set));
        _rotate();
        vm.warp(block.timestamp + 1 days + 1);
        // error is the current set's: the first old signer is not a member of set 2
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignerNotMember.selector, 0, set.members[0]));
        vault.verifySignatures(d, oldSigs);
        vault.verifySignatures(d, _bundle(d, _quorumKeys(next)));
    }

    function test_verifySignatures_setTwoRotationsAgoRejected() public {
        bytes32 d = keccak256("release");
        bytes memory oldSigs = _bundle(d, _quorumKeys(set));
        _rotate();
        ValidatorKeys memory third = _makeSet("set3", 4, 2);
        vault.rotateValidatorSet(
            third.members, third.jurisdictions, third.threshold, third.minJurisdictions, ROTATION_DEADLINE, _rotationSigs(vault, next, third, 3)
        );
        // error is the current set's (set 3): the first set-1 signer is not a member
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignerNotMember.selector, 0, set.members[0]));
        vault.verifySignatures(d, oldSigs);
        vault.verifySignatures(d, _bundle(d, _quorumKeys(next))); // set 2 in its grace period
    }

    function test_rotateValidatorSet_previousSetCannotRotate() public {
        _rotate();
        ValidatorKeys memory third = _makeSet("set3", 4, 2);
        bytes memory sigs = _rotationSigs(vault, set, third, 3);
        // set 1 (now previous) signed the right digest, but rotation only accepts the current set 2
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignerNotMember.selector, 0, set.members[0]));
        vault.rotateValidatorSet(third.members, third.jurisdictions, third.threshold, third.minJurisdictions, ROTATION_DEADLINE, sigs);
    }

    // ------------------------------------------------------------ grace period

    function test_setGracePeriod_updatesAndEmits() public {
        vm.expectEmit(false, false, false, true, address(vault));
        emit IBridgeCommon.GracePeriodSet(1 hours);
        vm.prank(admin);
        vault.setGracePeriod(1 hours);
        assertEq(vault.gracePeriod(), 1 hours);
        _rotate();
        (,,,,, uint64 until) = vault.previousValidatorSet();
        assertEq(until, block.timestamp + 1 hours);
    }

    function test_setGracePeriod_zeroEndsOldSetImmediately() public {
        vm.prank(admin);
        vault.setGracePeriod(0);
        bytes32 d = keccak256("release");
        bytes memory oldSigs = _bundle(d, _quorumKeys(set));
        _rotate();
        vault.verifySignatures(d, oldSigs); // same second
        vm.warp(block.timestamp + 1);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.SignerNotMember.selector, 0, set.members[0]));
        vault.verifySignatures(d, oldSigs);
    }

    function test_setGracePeriod_revertsAboveMax() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.GracePeriodTooLong.selector, 7 days + 1, 7 days));
        vault.setGracePeriod(7 days + 1);
    }

    function test_setGracePeriod_revertsWhenNotAdmin() public {
        bytes32 role = vault.DEFAULT_ADMIN_ROLE();
        address pauser = makeAddr("pauser");
        bytes32 pauserRole = vault.PAUSER_ROLE();
        vm.prank(admin);
        vault.grantRole(pauserRole, pauser);
        vm.prank(pauser);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, role));
        vault.setGracePeriod(1);
    }

    // ----------------------------------------------------------------- hashing

    function test_hashValidatorSetUpdate_matchesManualEncoding() public view {
        bytes32 structHash = keccak256(
            abi.encode(
                vault.VALIDATOR_SET_UPDATE_TYPEHASH(),
                uint64(2),
                vault.validatorSetHash(),
                ROTATION_DEADLINE,
                keccak256(abi.encodePacked(next.members)),
                keccak256(abi.encodePacked(next.jurisdictions)),
                next.threshold,
                next.minJurisdictions
            )
        );
        bytes32 expected = keccak256(abi.encodePacked("\x19\x01", vault.domainSeparator(), structHash));
        assertEq(vault.hashValidatorSetUpdate(2, vault.validatorSetHash(), ROTATION_DEADLINE, next.members, next.jurisdictions, next.threshold, next.minJurisdictions), expected);
    }

    function test_domainSeparator_followsChainId() public {
        bytes32 before = vault.domainSeparator();
        vm.chainId(999);
        assertTrue(vault.domainSeparator() != before);
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("ConfluxBridge"),
                keccak256("1"),
                uint256(999),
                address(vault)
            )
        );
        assertEq(vault.domainSeparator(), expected);
    }

    function test_typehashes_matchSpec() public view {
        assertEq(
            vault.RELEASE_TYPEHASH(),
            keccak256(
                "Release(bytes32 transferId,uint64 srcChainId,uint64 nonce,address token,address recipient,uint256 amount)"
            )
        );
        assertEq(
            BridgeBase(address(vault)).VALIDATOR_SET_UPDATE_TYPEHASH(),
            keccak256(
                "ValidatorSetUpdate(uint64 setId,bytes32 replacedSetHash,uint64 deadline,address[] members,bytes2[] jurisdictions,uint8 threshold,uint8 minJurisdictions)"
            )
        );
    }

    // ------------------------------------------------------------------ pause

    function test_pause_revertsWhenNotPauser() public {
        address eve = makeAddr("eve");
        bytes32 role = vault.PAUSER_ROLE();
        vm.prank(eve);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, eve, role));
        vault.pause();
    }

    function test_unpause_revertsForPauserWithoutAdmin() public {
        address pauser = makeAddr("pauser");
        bytes32 pauserRole = vault.PAUSER_ROLE();
        bytes32 adminRole = vault.DEFAULT_ADMIN_ROLE();
        vm.prank(admin);
        vault.grantRole(pauserRole, pauser);
        vm.prank(pauser);
        vault.pause();
        assertTrue(vault.paused());
        vm.prank(pauser);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, adminRole));
        vault.unpause();
        vm.prank(admin);
        vault.unpause();
        assertFalse(vault.paused());
    }

    function test_pause_revertsWhenAlreadyPaused() public {
        vm.startPrank(admin);
        vault.pause();
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        vault.pause();
        vault.unpause();
        vm.expectRevert(IBridgeCommon.ExpectedPause.selector);
        vault.unpause();
        vm.stopPrank();
    }

    function test_pause_keepsSetIntact() public {
        vm.prank(admin);
        vault.pause();
        (uint64 id, address[] memory m,, uint8 t,) = vault.validatorSet();
        assertEq(id, 1);
        assertEq(m, set.members);
        assertEq(t, 5);
    }

    function test_gateway_sharesRules() public {
        // the gateway runs the same base: one spot check
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ThresholdTooLow.selector, 4, 5));
        _create(
            "BridgeGateway.sol:BridgeGateway",
            abi.encode(admin, ADMIN_DELAY, module, set.members, set.jurisdictions, uint8(4), uint8(2))
        );
    }

    function test_constructor_needsAModuleWithCode() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotAContract.selector, alice));
        _create(
            "BridgeVault.sol:BridgeVault",
            abi.encode(admin, ADMIN_DELAY, alice, set.members, set.jurisdictions, uint8(5), uint8(2))
        );
    }
}
