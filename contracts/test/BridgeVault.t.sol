// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IVault} from "./utils/IVault.sol";
import {IBridgeCommon, IBridgeVault, Release} from "../src/interfaces/IBridge.sol";
import {FeeOnTransferToken} from "../src/test-tokens/FeeOnTransferToken.sol";
import {TestToken} from "../src/test-tokens/TestToken.sol";
import {BridgeFixture} from "./utils/BridgeFixture.sol";
import {FalseReturningToken, ReentrantReceiver, ReentrantToken, RevertingReceiver} from "./utils/Mocks.sol";

contract BridgeVaultTest is BridgeFixture {
    IVault internal vault;
    ValidatorKeys internal set;
    TestToken internal token;
    address internal gatewayRemote = makeAddr("gateway");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        vm.chainId(CONFLUX_CHAIN);
        set = _makeSet("vault", 7, 3);
        vault = _deployVault(set);
        token = new TestToken("Tether", "USDT", 6);
        vm.startPrank(admin);
        vault.registerChain(ETHEREUM_CHAIN, gatewayRemote, false);
        vault.registerToken(address(token));
        vault.registerToken(address(0));
        vm.stopPrank();
        token.mint(alice, 1_000_000);
        vm.prank(alice);
        token.approve(address(vault), type(uint256).max);
        vm.deal(alice, 100 ether);
    }

    function _lock(uint256 amount) internal returns (bytes32) {
        vm.prank(alice);
        return vault.lock(address(token), amount, bob, ETHEREUM_CHAIN);
    }

    function _signedUnlock(bytes32 id, address tok, address recipient, uint256 amount)
        internal
        view
        returns (Release memory r, bytes memory sigs)
    {
        r = _boundRelease(ETHEREUM_CHAIN, gatewayRemote, id, tok, recipient, amount);
        sigs = _bundle(vault.hashRelease(r), _quorumKeys(set));
    }

    // ------------------------------------------------------------ registration

    function test_registerToken_revertsOnNonContract() public {
        address eoa = makeAddr("eoa");
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotAContract.selector, eoa));
        vault.registerToken(eoa);
    }

    function test_registerToken_revertsWhenAlreadyRegistered() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBridgeVault.TokenAlreadyRegistered.selector, address(token)));
        vault.registerToken(address(token));
    }

    function test_registerToken_revertsWhenNotAdmin() public {
        bytes32 role = vault.DEFAULT_ADMIN_ROLE();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vault.registerToken(address(token));
    }

    function test_registerToken_emits() public {
        TestToken t = new TestToken("A", "A", 18);
        vm.expectEmit(true, false, false, false, address(vault));
        emit IBridgeVault.TokenRegistered(address(t));
        vm.prank(admin);
        vault.registerToken(address(t));
        assertTrue(vault.isTokenRegistered(address(t)));
    }

    function test_unregisterToken_stopsLocksButNotUnlocks() public {
        bytes32 id = _lock(100);
        vm.prank(admin);
        vault.unregisterToken(address(token));
        assertFalse(vault.isTokenRegistered(address(token)));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenNotRegistered.selector, address(token)));
        vault.lock(address(token), 1, bob, ETHEREUM_CHAIN);
        (Release memory r, bytes memory sigs) = _signedUnlock(id, address(token), alice, 100);
        vault.unlock(r, sigs);
        assertEq(token.balanceOf(alice), 1_000_000);
    }

    function test_unregisterToken_revertsWhenNotRegistered() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenNotRegistered.selector, address(0xdead)));
        vault.unregisterToken(address(0xdead));
    }

    // -------------------------------------------------------------------- lock

    function test_lock_pullsTokensAndEmits() public {
        bytes32 expectedId = keccak256(abi.encode(uint256(CONFLUX_CHAIN), address(vault), uint64(1)));
        vm.expectEmit(true, true, true, true, address(vault));
        emit IBridgeVault.Locked(expectedId, 1, address(token), alice, bob, 250, ETHEREUM_CHAIN);
        bytes32 id = _lock(250);
        assertEq(id, expectedId);
        assertEq(token.balanceOf(address(vault)), 250);
        assertEq(vault.lockedBalance(address(token)), 250);
        assertEq(vault.nextNonce(), 2);
    }

    function test_lock_revertsOnZeroAmount() public {
        vm.prank(alice);
        vm.expectRevert(IBridgeCommon.ZeroAmount.selector);
        vault.lock(address(token), 0, bob, ETHEREUM_CHAIN);
    }

    function test_lock_revertsOnZeroRecipient() public {
        vm.startPrank(alice);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        vault.lock(address(token), 1, address(0), ETHEREUM_CHAIN);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        vault.lock(address(token), 1, gatewayRemote, ETHEREUM_CHAIN);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        vault.lock(address(token), 1, address(vault), ETHEREUM_CHAIN);
        vm.stopPrank();
    }

    function test_lock_revertsOnUnregisteredChain() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ChainNotRegistered.selector, uint64(5)));
        vault.lock(address(token), 1, bob, 5);
    }

    function test_lock_revertsOnUnlistedToken() public {
        TestToken other = new TestToken("O", "O", 18);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenNotRegistered.selector, address(other)));
        vault.lock(address(other), 1, bob, ETHEREUM_CHAIN);
    }

    function test_lock_revertsOnNonContractToken() public {
        // registered while it had code, then the code vanished (or any EOA slipping through)
        TestToken t = new TestToken("T", "T", 18);
        vm.prank(admin);
        vault.registerToken(address(t));
        vm.etch(address(t), "");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NotAContract.selector, address(t)));
        vault.lock(address(t), 1, bob, ETHEREUM_CHAIN);
    }

    function test_lock_revertsOnNativeAddress() public {
        vm.prank(alice);
        vm.expectRevert(IBridgeVault.UseLockNative.selector);
        vault.lock(address(0), 1, bob, ETHEREUM_CHAIN);
    }

    function test_lock_revertsOnMaxAmountWithoutBalance() public {
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientBalance.selector, alice, uint256(1_000_000), type(uint256).max
            )
        );
        vault.lock(address(token), type(uint256).max, bob, ETHEREUM_CHAIN);
        assertEq(vault.lockedBalance(address(token)), 0);
    }

    function test_lock_maxAmountWhenHeld() public {
        TestToken big = new TestToken("B", "B", 18);
        vm.prank(admin);
        vault.registerToken(address(big));
        big.mint(alice, type(uint256).max);
        vm.startPrank(alice);
        big.approve(address(vault), type(uint256).max);
        vault.lock(address(big), type(uint256).max, bob, ETHEREUM_CHAIN);
        vm.stopPrank();
        assertEq(vault.lockedBalance(address(big)), type(uint256).max);
    }

    function test_lock_revertsOnFalseReturningToken() public {
        FalseReturningToken f = new FalseReturningToken();
        vm.prank(admin);
        vault.registerToken(address(f));
        f.mint(alice, 100);
        f.setBroken(true);
        vm.startPrank(alice);
        f.approve(address(vault), 100);
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(f)));
        vault.lock(address(f), 1, bob, ETHEREUM_CHAIN);
        vm.stopPrank();
    }

    function test_lock_feeOnTransferCreditsReceivedAmount() public {
        FeeOnTransferToken fot = new FeeOnTransferToken("Fee", "FEE", 18, 100); // 1 %
        vm.prank(admin);
        vault.registerToken(address(fot));
        fot.mint(alice, 10_000);
        vm.startPrank(alice);
        fot.approve(address(vault), type(uint256).max);
        bytes32 expectedId = keccak256(abi.encode(uint256(CONFLUX_CHAIN), address(vault), uint64(1)));
        vm.expectEmit(true, true, true, true, address(vault));
        emit IBridgeVault.Locked(expectedId, 1, address(fot), alice, bob, 9_900, ETHEREUM_CHAIN);
        vault.lock(address(fot), 10_000, bob, ETHEREUM_CHAIN);
        vm.stopPrank();
        assertEq(vault.lockedBalance(address(fot)), 9_900);
        assertEq(fot.balanceOf(address(vault)), 9_900);
    }

    function test_lock_revertsWhenNothingReceived() public {
        FeeOnTransferToken fot = new FeeOnTransferToken("Fee", "FEE", 18, 10_000); // 100 % fee
        vm.prank(admin);
        vault.registerToken(address(fot));
        fot.mint(alice, 10_000);
        vm.startPrank(alice);
        fot.approve(address(vault), type(uint256).max);
        vm.expectRevert(IBridgeCommon.ZeroAmount.selector);
        vault.lock(address(fot), 10_000, bob, ETHEREUM_CHAIN);
        vm.stopPrank();
    }

    function test_lock_revertsOnReentrantTokenHook() public {
        ReentrantToken re = new ReentrantToken();
        vm.prank(admin);
        vault.registerToken(address(re));
        re.mint(alice, 100);
        re.mint(address(re), 100);
        vm.prank(alice);
        re.approve(address(vault), type(uint256).max);
        // on transferFrom the token re-enters lock(): it must hit the guard
        re.arm(vault, abi.encodeCall(vault.lock, (address(re), 1, bob, ETHEREUM_CHAIN)));
        vm.prank(alice);
        vm.expectRevert(IBridgeCommon.ReentrantCall.selector);
        vault.lock(address(re), 10, bob, ETHEREUM_CHAIN);
    }

    function test_lock_revertsWhenPaused() public {
        vm.prank(admin);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        vault.lock(address(token), 1, bob, ETHEREUM_CHAIN);
    }

    function testFuzz_lock_anyAmount(uint256 amount) public {
        amount = bound(amount, 1, 1_000_000);
        _lock(amount);
        assertEq(vault.lockedBalance(address(token)), amount);
        assertEq(token.balanceOf(address(vault)), amount);
    }

    function testFuzz_lock_feeOnTransfer(uint256 amount, uint16 feeBps) public {
        feeBps = uint16(bound(feeBps, 0, 9_999));
        amount = bound(amount, 10_000, type(uint128).max);
        FeeOnTransferToken fot = new FeeOnTransferToken("Fee", "FEE", 18, feeBps);
        vm.prank(admin);
        vault.registerToken(address(fot));
        fot.mint(alice, amount);
        vm.startPrank(alice);
        fot.approve(address(vault), amount);
        vault.lock(address(fot), amount, bob, ETHEREUM_CHAIN);
        vm.stopPrank();
        assertEq(vault.lockedBalance(address(fot)), amount - (amount * feeBps) / 10_000);
        assertEq(vault.lockedBalance(address(fot)), fot.balanceOf(address(vault)));
    }

    // -------------------------------------------------------------- lockNative

    function test_lockNative_locksValueAndEmits() public {
        bytes32 expectedId = keccak256(abi.encode(uint256(CONFLUX_CHAIN), address(vault), uint64(1)));
        vm.expectEmit(true, true, true, true, address(vault));
        emit IBridgeVault.Locked(expectedId, 1, address(0), alice, bob, 1 ether, ETHEREUM_CHAIN);
        vm.prank(alice);
        vault.lockNative{value: 1 ether}(bob, ETHEREUM_CHAIN);
        assertEq(vault.lockedBalance(address(0)), 1 ether);
        assertEq(address(vault).balance, 1 ether);
    }

    function test_lockNative_revertsOnZeroValue() public {
        vm.prank(alice);
        vm.expectRevert(IBridgeCommon.ZeroAmount.selector);
        vault.lockNative(bob, ETHEREUM_CHAIN);
    }

    function test_lockNative_revertsWhenNativeNotRegistered() public {
        vm.prank(admin);
        vault.unregisterToken(address(0));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenNotRegistered.selector, address(0)));
        vault.lockNative{value: 1}(bob, ETHEREUM_CHAIN);
    }

    function test_lockNative_revertsOnZeroRecipientOrChain() public {
        vm.startPrank(alice);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        vault.lockNative{value: 1}(address(0), ETHEREUM_CHAIN);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ChainNotRegistered.selector, uint64(7)));
        vault.lockNative{value: 1}(bob, 7);
        vm.stopPrank();
    }

    function test_lockNative_revertsWhenPaused() public {
        vm.prank(admin);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        vault.lockNative{value: 1}(bob, ETHEREUM_CHAIN);
    }

    // ------------------------------------------------------------------ unlock

    function test_unlock_paysTokensAndEmits() public {
        _lock(500);
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("burn-1"), address(token), bob, 200);
        vm.expectEmit(true, true, true, true, address(vault));
        emit IBridgeVault.Unlocked(r.transferId, address(token), bob, 200);
        vault.unlock(r, sigs);
        assertEq(token.balanceOf(bob), 200);
        assertEq(vault.lockedBalance(address(token)), 300);
        assertTrue(vault.isProcessed(r.transferId));
    }

    function test_unlock_paysNative() public {
        vm.prank(alice);
        vault.lockNative{value: 2 ether}(bob, ETHEREUM_CHAIN);
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("burn-1"), address(0), bob, 1 ether);
        vault.unlock(r, sigs);
        assertEq(bob.balance, 1 ether);
        assertEq(vault.lockedBalance(address(0)), 1 ether);
    }

    function test_unlock_revertsWhenReplayed() public {
        _lock(500);
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("burn-1"), address(token), bob, 200);
        vault.unlock(r, sigs);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.AlreadyProcessed.selector, r.transferId));
        vault.unlock(r, sigs);
    }

    function test_unlock_revertsAboveLockedBalance() public {
        _lock(500);
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("burn-1"), address(token), bob, 501);
        vm.expectRevert(abi.encodeWithSelector(IBridgeVault.InsufficientLockedBalance.selector, address(token), 501, 500));
        vault.unlock(r, sigs);
        assertFalse(vault.isProcessed(r.transferId));
    }

    function test_unlock_revertsOnMaxAmount() public {
        _lock(500);
        (Release memory r, bytes memory sigs) =
            _signedUnlock(keccak256("burn-1"), address(token), bob, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(IBridgeVault.InsufficientLockedBalance.selector, address(token), type(uint256).max, 500)
        );
        vault.unlock(r, sigs);
    }

    function test_unlock_cannotSpendOtherTokensBalance() public {
        // tokens sent to the vault without lock() are not unlockable
        token.mint(address(vault), 1_000);
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("burn-1"), address(token), bob, 1);
        vm.expectRevert(abi.encodeWithSelector(IBridgeVault.InsufficientLockedBalance.selector, address(token), 1, 0));
        vault.unlock(r, sigs);
    }

    function test_unlock_revertsOnZeroAmount() public {
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(token), bob, 0);
        vm.expectRevert(IBridgeCommon.ZeroAmount.selector);
        vault.unlock(r, sigs);
    }

    function test_unlock_revertsOnZeroRecipientOrVault() public {
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(token), address(0), 1);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        vault.unlock(r, sigs);
        (r, sigs) = _signedUnlock(keccak256("b"), address(token), address(vault), 1);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        vault.unlock(r, sigs);
    }

    function test_unlock_revertsOnUnregisteredSourceChain() public {
        _lock(10);
        Release memory r = _boundRelease(5, gatewayRemote, keccak256("b"), address(token), bob, 1);
        bytes memory sigs = _bundle(vault.hashRelease(r), _quorumKeys(set));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ChainNotRegistered.selector, uint64(5)));
        vault.unlock(r, sigs);
    }

    function test_unlock_revertsWithThresholdMinusOne() public {
        _lock(10);
        Release memory r = _boundRelease(ETHEREUM_CHAIN, gatewayRemote, keccak256("b"), address(token), bob, 1);
        bytes memory sigs = _bundle(vault.hashRelease(r), _firstKeys(set, 4));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.BelowThreshold.selector, 4, 5));
        vault.unlock(r, sigs);
    }

    function test_unlock_revertsWhenSignedForAnotherChain() public {
        _lock(10);
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(token), bob, 1);
        vm.chainId(71);
        // the domain separator now has chain id 71: signature 0 recovers to an unrelated address
        _expectStrangerSigner(vault.hashRelease(r), sigs);
        vault.unlock(r, sigs);
    }

    function test_unlock_revertsWhenPaused() public {
        _lock(10);
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(token), bob, 1);
        vm.prank(admin);
        vault.pause();
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        vault.unlock(r, sigs);
    }

    function test_unlock_rejectedNativePayoutBecomesClaim() public {
        vm.prank(alice);
        vault.lockNative{value: 1 ether}(bob, ETHEREUM_CHAIN);
        RevertingReceiver rcv = new RevertingReceiver();
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(0), address(rcv), 1 ether);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.PayoutDeferred(r.transferId, address(0), address(rcv), 1 ether);
        vault.unlock(r, sigs);
        assertEq(vault.statusOf(r.transferId), 1);
        assertEq(vault.lockedBalance(address(0)), 0);
        assertEq(vault.claimable(address(0), address(rcv)), 1 ether);
        // the recipient pulls it later, to itself once it accepts or to another address
        vm.prank(address(rcv));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ClaimFailed.selector, address(0), address(rcv), 1 ether));
        vault.claim(address(0), address(rcv));
        rcv.setAccept(true);
        vm.prank(address(rcv));
        vault.claim(address(0), address(rcv));
        assertEq(address(rcv).balance, 1 ether);
        assertEq(vault.claimable(address(0), address(rcv)), 0);
        vm.prank(address(rcv));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NothingToClaim.selector, address(0), address(rcv)));
        vault.claim(address(0), address(rcv));
    }

    function test_unlock_reentrantNativeRecipientBlocked() public {
        vm.prank(alice);
        vault.lockNative{value: 2 ether}(bob, ETHEREUM_CHAIN);
        ReentrantReceiver rcv = new ReentrantReceiver();
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(0), address(rcv), 1 ether);
        (Release memory r2, bytes memory sigs2) = _signedUnlock(keccak256("c"), address(0), address(rcv), 1 ether);
        rcv.arm(vault, r2, sigs2);
        vault.unlock(r, sigs);
        assertEq(rcv.reentryError(), abi.encodeWithSelector(IBridgeCommon.ReentrantCall.selector));
        assertEq(address(rcv).balance, 1 ether);
        assertFalse(vault.isProcessed(r2.transferId));
    }

    function test_unlock_reentrantTokenHookBlockedAndCredited() public {
        ReentrantToken re = new ReentrantToken();
        vm.prank(admin);
        vault.registerToken(address(re));
        re.mint(alice, 100);
        vm.startPrank(alice);
        re.approve(address(vault), type(uint256).max);
        vault.lock(address(re), 100, bob, ETHEREUM_CHAIN);
        vm.stopPrank();
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(re), bob, 10);
        (Release memory r2, bytes memory sigs2) = _signedUnlock(keccak256("c"), address(re), bob, 10);
        re.arm(vault, abi.encodeCall(vault.unlock, (r2, sigs2)));
        // the token's hook re-enters, the guard refuses, the transfer fails: the payout becomes a claim
        vm.expectEmit(address(vault));
        emit IBridgeCommon.PayoutDeferred(r.transferId, address(re), bob, 10);
        vault.unlock(r, sigs);
        assertEq(vault.statusOf(r2.transferId), 0);
        assertEq(vault.claimable(address(re), bob), 10);
        assertEq(vault.lockedBalance(address(re)), 90);
    }

    function test_unlock_falseReturningTokenBecomesClaim() public {
        FalseReturningToken f = new FalseReturningToken();
        vm.prank(admin);
        vault.registerToken(address(f));
        f.mint(alice, 100);
        vm.startPrank(alice);
        f.approve(address(vault), 100);
        vault.lock(address(f), 100, bob, ETHEREUM_CHAIN);
        vm.stopPrank();
        f.setBroken(true);
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(f), bob, 10);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.PayoutDeferred(r.transferId, address(f), bob, 10);
        vault.unlock(r, sigs);
        assertEq(vault.statusOf(r.transferId), 1);
        assertEq(vault.claimable(address(f), bob), 10);
        // once the token works again, bob pulls it
        f.setBroken(false);
        vm.prank(bob);
        vault.claim(address(f), bob);
        assertEq(f.balanceOf(bob), 10);
    }

    function test_unlock_messageCannotReachAdminFunctions() public {
        // token = the vault itself: no locked balance, so nothing is called
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(vault), bob, 1);
        vm.expectRevert(abi.encodeWithSelector(IBridgeVault.InsufficientLockedBalance.selector, address(vault), 1, 0));
        vault.unlock(r, sigs);
    }

    function testFuzz_unlock_neverExceedsLocked(uint256 locked, uint256 requested) public {
        locked = bound(locked, 1, 1_000_000);
        requested = bound(requested, 1, type(uint256).max);
        _lock(locked);
        (Release memory r, bytes memory sigs) = _signedUnlock(keccak256("b"), address(token), bob, requested);
        if (requested > locked) {
            vm.expectRevert(
                abi.encodeWithSelector(IBridgeVault.InsufficientLockedBalance.selector, address(token), requested, locked)
            );
            vault.unlock(r, sigs);
        } else {
            vault.unlock(r, sigs);
            assertEq(vault.lockedBalance(address(token)), locked - requested);
            assertEq(token.balanceOf(address(vault)), locked - requested);
        }
    }
}
