// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BridgeGateway} from "../../src/BridgeGateway.sol";
import {BridgeVault} from "../../src/BridgeVault.sol";
import {Release} from "../../src/interfaces/IBridge.sol";
import {MirroredToken} from "../../src/MirroredToken.sol";
import {FeeOnTransferToken} from "../../src/test-tokens/FeeOnTransferToken.sol";
import {TestToken} from "../../src/test-tokens/TestToken.sol";
import {BridgeFixture} from "../utils/BridgeFixture.sol";

/// @notice Plays both chains in one EVM (vm.chainId switches between them) with honest validators
/// that sign exactly what was locked / burned, plus a submitter that replays and forges.
contract BridgeHandler is BridgeFixture {
    BridgeVault public vault;
    BridgeGateway public gateway;
    address[] public tokens; // source tokens on the vault side
    mapping(address => address) public mirrorFor;
    ValidatorKeys internal set;

    struct Pending {
        Release release;
        bool done;
    }

    Pending[] internal toEthereum; // locks waiting for release
    Pending[] internal toConflux; // burns waiting for unlock
    address[] internal actors;

    mapping(bytes32 => uint256) public executions;
    uint256 public maxExecutions;
    uint256 public forgedSuccesses;
    uint256 public releases;
    uint256 public unlocks;

    constructor() {
        set = _makeSet("invariant", 7, 3);
        vm.chainId(CONFLUX_CHAIN);
        vault = new BridgeVault(address(this), 0, set.members, set.jurisdictions, set.threshold, set.minJurisdictions);
        vm.chainId(ETHEREUM_CHAIN);
        gateway = new BridgeGateway(address(this), 0, set.members, set.jurisdictions, set.threshold, set.minJurisdictions);
        gateway.registerChain(CONFLUX_CHAIN, address(vault));
        vm.chainId(CONFLUX_CHAIN);
        vault.registerChain(ETHEREUM_CHAIN, address(gateway));

        TestToken plain = new TestToken("Plain", "PLN", 18);
        FeeOnTransferToken fee = new FeeOnTransferToken("Fee", "FEE", 6, 250);
        tokens.push(address(plain));
        tokens.push(address(fee));
        for (uint256 i; i < 3; ++i) {
            actors.push(makeAddr(string(abi.encode("actor", i))));
        }
        for (uint256 t; t < tokens.length; ++t) {
            vault.registerToken(tokens[t]);
            vm.chainId(ETHEREUM_CHAIN);
            mirrorFor[tokens[t]] = gateway.registerToken(CONFLUX_CHAIN, tokens[t], "M", "M", 18);
            vm.chainId(CONFLUX_CHAIN);
            for (uint256 a; a < actors.length; ++a) {
                TestToken(tokens[t]).mint(actors[a], 1e30);
                vm.prank(actors[a]);
                TestToken(tokens[t]).approve(address(vault), type(uint256).max);
            }
        }
    }

    function tokenCount() external view returns (uint256) {
        return tokens.length;
    }

    function lock(uint256 tokenSeed, uint256 actorSeed, uint256 amount) external {
        vm.chainId(CONFLUX_CHAIN);
        address token = tokens[tokenSeed % tokens.length];
        address actor = actors[actorSeed % actors.length];
        amount = bound(amount, 1, 1e24);
        uint256 before = vault.lockedBalance(token);
        vm.prank(actor);
        try vault.lock(token, amount, actor, ETHEREUM_CHAIN) returns (bytes32 id) {
            uint256 received = vault.lockedBalance(token) - before;
            toEthereum.push(
                Pending(_release(id, CONFLUX_CHAIN, vault.nextNonce() - 1, mirrorFor[token], actor, received), false)
            );
        } catch {}
    }

    function relayToEthereum(uint256 index, bool replay) external {
        if (toEthereum.length == 0) return;
        vm.chainId(ETHEREUM_CHAIN);
        Pending storage p = toEthereum[index % toEthereum.length];
        if (p.done && !replay) return;
        Release memory r = p.release;
        bytes memory sigs = _bundle(gateway.hashRelease(r), _quorumKeys(set));
        try gateway.release(r, sigs) {
            ++releases;
            p.done = true;
            _executed(r.transferId);
        } catch {}
    }

    function burn(uint256 tokenSeed, uint256 actorSeed, uint256 amount) external {
        vm.chainId(ETHEREUM_CHAIN);
        address token = tokens[tokenSeed % tokens.length];
        address mirror = mirrorFor[token];
        address actor = actors[actorSeed % actors.length];
        uint256 balance = MirroredToken(mirror).balanceOf(actor);
        if (balance == 0) return;
        amount = bound(amount, 1, balance);
        vm.prank(actor);
        bytes32 id = gateway.burn(mirror, amount, actor, CONFLUX_CHAIN);
        toConflux.push(Pending(_release(id, ETHEREUM_CHAIN, gateway.nextNonce() - 1, token, actor, amount), false));
    }

    function relayToConflux(uint256 index, bool replay) external {
        if (toConflux.length == 0) return;
        vm.chainId(CONFLUX_CHAIN);
        Pending storage p = toConflux[index % toConflux.length];
        if (p.done && !replay) return;
        Release memory r = p.release;
        bytes memory sigs = _bundle(vault.hashRelease(r), _quorumKeys(set));
        try vault.unlock(r, sigs) {
            ++unlocks;
            p.done = true;
            _executed(r.transferId);
        } catch {}
    }

    /// A submitter with threshold-1 keys tries to mint or unlock an arbitrary amount.
    function forge(uint256 tokenSeed, uint256 amount, bool toGateway) external {
        address token = tokens[tokenSeed % tokens.length];
        amount = bound(amount, 1, 1e24);
        bytes32 id = keccak256(abi.encode("forged", tokenSeed, amount, toGateway));
        uint256[] memory keys = _firstKeys(set, set.threshold - 1);
        if (toGateway) {
            vm.chainId(ETHEREUM_CHAIN);
            Release memory r = _release(id, CONFLUX_CHAIN, 1, mirrorFor[token], actors[0], amount);
            try gateway.release(r, _bundle(gateway.hashRelease(r), keys)) {
                ++forgedSuccesses;
            } catch {}
        } else {
            vm.chainId(CONFLUX_CHAIN);
            Release memory r = _release(id, ETHEREUM_CHAIN, 1, token, actors[0], amount);
            try vault.unlock(r, _bundle(vault.hashRelease(r), keys)) {
                ++forgedSuccesses;
            } catch {}
        }
    }

    function _executed(bytes32 id) internal {
        uint256 n = ++executions[id];
        if (n > maxExecutions) maxExecutions = n;
    }
}

