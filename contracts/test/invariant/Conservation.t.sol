// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BridgeAdmin} from "../../src/BridgeAdmin.sol";
import {BridgeGateway} from "../../src/BridgeGateway.sol";
import {IVault} from "../utils/IVault.sol";
import {Refund, Release} from "../../src/interfaces/IBridge.sol";
import {MirroredToken} from "../../src/MirroredToken.sol";
import {FeeOnTransferToken} from "../../src/test-tokens/FeeOnTransferToken.sol";
import {TestToken} from "../../src/test-tokens/TestToken.sol";
import {BridgeFixture} from "../utils/BridgeFixture.sol";
import {MerkleTrees} from "../utils/MerkleTrees.sol";

/// @notice Plays both chains in one EVM (vm.chainId switches between them) with honest validators
/// that sign exactly what was locked / burned, a submitter that replays, forges and batches, a
/// governor that delays, a minority that vetoes (then the source refunds), rotations with
/// expiry of the previous set, and pauses. Native CFX and a fee-on-transfer token take part.
contract BridgeHandler is BridgeFixture {
    IVault public vault;
    BridgeGateway public gateway;
    address[] public tokens; // source tokens on the vault side (address(0) = CFX)
    mapping(address => address) public mirrorFor;
    ValidatorKeys internal set;
    uint256 internal rotations_;

    struct Pending {
        Release release;
        address sender; // for a refund
        bool done; // executed, delayed or cancelled: no longer relayed as new
    }

    Pending[] internal toEthereum; // locks waiting for release
    Pending[] internal toConflux; // burns waiting for unlock
    address[] internal actors;

    mapping(bytes32 => uint256) public executions;
    mapping(bytes32 => bool) public wasCancelled;
    mapping(bytes32 => bool) public wasRefunded;
    /// @notice Mirror amount delayed on the gateway and not yet executed or cancelled, per source token.
    mapping(address => uint256) public delayedOnGateway;
    uint256 public maxExecutions;
    uint256 public forgedSuccesses;
    uint256 public executedAfterCancel;
    uint256 public executedAndRefunded;
    uint256 public releases;
    uint256 public unlocks;
    uint256 public delays;
    uint256 public delayedExecutions;
    uint256 public cancels;
    uint256 public refunds;
    uint256 public batches;
    uint256 public rootBatches;
    uint256 public rotations;
    uint256 public expiries;
    uint256 public pauses;
    uint256 public nativeLocks;
    uint256 public sweeps;
    uint256 public sweptBeyondExcess;
    uint256 public tokenPauses;

    uint256 internal constant CAPACITY = 5e23;
    uint256 internal constant REFILL = 1e18;
    uint256 internal constant THRESHOLD = 3e23;

    constructor() {
        set = _makeSet("invariant", 7, 3);
        vm.chainId(CONFLUX_CHAIN);
        vault = _newVault(address(this), 0, _newModule(), set.members, set.jurisdictions, set.threshold, set.minJurisdictions);
        vm.chainId(ETHEREUM_CHAIN);
        gateway = _newGateway(address(this), 0, _newModule(), set.members, set.jurisdictions, set.threshold, set.minJurisdictions);
        gateway.registerChain(CONFLUX_CHAIN, address(vault), false);
        gateway.setDelay(1 hours);
        gateway.applyParameter("delay");
        vm.chainId(CONFLUX_CHAIN);
        vault.registerChain(ETHEREUM_CHAIN, address(gateway), false);
        vault.setDelay(1 hours);
        vault.applyParameter("delay");

        TestToken plain = new TestToken("Plain", "PLN", 18);
        FeeOnTransferToken fee = new FeeOnTransferToken("Fee", "FEE", 6, 250);
        tokens.push(address(plain));
        tokens.push(address(fee));
        tokens.push(address(0));
        for (uint256 i; i < 3; ++i) {
            actors.push(makeAddr(string(abi.encode("actor", i))));
            vm.deal(actors[i], 1e30);
        }
        for (uint256 t; t < tokens.length; ++t) {
            address token = tokens[t];
            vault.registerToken(token);
            vault.setGovernor(token, CAPACITY, REFILL, THRESHOLD);
            vm.chainId(ETHEREUM_CHAIN);
            mirrorFor[token] = gateway.registerToken(CONFLUX_CHAIN, token, "M", "M", 18);
            gateway.setGovernor(mirrorFor[token], CAPACITY, REFILL, THRESHOLD);
            vm.chainId(CONFLUX_CHAIN);
            if (token == address(0)) continue;
            for (uint256 a; a < actors.length; ++a) {
                TestToken(token).mint(actors[a], 1e30);
                vm.prank(actors[a]);
                TestToken(token).approve(address(vault), type(uint256).max);
            }
        }
    }

    function tokenCount() external view returns (uint256) {
        return tokens.length;
    }

    // ------------------------------------------------------------------ source

    function lock(uint256 tokenSeed, uint256 actorSeed, uint256 amount) external {
        vm.chainId(CONFLUX_CHAIN);
        address token = tokens[tokenSeed % tokens.length];
        address actor = actors[actorSeed % actors.length];
        amount = bound(amount, 1, 4e23);
        uint256 before = vault.lockedBalance(token);
        bytes32 id;
        vm.prank(actor);
        if (token == address(0)) {
            try vault.lockNative{value: amount}(actor, ETHEREUM_CHAIN) returns (bytes32 got) {
                id = got;
                ++nativeLocks;
            } catch {
                return;
            }
        } else {
            try vault.lock(token, amount, actor, ETHEREUM_CHAIN) returns (bytes32 got) {
                id = got;
            } catch {
                return;
            }
        }
        uint256 received = vault.lockedBalance(token) - before;
        toEthereum.push(
            Pending(_release(id, CONFLUX_CHAIN, vault.nextNonce() - 1, mirrorFor[token], actor, received), actor, false)
        );
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
        try gateway.burn(mirror, amount, actor, CONFLUX_CHAIN) returns (bytes32 id) {
            toConflux.push(
                Pending(_release(id, ETHEREUM_CHAIN, gateway.nextNonce() - 1, token, actor, amount), actor, false)
            );
        } catch {}
    }

    // ------------------------------------------------------------- destination

    function relayToEthereum(uint256 index, bool replay) external {
        if (toEthereum.length == 0) return;
        Pending storage p = toEthereum[index % toEthereum.length];
        if (p.done && !replay) return;
        vm.chainId(ETHEREUM_CHAIN);
        Release memory r = p.release;
        try gateway.release(r, _bundle(gateway.hashRelease(r), _quorumKeys(set))) {
            p.done = true;
            _afterGatewayAdmit(r);
        } catch {}
    }

    function relayToConflux(uint256 index, bool replay) external {
        if (toConflux.length == 0) return;
        Pending storage p = toConflux[index % toConflux.length];
        if (p.done && !replay) return;
        vm.chainId(CONFLUX_CHAIN);
        Release memory r = p.release;
        try vault.unlock(r, _bundle(vault.hashRelease(r), _quorumKeys(set))) {
            p.done = true;
            if (vault.statusOf(r.transferId) == 2) ++delays;
            else _executed(r.transferId, false);
        } catch {}
    }

    /// Up to four pending locks in one releaseBatch (replays included: they are skipped).
    function relayBatchToEthereum(uint256 start, uint8 count) external {
        if (toEthereum.length == 0) return;
        uint256 n = bound(count, 1, 4);
        Release[] memory rs = new Release[](n);
        bytes[] memory sigs = new bytes[](n);
        uint256[] memory ix = new uint256[](n);
        vm.chainId(ETHEREUM_CHAIN);
        for (uint256 k; k < n; ++k) {
            ix[k] = (start % toEthereum.length + k) % toEthereum.length;
            rs[k] = toEthereum[ix[k]].release;
            sigs[k] = _bundle(gateway.hashRelease(rs[k]), _quorumKeys(set));
        }
        uint8[] memory before = new uint8[](n);
        for (uint256 k; k < n; ++k) {
            before[k] = gateway.statusOf(rs[k].transferId);
        }
        try gateway.releaseBatch(rs, sigs) {
            ++batches;
            for (uint256 k; k < n; ++k) {
                // the same item may appear several times in one batch: count it once
                if (before[k] == 0 && !toEthereum[ix[k]].done && gateway.statusOf(rs[k].transferId) != 0) {
                    toEthereum[ix[k]].done = true;
                    _afterGatewayAdmit(rs[k]);
                }
            }
        } catch {}
    }

    /// Up to six consecutive pending locks under one committed root, then the leaves chosen by
    /// `mask` executed with one multiproof; `forgeItem` alters one proven item's amount (the
    /// batch must then revert). Replays and already committed roots are refused and ignored.
    function relayRootToEthereum(uint256 start, uint8 count, uint8 mask, bool forgeItem) external {
        if (toEthereum.length == 0) return;
        uint256 first = start % toEthereum.length;
        uint256 n = bound(count, 1, 6);
        if (n > toEthereum.length - first) n = toEthereum.length - first;
        vm.chainId(ETHEREUM_CHAIN);
        bytes32[] memory nodes = _commitRun(first, n);
        uint256 chosen;
        for (uint256 k; k < n; ++k) {
            if ((mask >> k) & 1 == 1) ++chosen;
        }
        if (chosen == 0) return;
        uint256[] memory indices = new uint256[](chosen);
        uint256 j;
        for (uint256 k; k < n; ++k) {
            if ((mask >> k) & 1 == 1) indices[j++] = first + k;
        }
        _executeUnderRoot(nodes, first, indices, forgeItem);
    }

    /// @dev Commits the root of pending locks first..first+n-1 (ignored when already committed).
    function _commitRun(uint256 first, uint256 n) internal returns (bytes32[] memory nodes) {
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 k; k < n; ++k) {
            leaves[k] = _leaf(toEthereum[first + k].release);
        }
        nodes = MerkleTrees.build(leaves);
        uint64 lo = toEthereum[first].release.nonce;
        uint64 hi = toEthereum[first + n - 1].release.nonce;
        bytes memory sigs = _bundle(gateway.hashReleaseRoot(nodes[0], CONFLUX_CHAIN, lo, hi), _quorumKeys(set));
        try gateway.commitRoot(nodes[0], CONFLUX_CHAIN, lo, hi, sigs) {} catch {}
    }

    /// @dev releaseBatchWithProof of the pending locks `pending` (ascending), leaves of `nodes`.
    function _executeUnderRoot(bytes32[] memory nodes, uint256 first, uint256[] memory pending, bool forgeItem)
        internal
    {
        uint256 m = pending.length;
        uint256[] memory leafIndices = new uint256[](m);
        Release[] memory rs = new Release[](m);
        uint8[] memory before = new uint8[](m);
        for (uint256 k; k < m; ++k) {
            leafIndices[k] = pending[k] - first;
            rs[k] = toEthereum[pending[k]].release;
            before[k] = gateway.statusOf(rs[k].transferId);
        }
        (, bytes32[] memory proof, bool[] memory flags) = MerkleTrees.multiproof(nodes, leafIndices);
        if (forgeItem) {
            rs[0].amount += 1;
            try gateway.releaseBatchWithProof(nodes[0], rs, proof, flags) {
                ++forgedSuccesses;
            } catch {}
            return;
        }
        try gateway.releaseBatchWithProof(nodes[0], rs, proof, flags) {
            ++rootBatches;
            for (uint256 k; k < m; ++k) {
                Pending storage p = toEthereum[pending[k]];
                if (before[k] == 0 && !p.done && gateway.statusOf(rs[k].transferId) != 0) {
                    p.done = true;
                    _afterGatewayAdmit(rs[k]);
                }
            }
        } catch {}
    }

    function executeDelayed(uint256 index, bool toGateway) external {
        Pending[] storage list = toGateway ? toEthereum : toConflux;
        if (list.length == 0) return;
        Release memory r = list[index % list.length].release;
        vm.warp(block.timestamp + 1 hours);
        if (toGateway) {
            vm.chainId(ETHEREUM_CHAIN);
            try gateway.executeDelayed(r.transferId) {
                delayedOnGateway[_sourceOf(r.token)] -= r.amount;
                ++delayedExecutions;
                _executed(r.transferId, true);
            } catch {}
        } else {
            vm.chainId(CONFLUX_CHAIN);
            try vault.executeDelayed(r.transferId) {
                ++delayedExecutions;
                _executed(r.transferId, false);
            } catch {}
        }
    }

    /// A blocking minority vetoes a lock's release on Ethereum; then the vault refunds the sender.
    function cancelAndRefund(uint256 index) external {
        if (toEthereum.length == 0) return;
        Pending storage p = toEthereum[index % toEthereum.length];
        Release memory r = p.release;
        vm.chainId(ETHEREUM_CHAIN);
        uint8 status = gateway.statusOf(r.transferId);
        bytes memory veto = _bundle(gateway.hashCancel(r.transferId), _firstKeys(set, set.members.length - set.threshold + 1));
        try gateway.cancel(r.transferId, veto) {
            ++cancels;
            wasCancelled[r.transferId] = true;
            p.done = true;
            if (status == 2) delayedOnGateway[_sourceOf(r.token)] -= r.amount;
        } catch {
            return;
        }
        // validators sign the refund only now that the destination shows the id cancelled
        vm.chainId(CONFLUX_CHAIN);
        address token = _sourceOf(r.token);
        Refund memory f = Refund(r.transferId, r.nonce, ETHEREUM_CHAIN, token, p.sender, r.amount);
        try vault.refund(f, _bundle(vault.hashRefund(f), _quorumKeys(set))) {
            ++refunds;
            wasRefunded[r.transferId] = true;
            if (executions[r.transferId] != 0) ++executedAndRefunded;
        } catch {}
    }

    /// A submitter with threshold-1 keys tries to mint or unlock an arbitrary amount.
    function forge(uint256 tokenSeed, uint256 amount, bool toGateway) external {
        address token = tokens[tokenSeed % tokens.length];
        amount = bound(amount, 1, 1e24);
        uint64 nonce = uint64(uint256(keccak256(abi.encode("forged", tokenSeed, amount, toGateway))));
        uint256[] memory keys = _firstKeys(set, set.threshold - 1);
        if (toGateway) {
            vm.chainId(ETHEREUM_CHAIN);
            Release memory r = _release(_boundId(CONFLUX_CHAIN, address(vault), nonce), CONFLUX_CHAIN, nonce, mirrorFor[token], actors[0], amount);
            try gateway.release(r, _bundle(gateway.hashRelease(r), keys)) {
                ++forgedSuccesses;
            } catch {}
        } else {
            vm.chainId(CONFLUX_CHAIN);
            Release memory r = _release(_boundId(ETHEREUM_CHAIN, address(gateway), nonce), ETHEREUM_CHAIN, nonce, token, actors[0], amount);
            try vault.unlock(r, _bundle(vault.hashRelease(r), keys)) {
                ++forgedSuccesses;
            } catch {}
        }
    }

    // ------------------------------------------------------------------ admin

    /// Both contracts rotate to a fresh set (signed by the current quorum); sometimes the
    /// previous set's window is closed at once.
    function rotate(bool expire) external {
        ValidatorKeys memory next = _makeSet(string(abi.encode("rotation", ++rotations_)), 7, 3);
        vm.chainId(CONFLUX_CHAIN);
        vault.rotateValidatorSet(
            next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, _rotationSigs(vault, set, next, vault_setId() + 1)
        );
        vm.chainId(ETHEREUM_CHAIN);
        gateway.rotateValidatorSet(
            next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE, _rotationSigs(gateway, set, next, gateway_setId() + 1)
        );
        set = next;
        ++rotations;
        if (expire) {
            gateway.expirePreviousSet();
            vm.chainId(CONFLUX_CHAIN);
            vault.expirePreviousSet();
            ++expiries;
        }
    }

    function togglePause() external {
        vm.chainId(CONFLUX_CHAIN);
        if (vault.paused()) {
            vault.unpause();
            vm.chainId(ETHEREUM_CHAIN);
            gateway.unpause();
        } else {
            vault.pause();
            vm.chainId(ETHEREUM_CHAIN);
            gateway.pause();
            ++pauses;
        }
    }

    /// Someone sends the vault tokens outside a lock (an airdrop, a mistake, a forced CFX
    /// transfer); the admin sweeps what the vault holds above what it owes.
    function donateAndSweep(uint256 tokenSeed, uint256 amount) external {
        vm.chainId(CONFLUX_CHAIN);
        address token = tokens[tokenSeed % tokens.length];
        amount = bound(amount, 1, 1e24);
        if (token == address(0)) vm.deal(address(vault), address(vault).balance + amount);
        else TestToken(token).mint(address(vault), amount);
        try vault.sweep(token, address(this)) returns (uint256 swept) {
            if (swept > amount) ++sweptBeyondExcess;
            ++sweeps;
        } catch {}
    }

    /// The pauser stops one token on both sides, or the admin resumes it.
    function toggleTokenPause(uint256 tokenSeed) external {
        address token = tokens[tokenSeed % tokens.length];
        vm.chainId(CONFLUX_CHAIN);
        bool pause = !vault.isTokenPaused(token);
        vault.setTokenPaused(token, pause);
        vm.chainId(ETHEREUM_CHAIN);
        gateway.setTokenPaused(mirrorFor[token], pause);
        if (pause) ++tokenPauses;
    }

    receive() external payable {}

    function vault_setId() internal view returns (uint64 id) {
        (id,,,,) = vault.validatorSet();
    }

    function gateway_setId() internal view returns (uint64 id) {
        (id,,,,) = gateway.validatorSet();
    }

    // ---------------------------------------------------------------- helpers

    function _afterGatewayAdmit(Release memory r) internal {
        if (gateway.statusOf(r.transferId) == 2) {
            ++delays;
            delayedOnGateway[_sourceOf(r.token)] += r.amount;
        } else {
            _executed(r.transferId, true);
        }
    }

    function _leaf(Release memory r) internal view returns (bytes32) {
        return keccak256(
            abi.encode(gateway.RELEASE_TYPEHASH(), r.transferId, r.srcChainId, r.nonce, r.token, r.recipient, r.amount)
        );
    }

    function _sourceOf(address mirror) internal view returns (address src) {
        (, src) = gateway.sourceOf(mirror);
    }

    function _executed(bytes32 id, bool onGateway) internal {
        if (onGateway) ++releases;
        else ++unlocks;
        if (wasCancelled[id]) ++executedAfterCancel;
        if (wasRefunded[id]) ++executedAndRefunded;
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

    /// The handler's paths really move value and reach every state (guards against a vacuous run).
    function test_handler_everyPathIsReached() public {
        handler.lock(0, 0, 1e18);
        handler.lock(1, 1, 1e18);
        handler.lock(2, 2, 1e18); // native CFX
        handler.lock(0, 2, 3e23); // at the threshold: delayed
        handler.lock(1, 0, 5e17);
        handler.relayToEthereum(0, false);
        handler.relayToEthereum(1, false);
        handler.relayToEthereum(0, true); // replay: refused
        handler.relayToEthereum(3, false);
        handler.relayBatchToEthereum(1, 3); // 1 and 3 skipped, 2 executes
        handler.executeDelayed(3, true);
        handler.cancelAndRefund(4);
        handler.burn(0, 0, 4e17);
        handler.relayToConflux(0, false);
        handler.relayToConflux(0, true);
        handler.forge(0, 5, true);
        handler.forge(1, 5, false);
        handler.rotate(true);
        handler.lock(0, 1, 1e18);
        handler.relayToEthereum(5, false); // signed by the new set
        handler.togglePause();
        handler.togglePause();
        handler.donateAndSweep(0, 7e18);
        handler.donateAndSweep(2, 1e18);
        handler.toggleTokenPause(1);
        handler.lock(1, 0, 1e18); // refused: paused
        handler.toggleTokenPause(1);
        handler.lock(0, 0, 2e18); // 6
        handler.lock(1, 1, 1e18); // 7
        handler.lock(0, 2, 1e18); // 8
        handler.relayRootToEthereum(6, 3, 7, true); // forged: refused, nothing executes
        handler.relayRootToEthereum(6, 3, 5, false); // 6 and 8 under one root (signed by the new set)
        handler.relayRootToEthereum(6, 3, 7, false); // same root: 7 executes, 6 and 8 are skipped
        assertEq(handler.rootBatches(), 2);
        assertEq(handler.sweeps(), 2);
        assertEq(handler.tokenPauses(), 1);
        assertEq(handler.releases(), 8);
        assertEq(handler.unlocks(), 1);
        assertEq(handler.delays(), 1);
        assertEq(handler.delayedExecutions(), 1);
        assertEq(handler.cancels(), 1);
        assertEq(handler.refunds(), 1);
        assertEq(handler.batches(), 1);
        assertEq(handler.rotations(), 1);
        assertEq(handler.expiries(), 1);
        assertEq(handler.pauses(), 1);
        assertEq(handler.nativeLocks(), 1);
        assertEq(handler.maxExecutions(), 1);
        assertEq(handler.forgedSuccesses(), 0);
        invariant_mirrorSupplyPlusDelayedBackedByVault();
        invariant_bucketsWithinCapacity();
    }

    /// Mirrored supply plus what is delayed on the gateway never exceeds what the vault holds
    /// locked for the token, nor what it actually holds (minus credited claims).
    function invariant_mirrorSupplyPlusDelayedBackedByVault() public view {
        IVault vault = handler.vault();
        for (uint256 i; i < handler.tokenCount(); ++i) {
            address token = handler.tokens(i);
            uint256 supply = MirroredToken(handler.mirrorFor(token)).totalSupply();
            uint256 locked = vault.lockedBalance(token);
            assertEq(vault.lockedBalanceOf(token, ETHEREUM_CHAIN), locked, "one destination holds it all");
            assertLe(supply + handler.delayedOnGateway(token), locked, "mirror supply + delayed exceeds locked");
            uint256 held = token == address(0) ? address(vault).balance : TestToken(token).balanceOf(address(vault));
            assertLe(locked, held, "locked exceeds vault balance");
        }
    }

    /// No transfer id executes twice, none is executed and refunded, nothing executes from a
    /// cancelled id, forged bundles never execute, a sweep takes only what came outside a lock.
    function invariant_noDoubleExecution() public view {
        assertLe(handler.maxExecutions(), 1);
        assertEq(handler.forgedSuccesses(), 0);
        assertEq(handler.executedAfterCancel(), 0);
        assertEq(handler.executedAndRefunded(), 0);
        assertEq(handler.sweptBeyondExcess(), 0, "a sweep took more than what was sent outside a lock");
    }

    /// No bucket is ever above its capacity.
    function invariant_bucketsWithinCapacity() public view {
        for (uint256 i; i < handler.tokenCount(); ++i) {
            address token = handler.tokens(i);
            (uint256 capacity, uint256 available,,) = handler.gateway().governorOf(handler.mirrorFor(token));
            assertLe(available, capacity);
            (capacity, available,,) = handler.vault().governorOf(token);
            assertLe(available, capacity);
        }
    }
}
