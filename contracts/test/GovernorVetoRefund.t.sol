// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {BridgeGateway} from "../src/BridgeGateway.sol";
import {IVault} from "./utils/IVault.sol";
import {IBridgeCommon, IBridgeGateway, IBridgeVault, Refund, Release} from "../src/interfaces/IBridge.sol";
import {MirroredToken} from "../src/MirroredToken.sol";
import {TestToken} from "../src/test-tokens/TestToken.sol";
import {BridgeFixture} from "./utils/BridgeFixture.sol";

/// @notice The governor (bucket, threshold, delay), the veto, refunds and batches, on the gateway
/// (releases) and the vault (unlocks, refunds of locks).
contract GovernorVetoRefundTest is BridgeFixture {
    BridgeGateway internal gateway;
    IVault internal vault;
    ValidatorKeys internal set;
    MirroredToken internal mirror;
    TestToken internal token;
    address internal vaultRemote = makeAddr("vault-on-conflux");
    address internal gatewayRemote = makeAddr("gateway-on-ethereum");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    uint256 internal constant CAPACITY = 1_000;
    uint256 internal constant REFILL = 10; // per second
    uint256 internal constant THRESHOLD = 600;

    function setUp() public {
        set = _makeSet("governor", 7, 3);
        gateway = _deployGateway(set);
        vault = _deployVault(set);
        token = new TestToken("Tether", "USDT", 6);
        vm.startPrank(admin);
        gateway.registerChain(CONFLUX_CHAIN, vaultRemote, false);
        mirror = MirroredToken(gateway.registerToken(CONFLUX_CHAIN, makeAddr("usdt"), "USDT", "USDT", 6));
        gateway.setGovernor(address(mirror), CAPACITY, REFILL, THRESHOLD);
        vault.registerChain(ETHEREUM_CHAIN, gatewayRemote, false);
        vault.registerToken(address(token));
        vault.setGovernor(address(token), CAPACITY, REFILL, THRESHOLD);
        vm.stopPrank();
        token.mint(alice, 1_000_000);
        vm.prank(alice);
        token.approve(address(vault), type(uint256).max);
    }

    function _signed(bytes32 seed, uint256 amount) internal view returns (Release memory r, bytes memory sigs) {
        r = _boundRelease(CONFLUX_CHAIN, vaultRemote, seed, address(mirror), alice, amount);
        sigs = _bundle(gateway.hashRelease(r), _quorumKeys(set));
    }

    function _minority(bytes32 digest) internal view returns (bytes memory) {
        return _bundle(digest, _firstKeys(set, set.members.length - set.threshold + 1));
    }

    // ---------------------------------------------------------------- governor

    function test_release_belowThresholdAndWithinBucketExecutesAtOnce() public {
        (Release memory r, bytes memory sigs) = _signed("a", 599);
        gateway.release(r, sigs);
        assertEq(mirror.balanceOf(alice), 599);
        assertEq(gateway.statusOf(r.transferId), 1);
        (, uint256 available,,) = gateway.governorOf(address(mirror));
        assertEq(available, CAPACITY - 599);
    }

    function test_release_atThresholdIsDelayedNotReverted() public {
        (Release memory r, bytes memory sigs) = _signed("a", THRESHOLD);
        uint64 executableAt = uint64(block.timestamp) + gateway.delay();
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseDelayed(r.transferId, executableAt);
        gateway.release(r, sigs);
        assertEq(mirror.balanceOf(alice), 0);
        assertEq(gateway.statusOf(r.transferId), 2);
        assertTrue(gateway.isProcessed(r.transferId));
        (address tok, address to, uint256 amount, uint64 at) = gateway.delayedOf(r.transferId);
        assertEq(tok, address(mirror));
        assertEq(to, alice);
        assertEq(amount, THRESHOLD);
        assertEq(at, executableAt);
        // verified once: the same release can neither be verified again nor executed twice
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.AlreadyProcessed.selector, r.transferId));
        gateway.release(r, sigs);
        (, uint256 available,,) = gateway.governorOf(address(mirror));
        assertEq(available, CAPACITY, "a delayed release does not consume the bucket");
    }

    function test_executeDelayed_onlyWhenDueThenOnce() public {
        (Release memory r, bytes memory sigs) = _signed("a", 700);
        gateway.release(r, sigs);
        (,,, uint64 at) = gateway.delayedOf(r.transferId);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.DelayNotElapsed.selector, r.transferId, at));
        gateway.executeDelayed(r.transferId);
        vm.warp(at);
        vm.expectEmit(address(gateway));
        emit IBridgeGateway.Released(r.transferId, address(mirror), alice, 700);
        vm.prank(bob); // anyone
        gateway.executeDelayed(r.transferId);
        assertEq(mirror.balanceOf(alice), 700);
        assertEq(gateway.statusOf(r.transferId), 1);
        (,,, uint64 cleared) = gateway.delayedOf(r.transferId);
        assertEq(cleared, 0);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotDelayed.selector, r.transferId));
        gateway.executeDelayed(r.transferId);
    }

    function test_executeDelayed_revertsWhenPaused() public {
        (Release memory r, bytes memory sigs) = _signed("a", 700);
        gateway.release(r, sigs);
        vm.warp(block.timestamp + 1 days);
        vm.prank(admin);
        gateway.pause();
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        gateway.executeDelayed(r.transferId);
    }

    function test_release_burstBeyondBucketIsPartlyDelayedAndRefills() public {
        // 4 x 300 = 1200 > capacity 1000: three at once, the fourth delayed
        uint8[4] memory seeds = [1, 2, 3, 4];
        Release[] memory rs = new Release[](4);
        for (uint256 i; i < 4; ++i) {
            bytes memory sigs;
            (rs[i], sigs) = _signed(bytes32(uint256(seeds[i])), 300);
            gateway.release(rs[i], sigs);
        }
        assertEq(mirror.balanceOf(alice), 900);
        assertEq(gateway.statusOf(rs[3].transferId), 2);
        (, uint256 available,,) = gateway.governorOf(address(mirror));
        assertEq(available, 100);
        vm.warp(block.timestamp + 20); // +200, capped at capacity later
        (, available,,) = gateway.governorOf(address(mirror));
        assertEq(available, 300);
        vm.warp(block.timestamp + 1_000);
        (, available,,) = gateway.governorOf(address(mirror));
        assertEq(available, CAPACITY);
    }

    function test_setGovernor_tighteningAppliesAtOnceLooseningWaits() public {
        vm.startPrank(admin);
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.GovernorSet(address(mirror), 500, 5, 300);
        gateway.setGovernor(address(mirror), 500, 5, 300);
        (uint256 capacity, uint256 available, uint256 refill, uint256 threshold) = gateway.governorOf(address(mirror));
        assertEq(capacity, 500);
        assertEq(available, 500, "available is capped at the new capacity");
        assertEq(refill, 5);
        assertEq(threshold, 300);
        uint64 effectiveAt = uint64(block.timestamp) + ADMIN_DELAY;
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.GovernorChangeScheduled(address(mirror), 2_000, 5, 300, effectiveAt);
        gateway.setGovernor(address(mirror), 2_000, 5, 300);
        vm.stopPrank();
        (capacity,,,) = gateway.governorOf(address(mirror));
        assertEq(capacity, 500, "a loosening waits");
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NoChangeDue.selector, effectiveAt));
        gateway.applyGovernor(address(mirror));
        vm.warp(effectiveAt);
        gateway.applyGovernor(address(mirror));
        (capacity,,,) = gateway.governorOf(address(mirror));
        assertEq(capacity, 2_000);
    }

    function test_setGovernor_removingTheLimitOrThresholdIsALoosening() public {
        vm.startPrank(admin);
        gateway.setGovernor(address(mirror), 0, 0, 0);
        (uint256 capacity,,,) = gateway.governorOf(address(mirror));
        assertEq(capacity, CAPACITY);
        gateway.setGovernor(address(mirror), CAPACITY, REFILL, 0);
        (,,, uint256 threshold) = gateway.governorOf(address(mirror));
        assertEq(threshold, THRESHOLD);
        gateway.setGovernor(address(mirror), CAPACITY, REFILL + 1, THRESHOLD);
        (,, uint256 refill,) = gateway.governorOf(address(mirror));
        assertEq(refill, REFILL);
        (uint256 pCapacity, uint256 pRefill,, uint64 at) = gateway.pendingGovernorOf(address(mirror));
        assertEq(pCapacity, CAPACITY);
        assertEq(pRefill, REFILL + 1);
        assertGt(at, 0);
        // a tightening in between drops the pending loosening
        gateway.setGovernor(address(mirror), CAPACITY - 1, REFILL, THRESHOLD);
        vm.stopPrank();
        (,,, at) = gateway.pendingGovernorOf(address(mirror));
        assertEq(at, 0);
    }

    function test_setGovernor_revertsOnOversizedValuesAndForOthers() public {
        vm.startPrank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(IBridgeCommon.GovernorValueTooLarge.selector, uint256(1) << 96, type(uint96).max)
        );
        gateway.setGovernor(address(mirror), uint256(1) << 96, 0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IBridgeCommon.GovernorValueTooLarge.selector, uint256(1) << 128, type(uint128).max)
        );
        gateway.setGovernor(address(mirror), 1, uint256(1) << 128, 0);
        // limits are stored as mantissa (< 2^24) * 10^exponent, never rounded
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.GovernorValueNotRepresentable.selector, 1_234_567_891));
        gateway.setGovernor(address(mirror), 1, 0, 1_234_567_891);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.GovernorValueNotRepresentable.selector, uint256(1) << 128));
        gateway.setGovernor(address(mirror), 1, 0, uint256(1) << 128);
        gateway.setGovernor(address(mirror), 1, 0, 0); // tighten to a tiny bucket first
        gateway.setGovernor(address(mirror), 1, 0, 1);
        vm.stopPrank();
        bytes32 role = gateway.DEFAULT_ADMIN_ROLE();
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, role));
        gateway.setGovernor(address(mirror), 1, 1, 1);
    }

    function test_capacityZeroMeansNoLimit() public {
        address other = makeAddr("other-src");
        vm.prank(admin);
        MirroredToken m = MirroredToken(gateway.registerToken(CONFLUX_CHAIN, other, "O", "O", 18));
        Release memory r = _boundRelease(CONFLUX_CHAIN, vaultRemote, "big", address(m), alice, type(uint128).max);
        gateway.release(r, _bundle(gateway.hashRelease(r), _quorumKeys(set)));
        assertEq(m.balanceOf(alice), type(uint128).max);
    }

    function test_setDelay_longerAtOnceShorterWaitsAndCapped() public {
        vm.startPrank(admin);
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.DelaySet(24 hours, 2 days);
        gateway.setDelay(2 days);
        assertEq(gateway.delay(), 2 days);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.DelayTooLong.selector, 7 days + 1, 7 days));
        gateway.setDelay(7 days + 1);
        gateway.setDelay(1 hours);
        vm.stopPrank();
        assertEq(gateway.delay(), 2 days);
        vm.warp(block.timestamp + ADMIN_DELAY);
        gateway.applyParameter("delay");
        assertEq(gateway.delay(), 1 hours);
    }

    /// @notice Whatever executes at once in a window never exceeds capacity + refill * elapsed.
    function testFuzz_bucket_neverReleasesMoreThanCapacityPlusRefill(
        uint96 capacity,
        uint64 refill,
        uint256 seed,
        uint8 steps
    ) public {
        // representable limits: mantissa (< 2^24) * 10^exponent
        capacity = uint96(bound(capacity, 1, (1 << 24) - 1) * 10 ** (uint256(capacity) % 13));
        refill = uint64(bound(refill, 0, (1 << 24) - 1) * 10 ** (uint256(refill) % 8));
        steps = uint8(bound(steps, 1, 24));
        // a mirror with no governor yet: any setting is a tightening and applies at once
        vm.startPrank(admin);
        mirror = MirroredToken(gateway.registerToken(CONFLUX_CHAIN, makeAddr("fuzz-src"), "F", "F", 18));
        gateway.setGovernor(address(mirror), capacity, refill, 0);
        vm.stopPrank();
        uint256 start = block.timestamp;
        uint256 immediate;
        for (uint256 i; i < steps; ++i) {
            seed = uint256(keccak256(abi.encode(seed)));
            vm.warp(block.timestamp + (seed % 3_600));
            uint256 amount = bound(seed >> 16, 1, uint256(capacity) * 2);
            (Release memory r, bytes memory sigs) = _signed(bytes32(i + 1), amount);
            gateway.release(r, sigs);
            if (gateway.statusOf(r.transferId) == 1) immediate += amount;
            (uint256 cap, uint256 available,,) = gateway.governorOf(address(mirror));
            assertLe(available, cap, "bucket above capacity");
        }
        assertLe(immediate, uint256(capacity) + uint256(refill) * (block.timestamp - start));
        assertEq(mirror.totalSupply(), immediate);
    }

    function test_setGovernor_acceptsRoundLimits() public {
        vm.prank(admin);
        gateway.setGovernor(address(mirror), 500, 5, 300);
        MirroredToken hkd;
        vm.startPrank(admin);
        hkd = MirroredToken(gateway.registerToken(CONFLUX_CHAIN, makeAddr("axhkd"), "AxHKD", "AxHKD", 6));
        // 1.5 million HKD capacity, 25 HKD per second, 250,000 HKD threshold (6 decimals)
        gateway.setGovernor(address(hkd), 1_500_000e6, 25e6, 250_000e6);
        vm.stopPrank();
        (uint256 capacity, uint256 available, uint256 refill, uint256 threshold) = gateway.governorOf(address(hkd));
        assertEq(capacity, 1_500_000e6);
        assertEq(available, 1_500_000e6);
        assertEq(refill, 25e6);
        assertEq(threshold, 250_000e6);
    }

    function test_registerToken_refusesSourceChainIdsOf32BitsOrMore() public {
        uint64 big = uint64(1) << 32;
        vm.startPrank(admin);
        gateway.registerChain(big, vaultRemote, false);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidChainId.selector, big));
        gateway.registerToken(big, makeAddr("x"), "X", "X", 18);
        vm.stopPrank();
    }

    // -------------------------------------------------------------------- veto

    function test_cancel_byBlockingMinorityOfADelayedRelease() public {
        (Release memory r, bytes memory sigs) = _signed("a", 700);
        gateway.release(r, sigs);
        bytes memory veto = _minority(gateway.hashCancel(r.transferId));
        assertEq(veto.length, 65 * 3); // 7 - 5 + 1
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseCancelled(r.transferId, false);
        gateway.cancel(r.transferId, veto);
        assertEq(gateway.statusOf(r.transferId), 3);
        assertTrue(gateway.isProcessed(r.transferId));
        vm.warp(block.timestamp + 2 days);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotDelayed.selector, r.transferId));
        gateway.executeDelayed(r.transferId);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TransferCancelled.selector, r.transferId));
        gateway.release(r, sigs);
        assertEq(mirror.balanceOf(alice), 0);
    }

    function test_cancel_ofAnIdNeverSeenRefusesItsLaterRelease() public {
        (Release memory r, bytes memory sigs) = _signed("a", 10);
        gateway.cancel(r.transferId, _minority(gateway.hashCancel(r.transferId)));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TransferCancelled.selector, r.transferId));
        gateway.release(r, sigs);
    }

    function test_cancel_worksWhilePaused() public {
        (Release memory r,) = _signed("a", 10);
        vm.prank(admin);
        gateway.pause();
        gateway.cancel(r.transferId, _minority(gateway.hashCancel(r.transferId)));
        assertEq(gateway.statusOf(r.transferId), 3);
    }

    function test_cancel_revertsBelowBlockingMinorityAndOnExecuted() public {
        (Release memory r, bytes memory sigs) = _signed("a", 10);
        bytes32 d = gateway.hashCancel(r.transferId);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.BelowThreshold.selector, 2, 3));
        gateway.cancel(r.transferId, _bundle(d, _firstKeys(set, 2)));
        // a release signature is not a cancel signature
        _expectStrangerSigner(d, sigs);
        gateway.cancel(r.transferId, sigs);
        gateway.release(r, sigs);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotCancellable.selector, r.transferId, 1));
        gateway.cancel(r.transferId, _minority(d));
    }

    function test_guardianCancel_duringTheDelayOnly() public {
        (Release memory r, bytes memory sigs) = _signed("a", 700);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotDelayed.selector, r.transferId));
        gateway.guardianCancel(r.transferId);
        gateway.release(r, sigs);
        bytes32 role = gateway.PAUSER_ROLE();
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, bob, role));
        gateway.guardianCancel(r.transferId);
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseCancelled(r.transferId, true);
        vm.prank(admin);
        gateway.guardianCancel(r.transferId);
        assertEq(gateway.statusOf(r.transferId), 3);

        (Release memory r2, bytes memory sigs2) = _signed("b", 700);
        gateway.release(r2, sigs2);
        (,,, uint64 at) = gateway.delayedOf(r2.transferId);
        vm.warp(at);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.DelayElapsed.selector, r2.transferId, at));
        gateway.guardianCancel(r2.transferId);
    }

    function test_vault_cancelOfDelayedUnlockReturnsTheReservedBalance() public {
        vm.prank(alice);
        vault.lock(address(token), 1_000, bob, ETHEREUM_CHAIN);
        Release memory r = _boundRelease(ETHEREUM_CHAIN, gatewayRemote, "u", address(token), bob, 800);
        vault.unlock(r, _bundle(vault.hashRelease(r), _quorumKeys(set)));
        assertEq(vault.statusOf(r.transferId), 2);
        assertEq(vault.lockedBalance(address(token)), 200, "a delayed unlock is reserved");
        vault.cancel(r.transferId, _minority(vault.hashCancel(r.transferId)));
        assertEq(vault.lockedBalance(address(token)), 1_000);
        assertEq(token.balanceOf(bob), 0);
    }

    // ------------------------------------------------------------------ refund

    function _refundOfLock(uint256 amount) internal returns (Refund memory f, bytes memory sigs) {
        vm.prank(alice);
        bytes32 id = vault.lock(address(token), amount, bob, ETHEREUM_CHAIN);
        f = Refund({
            transferId: id,
            nonce: vault.nextNonce() - 1,
            dstChainId: ETHEREUM_CHAIN,
            token: address(token),
            recipient: alice,
            amount: amount
        });
        sigs = _bundle(vault.hashRefund(f), _quorumKeys(set));
    }

    function test_refund_returnsALockToItsSenderOnce() public {
        (Refund memory f, bytes memory sigs) = _refundOfLock(500);
        uint256 before = token.balanceOf(alice);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.Refunded(f.transferId, address(token), alice, 500);
        vault.refund(f, sigs);
        assertEq(token.balanceOf(alice), before + 500);
        assertEq(vault.statusOf(f.transferId), 4);
        assertEq(vault.lockedBalance(address(token)), 0);
        assertFalse(vault.isProcessed(f.transferId));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.AlreadyRefunded.selector, f.transferId));
        vault.refund(f, sigs);
    }

    function test_refund_onlyForIdsIssuedHere() public {
        (Refund memory f, bytes memory sigs) = _refundOfLock(500);
        f.nonce += 1; // not issued yet
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotIssuedHere.selector, f.transferId, f.nonce));
        vault.refund(f, sigs);
        f.nonce -= 1;
        f.transferId = keccak256("elsewhere"); // not derived from the nonce
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotIssuedHere.selector, f.transferId, f.nonce));
        vault.refund(f, sigs);
        f.nonce = 0;
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotIssuedHere.selector, f.transferId, 0));
        vault.refund(f, sigs);
    }

    function test_refund_needsAFullQuorumAndTheLockedBalance() public {
        (Refund memory f,) = _refundOfLock(500);
        bytes32 d = vault.hashRefund(f);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.BelowThreshold.selector, 3, 5));
        vault.refund(f, _minority(d));
        f.amount = 501;
        bytes memory sigs = _bundle(vault.hashRefund(f), _quorumKeys(set));
        vm.expectRevert(abi.encodeWithSelector(IBridgeVault.InsufficientLockedBalance.selector, address(token), 501, 500));
        vault.refund(f, sigs);
    }

    function test_refund_onTheGatewayReMintsABurn() public {
        (Release memory r, bytes memory sigs) = _signed("a", 100);
        gateway.release(r, sigs);
        vm.prank(alice);
        bytes32 id = gateway.burn(address(mirror), 100, bob, CONFLUX_CHAIN);
        Refund memory f = Refund({
            transferId: id, nonce: 1, dstChainId: CONFLUX_CHAIN, token: address(mirror), recipient: alice, amount: 100
        });
        gateway.refund(f, _bundle(gateway.hashRefund(f), _quorumKeys(set)));
        assertEq(mirror.balanceOf(alice), 100);
        assertEq(gateway.statusOf(id), 4);
    }

    // ------------------------------------------------------------------- batch

    function test_releaseBatch_skipsBadItemsWithTheirSelectorAndExecutesTheRest() public {
        Release[] memory rs = new Release[](5);
        bytes[] memory sigs = new bytes[](5);
        (rs[0], sigs[0]) = _signed("ok", 10);
        (rs[1], sigs[1]) = _signed("replayed", 10);
        gateway.release(rs[1], sigs[1]);
        (rs[2], sigs[2]) = _signed("badsig", 10);
        sigs[2] = _bundle(gateway.hashRelease(rs[2]), _firstKeys(set, 4));
        (rs[3], sigs[3]) = _signed("large", 700);
        (rs[4], sigs[4]) = _signed("unbound", 10);
        rs[4].transferId = keccak256("not bound");
        vm.expectEmit(address(gateway));
        emit IBridgeGateway.Released(rs[0].transferId, address(mirror), alice, 10);
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseSkipped(rs[1].transferId, IBridgeCommon.AlreadyProcessed.selector);
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseSkipped(rs[2].transferId, IBridgeCommon.BelowThreshold.selector);
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseDelayed(rs[3].transferId, uint64(block.timestamp) + gateway.delay());
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseSkipped(rs[4].transferId, IBridgeCommon.WrongTransferId.selector);
        gateway.releaseBatch(rs, sigs);
        assertEq(mirror.balanceOf(alice), 20);
        assertEq(gateway.statusOf(rs[2].transferId), 0, "a skipped item can be submitted again");
    }

    function test_releaseBatch_revertsOnlyWhenEmptyMismatchedOrPaused() public {
        vm.expectRevert(IBridgeCommon.EmptyBatch.selector);
        gateway.releaseBatch(new Release[](0), new bytes[](0));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.BatchLengthMismatch.selector, 1, 2));
        gateway.releaseBatch(new Release[](1), new bytes[](2));
        vm.prank(admin);
        gateway.pause();
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        gateway.releaseBatch(new Release[](1), new bytes[](1));
    }

    function test_releaseBatch_cancelledAndUnregisteredItemsAreSkipped() public {
        Release[] memory rs = new Release[](2);
        bytes[] memory sigs = new bytes[](2);
        (rs[0], sigs[0]) = _signed("c", 10);
        gateway.cancel(rs[0].transferId, _minority(gateway.hashCancel(rs[0].transferId)));
        rs[1] = _boundRelease(CONFLUX_CHAIN, vaultRemote, "t", makeAddr("not-a-mirror"), alice, 1);
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseSkipped(rs[0].transferId, IBridgeCommon.TransferCancelled.selector);
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseSkipped(rs[1].transferId, IBridgeCommon.TokenNotRegistered.selector);
        gateway.releaseBatch(rs, sigs);
    }

    function test_unlockBatch_skipsAboveLockedAndPaysTheRest() public {
        vm.prank(alice);
        vault.lock(address(token), 100, bob, ETHEREUM_CHAIN);
        Release[] memory rs = new Release[](2);
        bytes[] memory sigs = new bytes[](2);
        rs[0] = _boundRelease(ETHEREUM_CHAIN, gatewayRemote, "u1", address(token), bob, 60);
        rs[1] = _boundRelease(ETHEREUM_CHAIN, gatewayRemote, "u2", address(token), bob, 60);
        sigs[0] = _bundle(vault.hashRelease(rs[0]), _quorumKeys(set));
        sigs[1] = _bundle(vault.hashRelease(rs[1]), _quorumKeys(set));
        vm.expectEmit(address(vault));
        emit IBridgeCommon.ReleaseSkipped(rs[1].transferId, IBridgeVault.InsufficientLockedBalance.selector);
        vault.unlockBatch(rs, sigs);
        assertEq(token.balanceOf(bob), 60);
        assertEq(vault.lockedBalance(address(token)), 40);
    }

    /// @notice A short gas limit reverts the whole batch instead of skipping valid items.
    function test_releaseBatch_shortGasRevertsInsteadOfSkipping() public {
        Release[] memory rs = new Release[](1);
        bytes[] memory sigs = new bytes[](1);
        (rs[0], sigs[0]) = _signed("g", 10);
        (bool ok,) = address(gateway).call{gas: 40_000}(abi.encodeCall(gateway.releaseBatch, (rs, sigs)));
        assertFalse(ok);
        assertEq(gateway.statusOf(rs[0].transferId), 0);
        gateway.releaseBatch(rs, sigs);
        assertEq(gateway.statusOf(rs[0].transferId), 1);
    }

    // ---------------------------------------------------------------- bytecode

    /// @notice One bytecode serves both chains: no PUSH0 (Shanghai), MCOPY, TLOAD or TSTORE (Cancun),
    /// which the Conflux eSpace EVM rejects. Walks the instructions (skipping PUSH data) up to the
    /// INVALID (0xfe) that ends Solidity's instruction stream; after it come only constants and
    /// metadata, never executed.
    function test_deployedBytecode_hasNoPostParisOpcodes() public {
        // (the factories are left out: their code carries the child's creation code as data)
        address[5] memory deployed =
            [address(gateway), address(vault), address(mirror), vault.adminModule(), gateway.adminModule()];
        for (uint256 k; k < deployed.length; ++k) {
            bytes memory code = deployed[k].code;
            uint256 i;
            for (; i < code.length; ++i) {
                uint8 op = uint8(code[i]);
                if (op == 0xfe) break;
                assertTrue(op != 0x5f && op != 0x5e && op != 0x5c && op != 0x5d, "post-Paris opcode");
                if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
            }
            assertLt(code.length - i, 400, "the walk stopped early: more than a data tail is left");
        }
        assertGt(address(vault.validatorSetFactory()).code.length, 0);
    }
}
