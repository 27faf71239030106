// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {BridgeAdmin} from "../src/BridgeAdmin.sol";
import {BridgeGateway} from "../src/BridgeGateway.sol";
import {IVault} from "./utils/IVault.sol";
import {IBridgeCommon, IBridgeGateway, IBridgeVault, Refund, Release} from "../src/interfaces/IBridge.sol";
import {MirroredToken} from "../src/MirroredToken.sol";
import {TestToken} from "../src/test-tokens/TestToken.sol";
import {BridgeFixture} from "./utils/BridgeFixture.sol";
import {RevertingReceiver} from "./utils/Mocks.sol";

/// @notice The admin module (delegatecall), the locked balance per destination chain (L-3), the
/// sweep (L-2), a token or a route paused on its own and registration events (L-5), and kept
/// remotes (M-2).
abstract contract AdminFixture is BridgeFixture {
    uint64 internal constant SEPOLIA_CHAIN = 11155111;

    BridgeGateway internal gateway;
    IVault internal vault;
    ValidatorKeys internal set;
    MirroredToken internal mirror;
    TestToken internal token;
    address internal vaultRemote = makeAddr("vault-on-conflux");
    address internal gatewayRemote = makeAddr("gateway-on-ethereum");
    address internal sepoliaRemote = makeAddr("gateway-on-sepolia");
    address internal pauser = makeAddr("pauser");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        set = _makeSet("admin-module", 7, 3);
        gateway = _deployGateway(set);
        vault = _deployVault(set);
        token = new TestToken("Tether", "USDT", 6);
        vm.startPrank(admin);
        gateway.registerChain(CONFLUX_CHAIN, vaultRemote, false);
        mirror = MirroredToken(gateway.registerToken(CONFLUX_CHAIN, makeAddr("usdt"), "USDT", "USDT", 6));
        vault.registerChain(ETHEREUM_CHAIN, gatewayRemote, false);
        vault.registerChain(SEPOLIA_CHAIN, sepoliaRemote, false);
        vault.registerToken(address(token));
        vault.registerToken(address(0));
        vault.grantRole(vault.PAUSER_ROLE(), pauser);
        gateway.grantRole(gateway.PAUSER_ROLE(), pauser);
        vm.stopPrank();
        token.mint(alice, 1_000_000);
        vm.deal(alice, 100 ether);
        vm.prank(alice);
        token.approve(address(vault), type(uint256).max);
    }

    function _lock(uint256 amount, uint64 dst) internal returns (bytes32 id, uint64 nonce) {
        vm.prank(alice);
        id = vault.lock(address(token), amount, bob, dst);
        nonce = vault.nextNonce() - 1;
    }

    function _unlock(uint64 src, address remote, bytes32 seed, uint256 amount)
        internal
        view
        returns (Release memory r, bytes memory sigs)
    {
        r = _boundRelease(src, remote, seed, address(token), bob, amount);
        sigs = _bundle(vault.hashRelease(r), _quorumKeys(set));
    }

    function _gatewayRelease(bytes32 seed, uint256 amount) internal view returns (Release memory r, bytes memory sigs) {
        r = _boundRelease(CONFLUX_CHAIN, vaultRemote, seed, address(mirror), alice, amount);
        sigs = _bundle(gateway.hashRelease(r), _quorumKeys(set));
    }

    function _refund(bytes32 id, uint64 nonce, uint64 dst, uint256 amount)
        internal
        view
        returns (Refund memory f, bytes memory sigs)
    {
        f = Refund({transferId: id, nonce: nonce, dstChainId: dst, token: address(token), recipient: alice, amount: amount});
        sigs = _bundle(vault.hashRefund(f), _quorumKeys(set));
    }
}