contract ConservationInvariantTest is BridgeFixture {
    BridgeHandler internal handler;

    function setUp() public {
        handler = new BridgeHandler();
        targetContract(address(handler));
    }

    /// The handler's paths really move value (guards against a vacuous invariant run).
    function test_handler_roundTripMovesValue() public {
        handler.lock(0, 0, 1e18);
        handler.lock(1, 1, 1e18);
        handler.relayToEthereum(0, false);
        handler.relayToEthereum(1, false);
        handler.relayToEthereum(0, true); // replay: refused
        handler.burn(0, 0, 4e17);
        handler.relayToConflux(0, false);
        handler.relayToConflux(0, true);
        handler.forge(0, 5, true);
        handler.forge(1, 5, false);
        assertEq(handler.releases(), 2);
        assertEq(handler.unlocks(), 1);
        assertEq(handler.maxExecutions(), 1);
        assertEq(handler.forgedSuccesses(), 0);
        invariant_mirrorSupplyBackedByVault();
    }

    /// Minted on Ethereum never exceeds what the vault holds locked, nor what it actually holds.
    function invariant_mirrorSupplyBackedByVault() public view {
        BridgeVault vault = handler.vault();
        for (uint256 i; i < handler.tokenCount(); ++i) {
            address token = handler.tokens(i);
            uint256 supply = MirroredToken(handler.mirrorFor(token)).totalSupply();
            uint256 locked = vault.lockedBalance(token);
            assertLe(supply, locked, "mirror supply exceeds locked");
            assertLe(locked, TestToken(token).balanceOf(address(vault)), "locked exceeds vault balance");
        }
    }

    /// No transfer id executes twice; forged bundles never execute.
    function invariant_noDoubleExecution() public view {
        assertLe(handler.maxExecutions(), 1);
        assertEq(handler.forgedSuccesses(), 0);
    }
}
