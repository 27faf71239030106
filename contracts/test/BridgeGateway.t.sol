// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {stdError} from "forge-std/StdError.sol";

import {BridgeGateway} from "../src/BridgeGateway.sol";
import {IBridgeCommon, IBridgeGateway, Release} from "../src/interfaces/IBridge.sol";
import {MirroredToken} from "../src/MirroredToken.sol";
import {BridgeFixture} from "./utils/BridgeFixture.sol";

contract BridgeGatewayTest is BridgeFixture {
    BridgeGateway internal gateway;
    ValidatorKeys internal set;
    address internal vaultRemote = makeAddr("vault");
    address internal srcToken = makeAddr("usdt-on-conflux");
    MirroredToken internal mirror;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        set = _makeSet("gateway", 7, 3);
        gateway = _deployGateway(set);
        vm.startPrank(admin);
        gateway.registerChain(CONFLUX_CHAIN, vaultRemote, false);
        mirror = MirroredToken(gateway.registerToken(CONFLUX_CHAIN, srcToken, "Bridged USDT", "USDT.cfx", 6));
        vm.stopPrank();
    }

    function _signedRelease(bytes32 id, address recipient, uint256 amount)
        internal
        view
        returns (Release memory r, bytes memory sigs)
    {
        r = _boundRelease(CONFLUX_CHAIN, vaultRemote, id, address(mirror), recipient, amount);
        sigs = _bundle(gateway.hashRelease(r), _quorumKeys(set));
    }

    // ------------------------------------------------------------ registerToken

    function test_registerToken_deploysMirrorWithDecimals() public view {
        assertEq(mirror.decimals(), 6);
        assertEq(mirror.name(), "Bridged USDT");
        assertEq(mirror.symbol(), "USDT.cfx");
        assertEq(mirror.gateway(), address(gateway));
        assertEq(gateway.mirrorOf(CONFLUX_CHAIN, srcToken), address(mirror));
        (uint64 chain, address src) = gateway.sourceOf(address(mirror));
        assertEq(chain, CONFLUX_CHAIN);
        assertEq(src, srcToken);
    }

    function test_registerToken_emitsTokenRegistered() public {
        address src = makeAddr("other");
        vm.expectEmit(true, true, false, true, address(gateway));
        emit IBridgeGateway.TokenRegistered(CONFLUX_CHAIN, src, address(0), 18);
        vm.prank(admin);
        gateway.registerToken(CONFLUX_CHAIN, src, "X", "X", 18);
    }

    function test_registerToken_revertsWhenAlreadyRegistered() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBridgeGateway.TokenAlreadyRegistered.selector, CONFLUX_CHAIN, srcToken));
        gateway.registerToken(CONFLUX_CHAIN, srcToken, "X", "X", 6);
    }

    function test_registerToken_revertsWhenChainNotRegistered() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ChainNotRegistered.selector, uint64(71)));
        gateway.registerToken(71, srcToken, "X", "X", 6);
    }

    function test_registerToken_revertsWhenNotAdmin() public {
        bytes32 role = gateway.DEFAULT_ADMIN_ROLE();
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role
            )
        );
        gateway.registerToken(CONFLUX_CHAIN, makeAddr("y"), "X", "X", 6);
    }

    function test_registerToken_nativeSourceAllowed() public {
        vm.prank(admin);
        address m = gateway.registerToken(CONFLUX_CHAIN, address(0), "Bridged CFX", "CFX", 18);
        assertEq(gateway.mirrorOf(CONFLUX_CHAIN, address(0)), m);
    }

    function test_registerChain_revertsOnInvalidInput() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidChainId.selector, uint64(0)));
        gateway.registerChain(0, vaultRemote, false);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidChainId.selector, uint64(block.chainid)));
        gateway.registerChain(uint64(block.chainid), vaultRemote, false);
        vm.expectRevert(IBridgeCommon.ZeroRemoteContract.selector);
        gateway.registerChain(71, address(0), false);
        vm.stopPrank();
    }

    function test_registerChain_revertsWhenNotAdmin() public {
        bytes32 role = gateway.DEFAULT_ADMIN_ROLE();
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role
            )
        );
        gateway.registerChain(71, vaultRemote, false);
    }

    // ------------------------------------------------------------------ release

    function test_release_mintsAndEmits() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("t1"), alice, 1_000_000);
        vm.expectEmit(true, true, true, true, address(gateway));
        emit IBridgeGateway.Released(r.transferId, address(mirror), alice, 1_000_000);
        gateway.release(r, sigs);
        assertEq(mirror.balanceOf(alice), 1_000_000);
        assertEq(mirror.totalSupply(), 1_000_000);
        assertTrue(gateway.isProcessed(r.transferId));
    }

    /// The release path reads the struct's words directly: a dirty high bit in an address field
    /// is masked for use but stays in the digest, so the quorum never matches and nothing mints.
    function test_release_withDirtyAddressBitsNeverExecutes() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("dirty"), alice, 1_000);
        bytes memory data = abi.encodeCall(gateway.release, (r, sigs));
        data[4 + 4 * 32] = 0x01; // the top byte of the recipient word
        (bool ok, bytes memory err) = address(gateway).call(data);
        assertFalse(ok);
        assertEq(bytes4(err), IBridgeCommon.SignerNotMember.selector);
        // the same in a batch: the item is skipped, not executed, and the batch goes on
        Release[] memory rs = new Release[](1);
        bytes[] memory ss = new bytes[](1);
        (rs[0], ss[0]) = (r, sigs);
        data = abi.encodeCall(gateway.releaseBatch, (rs, ss));
        // head: selector, 2 offsets, then releases: length word, then the item's six words
        data[4 + 3 * 32 + 4 * 32] = 0x01;
        vm.expectEmit(address(gateway));
        emit IBridgeCommon.ReleaseSkipped(r.transferId, IBridgeCommon.SignerNotMember.selector);
        (ok,) = address(gateway).call(data);
        assertTrue(ok);
        assertEq(mirror.balanceOf(alice), 0);
        assertEq(gateway.statusOf(r.transferId), 0);
        gateway.release(r, sigs);
        assertEq(mirror.balanceOf(alice), 1_000);
    }

    function test_release_anyoneMaySubmit() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("t1"), alice, 5);
        vm.prank(bob);
        gateway.release(r, sigs);
        assertEq(mirror.balanceOf(alice), 5);
    }

    function test_release_revertsWhenReplayed() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("t1"), alice, 5);
        gateway.release(r, sigs);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.AlreadyProcessed.selector, r.transferId));
        gateway.release(r, sigs);
    }

    function test_release_revertsWhenReplayedWithOtherFields() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("t1"), alice, 5);
        gateway.release(r, sigs);
        (Release memory r2, bytes memory sigs2) = _signedRelease(keccak256("t1"), bob, 7);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.AlreadyProcessed.selector, r2.transferId));
        gateway.release(r2, sigs2);
    }

    function test_release_revertsOnZeroAmount() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("t1"), alice, 0);
        vm.expectRevert(IBridgeCommon.ZeroAmount.selector);
        gateway.release(r, sigs);
    }

    function test_release_revertsOnZeroRecipient() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("t1"), address(0), 1);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        gateway.release(r, sigs);
    }

    function test_release_revertsWhenRecipientIsGateway() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("t1"), address(gateway), 1);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        gateway.release(r, sigs);
    }

    function test_release_revertsOnUnregisteredToken() public {
        address fake = makeAddr("fake");
        Release memory r = _boundRelease(CONFLUX_CHAIN, vaultRemote, keccak256("t1"), fake, alice, 1);
        bytes memory sigs = _bundle(gateway.hashRelease(r), _quorumKeys(set));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenNotRegistered.selector, fake));
        gateway.release(r, sigs);
    }

    function test_release_revertsOnWrongSourceChain() public {
        vm.prank(admin);
        gateway.registerChain(71, vaultRemote, false);
        Release memory r = _boundRelease(71, vaultRemote, keccak256("t1"), address(mirror), alice, 1);
        bytes memory sigs = _bundle(gateway.hashRelease(r), _quorumKeys(set));
        vm.expectRevert(abi.encodeWithSelector(IBridgeGateway.WrongSourceChain.selector, uint64(71), CONFLUX_CHAIN));
        gateway.release(r, sigs);
    }

    function test_release_revertsWhenSignedForAnotherSourceChain() public {
        // Validators signed srcChainId 71; the submitter changes it to the mirror's chain.
        Release memory r = _boundRelease(71, vaultRemote, keccak256("t1"), address(mirror), alice, 1);
        bytes memory sigs = _bundle(gateway.hashRelease(r), _quorumKeys(set));
        r.srcChainId = CONFLUX_CHAIN;
        // the id is bound to chain 71's remote: the binding refuses it before any signature is read
        vm.expectRevert(
            abi.encodeWithSelector(
                IBridgeCommon.WrongTransferId.selector, r.transferId, _boundId(CONFLUX_CHAIN, vaultRemote, r.nonce)
            )
        );
        gateway.release(r, sigs);
        // and with the id re-bound to the mirror's chain, signature 0 recovers to a stranger
        r.transferId = _boundId(CONFLUX_CHAIN, vaultRemote, r.nonce);
        _expectStrangerSigner(gateway.hashRelease(r), sigs);
        gateway.release(r, sigs);
    }

    function test_release_revertsWhenSignedForAnotherChainId() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("t1"), alice, 1);
        vm.chainId(5);
        // the domain separator now has chain id 5: signature 0 recovers to an unrelated address
        _expectStrangerSigner(gateway.hashRelease(r), sigs);
        gateway.release(r, sigs);
    }

    function test_release_revertsWhenSignedForAnotherContract() public {
        BridgeGateway other = _deployGateway(set);
        vm.startPrank(admin);
        other.registerChain(CONFLUX_CHAIN, vaultRemote, false);
        MirroredToken otherMirror = MirroredToken(other.registerToken(CONFLUX_CHAIN, srcToken, "X", "X", 6));
        vm.stopPrank();
        Release memory r = _boundRelease(CONFLUX_CHAIN, vaultRemote, keccak256("t1"), address(otherMirror), alice, 1);
        bytes memory sigs = _bundle(other.hashRelease(r), _quorumKeys(set));
        r.token = address(mirror);
        // under this gateway's domain signature 0 recovers to an unrelated address
        _expectStrangerSigner(gateway.hashRelease(r), sigs);
        gateway.release(r, sigs);
        // and the one signed for `other` works there only
        r.token = address(otherMirror);
        other.release(r, sigs);
        assertEq(otherMirror.balanceOf(alice), 1);
    }

    function test_release_revertsWhenPaused() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("t1"), alice, 1);
        vm.prank(admin);
        gateway.pause();
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        gateway.release(r, sigs);
        vm.prank(admin);
        gateway.unpause();
        gateway.release(r, sigs);
    }

    function test_release_maxAmountMintsOnceThenOverflows() public {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256("max"), alice, type(uint256).max);
        gateway.release(r, sigs);
        assertEq(mirror.totalSupply(), type(uint256).max);
        (Release memory r2, bytes memory sigs2) = _signedRelease(keccak256("max2"), alice, 1);
        vm.expectRevert(stdError.arithmeticError); // checked arithmetic in ERC20._update: supply cannot wrap
        gateway.release(r2, sigs2);
        assertFalse(gateway.isProcessed(r2.transferId));
    }

    function test_release_cannotReachAdminFunctions() public {
        // A release naming the gateway itself (or any non-mirror) as token is refused before any call.
        Release memory r = _boundRelease(CONFLUX_CHAIN, vaultRemote, keccak256("t1"), address(gateway), alice, 1);
        bytes memory sigs = _bundle(gateway.hashRelease(r), _quorumKeys(set));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenNotRegistered.selector, address(gateway)));
        gateway.release(r, sigs);
        // the only call a release makes is mint on a registered mirror: roles unchanged
        assertFalse(gateway.hasRole(gateway.DEFAULT_ADMIN_ROLE(), alice));
    }

    function testFuzz_release_mintsAnyAmount(uint256 amount, address recipient) public {
        amount = bound(amount, 1, type(uint256).max);
        vm.assume(recipient != address(0) && recipient != address(gateway));
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256(abi.encode(amount)), recipient, amount);
        gateway.release(r, sigs);
        assertEq(mirror.balanceOf(recipient), amount);
    }

    // --------------------------------------------------------------------- burn

    function _fund(address who, uint256 amount) internal {
        (Release memory r, bytes memory sigs) = _signedRelease(keccak256(abi.encode("fund", who, amount)), who, amount);
        gateway.release(r, sigs);
    }

    function test_burn_burnsAndEmits() public {
        _fund(alice, 100);
        bytes32 expectedId = keccak256(abi.encode(block.chainid, address(gateway), uint64(1)));
        vm.expectEmit(true, true, true, true, address(gateway));
        emit IBridgeGateway.Burned(expectedId, 1, address(mirror), alice, bob, 40, CONFLUX_CHAIN);
        vm.prank(alice);
        bytes32 id = gateway.burn(address(mirror), 40, bob, CONFLUX_CHAIN);
        assertEq(id, expectedId);
        assertEq(mirror.balanceOf(alice), 60);
        assertEq(mirror.totalSupply(), 60);
        assertEq(gateway.nextNonce(), 2);
    }

    function test_burn_noncesIncrease() public {
        _fund(alice, 100);
        vm.startPrank(alice);
        bytes32 a = gateway.burn(address(mirror), 1, bob, CONFLUX_CHAIN);
        bytes32 b = gateway.burn(address(mirror), 1, bob, CONFLUX_CHAIN);
        vm.stopPrank();
        assertEq(b, keccak256(abi.encode(block.chainid, address(gateway), uint64(2))));
        assertTrue(a != b);
    }

    function test_burn_revertsOnZeroAmount() public {
        vm.expectRevert(IBridgeCommon.ZeroAmount.selector);
        gateway.burn(address(mirror), 0, bob, CONFLUX_CHAIN);
    }

    function test_burn_revertsOnUnregisteredToken() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenNotRegistered.selector, srcToken));
        gateway.burn(srcToken, 1, bob, CONFLUX_CHAIN);
    }

    function test_burn_revertsOnUnregisteredChain() public {
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ChainNotRegistered.selector, uint64(71)));
        gateway.burn(address(mirror), 1, bob, 71);
    }

    function test_burn_revertsOnWrongDestinationChain() public {
        vm.prank(admin);
        gateway.registerChain(71, vaultRemote, false);
        vm.expectRevert(abi.encodeWithSelector(IBridgeGateway.WrongDestinationChain.selector, uint64(71), CONFLUX_CHAIN));
        gateway.burn(address(mirror), 1, bob, 71);
    }

    function test_burn_revertsOnZeroRecipient() public {
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        gateway.burn(address(mirror), 1, address(0), CONFLUX_CHAIN);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        gateway.burn(address(mirror), 1, vaultRemote, CONFLUX_CHAIN);
        vm.expectRevert(IBridgeCommon.ZeroRecipient.selector);
        gateway.burn(address(mirror), 1, address(gateway), CONFLUX_CHAIN);
    }

    function test_burn_revertsOnInsufficientBalance() public {
        _fund(alice, 10);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 10, 11));
        gateway.burn(address(mirror), 11, bob, CONFLUX_CHAIN);
    }

    function test_burn_revertsOnMaxAmountWithoutBalance() public {
        _fund(alice, 10);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 10, type(uint256).max)
        );
        gateway.burn(address(mirror), type(uint256).max, bob, CONFLUX_CHAIN);
    }

    function test_burn_revertsWhenPaused() public {
        _fund(alice, 10);
        vm.prank(admin);
        gateway.pause();
        vm.prank(alice);
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        gateway.burn(address(mirror), 1, bob, CONFLUX_CHAIN);
    }

    function testFuzz_burn_anyAmountUpToBalance(uint256 funded, uint256 burned) public {
        funded = bound(funded, 1, type(uint128).max);
        burned = bound(burned, 1, funded);
        _fund(alice, funded);
        vm.prank(alice);
        gateway.burn(address(mirror), burned, bob, CONFLUX_CHAIN);
        assertEq(mirror.balanceOf(alice), funded - burned);
        assertEq(mirror.totalSupply(), funded - burned);
    }

    // ----------------------------------------------------------- mirrored token

    function test_mint_revertsWhenNotGateway() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(MirroredToken.OnlyGateway.selector, alice));
        mirror.mint(alice, 1);
    }

    function test_burnMirror_revertsWhenNotGateway() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(MirroredToken.OnlyGateway.selector, alice));
        mirror.burn(alice, 1);
    }
}