/// @notice The admin module and the locked balance per destination (L-3).
contract AdminModuleTest is AdminFixture {
    function test_module_refusesDirectCalls() public {
        BridgeAdmin module = BridgeAdmin(vault.adminModule());
        assertGt(address(module).code.length, 0);
        assertEq(address(module.validatorSetFactory()), address(vault.validatorSetFactory()));
        vm.expectRevert(IBridgeCommon.NotDelegated.selector);
        module.pause();
        vm.expectRevert(IBridgeCommon.NotDelegated.selector);
        module.registerChain(5, alice, false);
    }

    function test_module_runsInTheBridgeStorageWithItsRolesAndEvents() public {
        vm.expectEmit(address(vault));
        emit IBridgeCommon.Paused(pauser);
        vm.prank(pauser);
        vault.pause();
        assertTrue(vault.paused());
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, vault.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(pauser);
        vault.unpause();
        vm.prank(admin);
        vault.unpause();
        assertFalse(vault.paused());
        // the module's own storage is never used
        BridgeAdmin module = BridgeAdmin(vault.adminModule());
        vm.expectRevert(IBridgeCommon.NotDelegated.selector);
        module.unpause();
    }

    function test_locks_areKeptPerDestinationChain() public {
        _lock(700, ETHEREUM_CHAIN);
        _lock(300, SEPOLIA_CHAIN);
        assertEq(vault.lockedBalanceOf(address(token), ETHEREUM_CHAIN), 700);
        assertEq(vault.lockedBalanceOf(address(token), SEPOLIA_CHAIN), 300);
        assertEq(vault.lockedBalance(address(token)), 1_000);
    }

    function test_unlock_fromOneChainCannotSpendTheBackingOfAnother() public {
        _lock(700, ETHEREUM_CHAIN);
        _lock(300, SEPOLIA_CHAIN);
        (Release memory r, bytes memory sigs) = _unlock(SEPOLIA_CHAIN, sepoliaRemote, "s", 301);
        vm.expectRevert(
            abi.encodeWithSelector(IBridgeVault.InsufficientLockedBalance.selector, address(token), 301, 300)
        );
        vault.unlock(r, sigs);
        (r, sigs) = _unlock(SEPOLIA_CHAIN, sepoliaRemote, "s2", 300);
        vault.unlock(r, sigs);
        assertEq(vault.lockedBalanceOf(address(token), SEPOLIA_CHAIN), 0);
        assertEq(vault.lockedBalanceOf(address(token), ETHEREUM_CHAIN), 700);
        assertEq(token.balanceOf(bob), 300);
    }

    function test_refund_returnsTheBackingOfItsDestination() public {
        _lock(700, ETHEREUM_CHAIN);
        (bytes32 id, uint64 nonce) = _lock(300, SEPOLIA_CHAIN);
        // a quorum that named the wrong destination cannot take another chain's backing
        (Refund memory wrong, bytes memory wrongSigs) = _refund(id, nonce, SEPOLIA_CHAIN, 301);
        vm.expectRevert(
            abi.encodeWithSelector(IBridgeVault.InsufficientLockedBalance.selector, address(token), 301, 300)
        );
        vault.refund(wrong, wrongSigs);
        (Refund memory f, bytes memory sigs) = _refund(id, nonce, SEPOLIA_CHAIN, 300);
        // the destination is signed: another dstChainId is another digest
        (Refund memory other,) = _refund(id, nonce, ETHEREUM_CHAIN, 300);
        assertTrue(vault.hashRefund(other) != vault.hashRefund(f));
        vault.refund(f, sigs);
        assertEq(vault.lockedBalanceOf(address(token), SEPOLIA_CHAIN), 0);
        assertEq(vault.lockedBalanceOf(address(token), ETHEREUM_CHAIN), 700);
    }

    function test_cancelledDelayedUnlock_returnsToItsChain() public {
        vm.prank(admin);
        vault.setGovernor(address(token), 1_000, 1, 100);
        _lock(700, ETHEREUM_CHAIN);
        _lock(300, SEPOLIA_CHAIN);
        (Release memory r, bytes memory sigs) = _unlock(SEPOLIA_CHAIN, sepoliaRemote, "big", 200);
        vault.unlock(r, sigs);
        assertEq(vault.statusOf(r.transferId), 2);
        assertEq(vault.lockedBalanceOf(address(token), SEPOLIA_CHAIN), 100, "reserved");
        vm.prank(pauser);
        vault.guardianCancel(r.transferId);
        assertEq(vault.lockedBalanceOf(address(token), SEPOLIA_CHAIN), 300);
        assertEq(vault.lockedBalanceOf(address(token), ETHEREUM_CHAIN), 700);
    }

    function test_refund_onTheGatewayNamesTheMirrorsSourceChain() public {
        (Release memory r, bytes memory sigs) = _gatewayRelease("a", 100);
        gateway.release(r, sigs);
        vm.prank(alice);
        bytes32 id = gateway.burn(address(mirror), 100, bob, CONFLUX_CHAIN);
        Refund memory f =
            Refund({transferId: id, nonce: 1, dstChainId: 71, token: address(mirror), recipient: alice, amount: 100});
        bytes memory fsigs = _bundle(gateway.hashRefund(f), _quorumKeys(set));
        vm.expectRevert(abi.encodeWithSelector(IBridgeGateway.WrongDestinationChain.selector, 71, CONFLUX_CHAIN));
        gateway.refund(f, fsigs);
        f.dstChainId = CONFLUX_CHAIN;
        gateway.refund(f, _bundle(gateway.hashRefund(f), _quorumKeys(set)));
        assertEq(mirror.balanceOf(alice), 100);
    }
}

