// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {BlacklistToken} from "../src/test-tokens/BlacklistToken.sol";

/// The devnet's regulated-stablecoin stand-in: a blacklisted account can neither send nor
/// receive; only the issuer blacklists; `isBlacklisted` answers what validators ask.
contract BlacklistTokenTest is Test {
    BlacklistToken internal token;
    address internal issuer = makeAddr("issuer");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        token = new BlacklistToken("HKD Stablecoin", "AxHKD", 6, issuer);
        token.mint(alice, 1_000);
    }

    function test_theIssuerBlacklistsAndUnBlacklists() public {
        assertFalse(token.isBlacklisted(bob));
        vm.expectEmit(address(token));
        emit BlacklistToken.Blacklisted(bob);
        vm.prank(issuer);
        token.blacklist(bob);
        assertTrue(token.isBlacklisted(bob));
        vm.expectEmit(address(token));
        emit BlacklistToken.UnBlacklisted(bob);
        vm.prank(issuer);
        token.unBlacklist(bob);
        assertFalse(token.isBlacklisted(bob));
    }

    function test_onlyTheIssuerBlacklists() public {
        vm.expectRevert(abi.encodeWithSelector(BlacklistToken.OnlyIssuer.selector, alice));
        vm.prank(alice);
        token.blacklist(bob);
        vm.expectRevert(abi.encodeWithSelector(BlacklistToken.OnlyIssuer.selector, alice));
        vm.prank(alice);
        token.unBlacklist(bob);
    }

    function test_aBlacklistedAccountNeitherSendsNorReceives() public {
        vm.prank(issuer);
        token.blacklist(bob);
        vm.expectRevert(abi.encodeWithSelector(BlacklistToken.AccountBlacklisted.selector, bob));
        vm.prank(alice);
        token.transfer(bob, 1);
        vm.expectRevert(abi.encodeWithSelector(BlacklistToken.AccountBlacklisted.selector, bob));
        token.mint(bob, 1);
        vm.prank(issuer);
        token.unBlacklist(bob);
        vm.prank(alice);
        token.transfer(bob, 10);
        vm.prank(issuer);
        token.blacklist(bob);
        vm.expectRevert(abi.encodeWithSelector(BlacklistToken.AccountBlacklisted.selector, bob));
        vm.prank(bob);
        token.transfer(alice, 1);
        assertEq(token.balanceOf(bob), 10);
    }

    function testFuzz_transfersBetweenClearAccountsAreUntouched(uint96 amount) public {
        vm.assume(amount <= 1_000);
        vm.prank(issuer);
        token.blacklist(makeAddr("someone else"));
        vm.prank(alice);
        assertTrue(token.transfer(bob, amount));
        assertEq(token.balanceOf(bob), amount);
        assertEq(token.balanceOf(alice), 1_000 - amount);
    }
}