/// @notice The sweep of what the vault holds above what it owes (L-2).
contract SweepTest is AdminFixture {
    function test_sweep_takesOnlyWhatIsAboveWhatTheVaultOwes() public {
        vm.prank(admin);
        vault.setGovernor(address(token), 1_000, 1, 100);
        _lock(700, ETHEREUM_CHAIN);
        (Release memory r, bytes memory sigs) = _unlock(ETHEREUM_CHAIN, gatewayRemote, "big", 200);
        vault.unlock(r, sigs); // delayed: 200 reserved, 500 locked
        vm.expectRevert(abi.encodeWithSelector(IBridgeVault.NothingToSweep.selector, address(token)));
        vm.prank(admin);
        vault.sweep(address(token), admin);
        token.mint(address(vault), 42); // sent by mistake
        vm.expectEmit(address(vault));
        emit IBridgeVault.Swept(address(token), admin, 42);
        vm.prank(admin);
        assertEq(vault.sweep(address(token), admin), 42);
        assertEq(token.balanceOf(admin), 42);
        assertEq(token.balanceOf(address(vault)), 700);
        // the delayed unlock is still paid in full
        vm.warp(block.timestamp + vault.delay());
        vault.executeDelayed(r.transferId);
        assertEq(token.balanceOf(bob), 200);
        assertEq(token.balanceOf(address(vault)), vault.lockedBalance(address(token)));
    }

    function test_sweep_keepsClaimsAndForcedCfxIsSweepable() public {
        vm.prank(alice);
        vault.lockNative{value: 5 ether}(bob, ETHEREUM_CHAIN);
        // a recipient that rejects CFX gets a claim; the claim is owed, not sweepable
        address rejecter = address(new RevertingReceiver()); // refuses CFX until told otherwise
        Release memory r = _boundRelease(ETHEREUM_CHAIN, gatewayRemote, "c", address(0), rejecter, 1 ether);
        vault.unlock(r, _bundle(vault.hashRelease(r), _quorumKeys(set)));
        assertEq(vault.claimable(address(0), rejecter), 1 ether);
        vm.deal(address(vault), address(vault).balance + 3 ether); // forced (selfdestruct, coinbase)
        vm.prank(admin);
        assertEq(vault.sweep(address(0), admin), 3 ether);
        assertEq(address(vault).balance, 4 ether + 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IBridgeVault.NothingToSweep.selector, address(0)));
        vm.prank(admin);
        vault.sweep(address(0), admin);
    }

    function test_sweep_isForTheAdminOnly() public {
        token.mint(address(vault), 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, vault.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(pauser);
        vault.sweep(address(token), pauser);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        vm.prank(admin);
        vault.sweep(address(token), address(0));
    }
}

/// @notice A token or a route paused on its own (L-5).
contract TokenAndRoutePauseTest is AdminFixture {
    function test_tokenPause_stopsLocksUnlocksDelayedAndRefundsOfThatTokenOnly() public {
        vm.prank(admin);
        vault.setGovernor(address(token), 1_000, 1, 100);
        (bytes32 lockId, uint64 lockNonce) = _lock(700, ETHEREUM_CHAIN);
        (Release memory big, bytes memory bigSigs) = _unlock(ETHEREUM_CHAIN, gatewayRemote, "big", 200);
        vault.unlock(big, bigSigs);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.TokenPauseSet(address(token), true);
        vm.prank(pauser);
        vault.setTokenPaused(address(token), true);
        assertTrue(vault.isTokenPaused(address(token)));

        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenPaused.selector, address(token)));
        vm.prank(alice);
        vault.lock(address(token), 1, bob, ETHEREUM_CHAIN);
        (Release memory r, bytes memory sigs) = _unlock(ETHEREUM_CHAIN, gatewayRemote, "small", 10);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenPaused.selector, address(token)));
        vault.unlock(r, sigs);
        vm.warp(block.timestamp + vault.delay());
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenPaused.selector, address(token)));
        vault.executeDelayed(big.transferId);
        (Refund memory f, bytes memory fsigs) = _refund(lockId, lockNonce, ETHEREUM_CHAIN, 1);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenPaused.selector, address(token)));
        vault.refund(f, fsigs);
        // a batch skips the paused token's items with the same reason
        Release[] memory rs = new Release[](1);
        bytes[] memory ss = new bytes[](1);
        (rs[0], ss[0]) = (r, sigs);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.ReleaseSkipped(r.transferId, IBridgeCommon.TokenPaused.selector);
        vault.unlockBatch(rs, ss);
        assertEq(vault.statusOf(r.transferId), 0, "nothing recorded: it can run after the pause");
        // other tokens still move
        vm.prank(alice);
        vault.lockNative{value: 1 ether}(bob, ETHEREUM_CHAIN);

        // a governor change keeps the pause; only the admin resumes
        vm.prank(admin);
        vault.setGovernor(address(token), 500, 1, 100);
        assertTrue(vault.isTokenPaused(address(token)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, vault.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(pauser);
        vault.setTokenPaused(address(token), false);
        vm.prank(admin);
        vault.setTokenPaused(address(token), false);
        vault.unlock(r, sigs);
        vault.executeDelayed(big.transferId);
        assertEq(token.balanceOf(bob), 210);
        (uint256 capacity,,,) = vault.governorOf(address(token));
        assertEq(capacity, 500);
    }

    function test_tokenPause_onTheGatewayStopsReleasesAndBurns() public {
        (Release memory r, bytes memory sigs) = _gatewayRelease("a", 100);
        gateway.release(r, sigs);
        vm.prank(pauser);
        gateway.setTokenPaused(address(mirror), true);
        (Release memory r2, bytes memory sigs2) = _gatewayRelease("b", 100);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenPaused.selector, address(mirror)));
        gateway.release(r2, sigs2);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenPaused.selector, address(mirror)));
        vm.prank(alice);
        gateway.burn(address(mirror), 1, bob, CONFLUX_CHAIN);
        // the paused bit does not change the mirror's source chain
        assertEq(gateway.mirrorOf(CONFLUX_CHAIN, makeAddr("usdt")), address(mirror));
        vm.prank(admin);
        gateway.setTokenPaused(address(mirror), false);
        gateway.release(r2, sigs2);
        assertEq(mirror.balanceOf(alice), 200);
    }

    function test_tokenPause_refusesARepeatedChange() public {
        vm.expectRevert(IBridgeCommon.ExpectedPause.selector);
        vm.prank(admin);
        vault.setTokenPaused(address(token), false);
        vm.prank(pauser);
        vault.setTokenPaused(address(token), true);
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        vm.prank(pauser);
        vault.setTokenPaused(address(token), true);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, vault.PAUSER_ROLE())
        );
        vm.prank(alice);
        vault.setTokenPaused(address(0), true);
    }

    function test_routePause_stopsThatRouteOnly() public {
        _lock(700, ETHEREUM_CHAIN);
        (bytes32 id, uint64 nonce) = _lock(300, SEPOLIA_CHAIN);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.RoutePauseSet(SEPOLIA_CHAIN, true);
        vm.prank(pauser);
        vault.setRoutePaused(SEPOLIA_CHAIN, true);
        assertTrue(vault.isRoutePaused(SEPOLIA_CHAIN));

        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.RoutePaused.selector, SEPOLIA_CHAIN));
        vm.prank(alice);
        vault.lock(address(token), 1, bob, SEPOLIA_CHAIN);
        (Release memory r, bytes memory sigs) = _unlock(SEPOLIA_CHAIN, sepoliaRemote, "s", 10);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.RoutePaused.selector, SEPOLIA_CHAIN));
        vault.unlock(r, sigs);
        (Refund memory f, bytes memory fsigs) = _refund(id, nonce, SEPOLIA_CHAIN, 300);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.RoutePaused.selector, SEPOLIA_CHAIN));
        vault.refund(f, fsigs);
        Release[] memory rs = new Release[](2);
        bytes[] memory ss = new bytes[](2);
        (rs[0], ss[0]) = (r, sigs);
        (rs[1], ss[1]) = _unlock(ETHEREUM_CHAIN, gatewayRemote, "e", 10);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.ReleaseSkipped(r.transferId, IBridgeCommon.RoutePaused.selector);
        vault.unlockBatch(rs, ss);
        assertEq(vault.statusOf(rs[1].transferId), 1, "the other route runs");
        _lock(1, ETHEREUM_CHAIN);

        // re-pointing the route keeps it paused
        vm.prank(admin);
        vault.registerChain(SEPOLIA_CHAIN, makeAddr("new-sepolia"), false);
        assertTrue(vault.isRoutePaused(SEPOLIA_CHAIN));
        vm.prank(admin);
        vault.setRoutePaused(SEPOLIA_CHAIN, false);
        vault.refund(f, fsigs);
        assertEq(vault.lockedBalanceOf(address(token), SEPOLIA_CHAIN), 0);
    }

    function test_routePause_onTheGatewayStopsReleasesAndBurnsOfThatChain() public {
        (Release memory r, bytes memory sigs) = _gatewayRelease("a", 100);
        gateway.release(r, sigs);
        vm.prank(pauser);
        gateway.setRoutePaused(CONFLUX_CHAIN, true);
        (Release memory r2, bytes memory sigs2) = _gatewayRelease("b", 100);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.RoutePaused.selector, CONFLUX_CHAIN));
        gateway.release(r2, sigs2);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.RoutePaused.selector, CONFLUX_CHAIN));
        vm.prank(alice);
        gateway.burn(address(mirror), 1, bob, CONFLUX_CHAIN);
    }

    function test_routePause_needsARegisteredChain() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ChainNotRegistered.selector, 5));
        vm.prank(pauser);
        vault.setRoutePaused(5, true);
    }
}

/// @notice Registration events with the replaced value (L-5) and kept remotes (M-2).
contract ChainRegistryTest is AdminFixture {
    function test_registerChain_namesTheReplacedRemote() public {
        address next = makeAddr("gateway-v2");
        vm.expectEmit(address(vault));
        emit IBridgeCommon.ChainRegistered(ETHEREUM_CHAIN, next, gatewayRemote);
        vm.prank(admin);
        vault.registerChain(ETHEREUM_CHAIN, next, false);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.ChainRegistered(5, alice, address(0));
        vm.prank(admin);
        vault.registerChain(5, alice, false);
    }

    function test_replacedRemote_isRefusedUnlessKept() public {
        _lock(1_000, ETHEREUM_CHAIN);
        (Release memory old, bytes memory oldSigs) = _unlock(ETHEREUM_CHAIN, gatewayRemote, "old", 10);
        address next = makeAddr("gateway-v2");
        vm.prank(admin);
        vault.registerChain(ETHEREUM_CHAIN, next, false);
        bytes32 expected = _boundId(ETHEREUM_CHAIN, next, old.nonce);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.WrongTransferId.selector, old.transferId, expected));
        vault.unlock(old, oldSigs);

        // re-pointed once more, this time keeping the replaced remote (next)
        address third = makeAddr("gateway-v3");
        (Release memory fromNext, bytes memory nextSigs) = _unlock(ETHEREUM_CHAIN, next, "next", 10);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.RemoteKept(ETHEREUM_CHAIN, next);
        vm.prank(admin);
        vault.registerChain(ETHEREUM_CHAIN, third, true);
        assertEq(vault.keptRemoteOf(ETHEREUM_CHAIN), next);
        vault.unlock(fromNext, nextSigs);
        (Release memory fromThird, bytes memory thirdSigs) = _unlock(ETHEREUM_CHAIN, third, "third", 10);
        vault.unlock(fromThird, thirdSigs);
        // the first remote stays refused: only the one replaced by the keeping call is kept
        vm.expectRevert(
            abi.encodeWithSelector(
                IBridgeCommon.WrongTransferId.selector, old.transferId, _boundId(ETHEREUM_CHAIN, third, old.nonce)
            )
        );
        vault.unlock(old, oldSigs);

        (Release memory later, bytes memory laterSigs) = _unlock(ETHEREUM_CHAIN, next, "later", 10);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.KeptRemoteDropped(ETHEREUM_CHAIN, next);
        vm.prank(admin);
        vault.dropKeptRemote(ETHEREUM_CHAIN);
        assertEq(vault.keptRemoteOf(ETHEREUM_CHAIN), address(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                IBridgeCommon.WrongTransferId.selector, later.transferId, _boundId(ETHEREUM_CHAIN, third, later.nonce)
            )
        );
        vault.unlock(later, laterSigs);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.NoKeptRemote.selector, ETHEREUM_CHAIN));
        vm.prank(admin);
        vault.dropKeptRemote(ETHEREUM_CHAIN);
    }

    function test_registerChain_withoutKeepDropsAKeptRemote() public {
        address next = makeAddr("gateway-v2");
        vm.prank(admin);
        vault.registerChain(ETHEREUM_CHAIN, next, true);
        assertEq(vault.keptRemoteOf(ETHEREUM_CHAIN), gatewayRemote);
        vm.expectEmit(address(vault));
        emit IBridgeCommon.KeptRemoteDropped(ETHEREUM_CHAIN, gatewayRemote);
        vm.prank(admin);
        vault.registerChain(ETHEREUM_CHAIN, makeAddr("gateway-v3"), false);
        assertEq(vault.keptRemoteOf(ETHEREUM_CHAIN), address(0));
    }
}
