// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {BridgeGateway} from "../src/BridgeGateway.sol";
import {IBridgeCommon, Release} from "../src/interfaces/IBridge.sol";
import {MirroredToken} from "../src/MirroredToken.sol";
import {TestToken} from "../src/test-tokens/TestToken.sol";
import {BridgeFixture} from "./utils/BridgeFixture.sol";
import {IVault} from "./utils/IVault.sol";
import {MerkleTrees} from "./utils/MerkleTrees.sol";

/// @notice Committed roots: commitRoot, releaseWithProof / releaseBatchWithProof on the gateway,
/// unlockWithProof / unlockBatchWithProof on the vault, and the tree construction against
/// OpenZeppelin's own library (tests/vectors/merkle.json).
contract CommittedRootsTest is BridgeFixture {
    BridgeGateway internal gateway;
    ValidatorKeys internal set;
    address internal vaultRemote = makeAddr("vault");
    MirroredToken internal mirror;

    uint64 internal constant FIRST = 101;

    function setUp() public {
        set = _makeSet("roots", 7, 3);
        gateway = _deployGateway(set);
        vm.startPrank(admin);
        gateway.registerChain(CONFLUX_CHAIN, vaultRemote, false);
        mirror = MirroredToken(gateway.registerToken(CONFLUX_CHAIN, makeAddr("usdt"), "Bridged USDT", "USDT", 6));
        vm.stopPrank();
    }

    // ----------------------------------------------------------------- helpers

    /// @dev `n` releases of consecutive nonces from FIRST, bound to the vault, to distinct recipients.
    function _releases(uint256 n, address token, uint64 srcChainId, address remote)
        internal
        returns (Release[] memory rs)
    {
        rs = new Release[](n);
        for (uint256 i; i < n; ++i) {
            uint64 nonce = FIRST + uint64(i);
            address to = makeAddr(string.concat("to-", vm.toString(i)));
            rs[i] = _release(_boundId(srcChainId, remote, nonce), srcChainId, nonce, token, to, 1000 + i);
        }
    }

    function _leaf(Release memory r) internal view returns (bytes32) {
        return keccak256(
            abi.encode(gateway.RELEASE_TYPEHASH(), r.transferId, r.srcChainId, r.nonce, r.token, r.recipient, r.amount)
        );
    }

    function _tree(Release[] memory rs) internal view returns (bytes32[] memory) {
        bytes32[] memory leaves = new bytes32[](rs.length);
        for (uint256 i; i < rs.length; ++i) {
            leaves[i] = _leaf(rs[i]);
        }
        return MerkleTrees.build(leaves);
    }

    function _rootSigs(bytes32 root, uint64 first, uint64 last) internal view returns (bytes memory) {
        return _bundle(gateway.hashReleaseRoot(root, CONFLUX_CHAIN, first, last), _quorumKeys(set));
    }

    /// @dev Builds and commits the root of `n` fresh releases; returns them and the tree.
    function _committed(uint256 n) internal returns (Release[] memory rs, bytes32[] memory nodes) {
        rs = _releases(n, address(mirror), CONFLUX_CHAIN, vaultRemote);
        nodes = _tree(rs);
        uint64 last = FIRST + uint64(n) - 1;
        gateway.commitRoot(nodes[0], CONFLUX_CHAIN, FIRST, last, _rootSigs(nodes[0], FIRST, last));
    }

    function _subset(Release[] memory rs, uint256[] memory indices) internal pure returns (Release[] memory out) {
        out = new Release[](indices.length);
        for (uint256 i; i < indices.length; ++i) {
            out[i] = rs[indices[i]];
        }
    }

    // -------------------------------------------------------------- commitRoot

    function test_commitRoot_recordsTheRootAndItsSigningSet() public {
        Release[] memory rs = _releases(5, address(mirror), CONFLUX_CHAIN, vaultRemote);
        bytes32 root = _tree(rs)[0];
        bytes memory sigs = _rootSigs(root, FIRST, FIRST + 4);
        vm.expectEmit(true, true, false, true, address(gateway));
        emit IBridgeCommon.RootCommitted(root, CONFLUX_CHAIN, FIRST, FIRST + 4, 1);
        gateway.commitRoot(root, CONFLUX_CHAIN, FIRST, FIRST + 4, sigs);
        (uint64 src, uint64 first, uint64 last, uint64 setId, bool live) = gateway.rootOf(root);
        assertEq(src, CONFLUX_CHAIN);
        assertEq(first, FIRST);
        assertEq(last, FIRST + 4);
        assertEq(setId, 1);
        assertTrue(live);
        (,,,, bool unknownLive) = gateway.rootOf(keccak256("never committed"));
        assertFalse(unknownLive);
    }

    function test_commitRoot_revertsOnZeroRoot() public {
        bytes memory sigs = _rootSigs(bytes32(0), FIRST, FIRST);
        vm.expectRevert(IBridgeCommon.ZeroRoot.selector);
        gateway.commitRoot(bytes32(0), CONFLUX_CHAIN, FIRST, FIRST, sigs);
    }

    function test_commitRoot_revertsOnAnEmptyOrZeroRange() public {
        bytes32 root = keccak256("r");
        bytes memory sigs = _rootSigs(root, 0, 5);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidNonceRange.selector, 0, 5));
        gateway.commitRoot(root, CONFLUX_CHAIN, 0, 5, sigs);
        sigs = _rootSigs(root, 6, 5);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidNonceRange.selector, 6, 5));
        gateway.commitRoot(root, CONFLUX_CHAIN, 6, 5, sigs);
    }

    function test_commitRoot_revertsWhenTheChainIsNotRegistered() public {
        bytes32 root = keccak256("r");
        bytes memory sigs = _bundle(gateway.hashReleaseRoot(root, 71, 1, 2), _quorumKeys(set));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.ChainNotRegistered.selector, 71));
        gateway.commitRoot(root, 71, 1, 2, sigs);
    }

    function test_commitRoot_revertsWhenAlreadyCommitted() public {
        (, bytes32[] memory nodes) = _committed(3);
        bytes memory sigs = _rootSigs(nodes[0], FIRST, FIRST + 2);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.RootAlreadyCommitted.selector, nodes[0]));
        gateway.commitRoot(nodes[0], CONFLUX_CHAIN, FIRST, FIRST + 2, sigs);
    }

    function test_commitRoot_revertsBelowThreshold() public {
        bytes32 root = keccak256("r");
        bytes memory sigs =
            _bundle(gateway.hashReleaseRoot(root, CONFLUX_CHAIN, 1, 2), _firstKeys(set, set.threshold - 1));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.BelowThreshold.selector, set.threshold - 1, set.threshold));
        gateway.commitRoot(root, CONFLUX_CHAIN, 1, 2, sigs);
    }

    function test_commitRoot_bindsTheNonceRange() public {
        bytes32 root = keccak256("r");
        bytes memory sigs = _rootSigs(root, 1, 10);
        // the same signatures over a wider range recover to strangers
        _expectStrangerSigner(gateway.hashReleaseRoot(root, CONFLUX_CHAIN, 1, 11), sigs);
        gateway.commitRoot(root, CONFLUX_CHAIN, 1, 11, sigs);
    }

    function test_commitRoot_revertsWhenPaused() public {
        bytes32 root = keccak256("r");
        bytes memory sigs = _rootSigs(root, 1, 2);
        vm.prank(admin);
        gateway.pause();
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        gateway.commitRoot(root, CONFLUX_CHAIN, 1, 2, sigs);
    }

    // -------------------------------------------------------- releaseWithProof

    function test_releaseWithProof_mintsEachLeafExactlyOnce() public {
        (Release[] memory rs, bytes32[] memory nodes) = _committed(5);
        for (uint256 i; i < rs.length; ++i) {
            gateway.releaseWithProof(rs[i], nodes[0], MerkleTrees.proof(nodes, i));
            assertEq(mirror.balanceOf(rs[i].recipient), rs[i].amount);
            assertEq(gateway.statusOf(rs[i].transferId), 1);
        }
        bytes32[] memory p = MerkleTrees.proof(nodes, 3);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.AlreadyProcessed.selector, rs[3].transferId));
        gateway.releaseWithProof(rs[3], nodes[0], p);
    }

    function test_releaseWithProof_sharesTheReplayGuardWithSignedReleases() public {
        (Release[] memory rs, bytes32[] memory nodes) = _committed(4);
        // signed first, then the proof is refused
        gateway.release(rs[0], _bundle(gateway.hashRelease(rs[0]), _quorumKeys(set)));
        bytes32[] memory p = MerkleTrees.proof(nodes, 0);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.AlreadyProcessed.selector, rs[0].transferId));
        gateway.releaseWithProof(rs[0], nodes[0], p);
        // proof first, then the signed release is refused
        gateway.releaseWithProof(rs[1], nodes[0], MerkleTrees.proof(nodes, 1));
        bytes memory sigs = _bundle(gateway.hashRelease(rs[1]), _quorumKeys(set));
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.AlreadyProcessed.selector, rs[1].transferId));
        gateway.release(rs[1], sigs);
        assertEq(mirror.totalSupply(), rs[0].amount + rs[1].amount);
    }

    function test_releaseWithProof_revertsOnAnAlteredRelease() public {
        (Release[] memory rs, bytes32[] memory nodes) = _committed(5);
        bytes32[] memory p = MerkleTrees.proof(nodes, 2);
        Release memory forged = rs[2];
        forged.amount += 1;
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidProof.selector, nodes[0]));
        gateway.releaseWithProof(forged, nodes[0], p);
        // another leaf's proof does not prove this one
        bytes32[] memory other = MerkleTrees.proof(nodes, 1);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidProof.selector, nodes[0]));
        gateway.releaseWithProof(rs[2], nodes[0], other);
    }

    function test_releaseWithProof_revertsWhenTheRootIsNotCommitted() public {
        Release[] memory rs = _releases(3, address(mirror), CONFLUX_CHAIN, vaultRemote);
        bytes32[] memory nodes = _tree(rs);
        bytes32[] memory p = MerkleTrees.proof(nodes, 0);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.RootNotCommitted.selector, nodes[0]));
        gateway.releaseWithProof(rs[0], nodes[0], p);
    }

    function test_releaseWithProof_refusesALeafOutsideTheSignedRange() public {
        Release[] memory rs = _releases(4, address(mirror), CONFLUX_CHAIN, vaultRemote);
        bytes32[] memory nodes = _tree(rs);
        // a root whose signed range misses the last nonce of its own leaves
        gateway.commitRoot(nodes[0], CONFLUX_CHAIN, FIRST, FIRST + 2, _rootSigs(nodes[0], FIRST, FIRST + 2));
        gateway.releaseWithProof(rs[2], nodes[0], MerkleTrees.proof(nodes, 2));
        bytes32[] memory p = MerkleTrees.proof(nodes, 3);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.OutsideRoot.selector, rs[3].transferId));
        gateway.releaseWithProof(rs[3], nodes[0], p);
    }

    function test_releaseWithProof_refusesAnUnboundId() public {
        Release[] memory rs = _releases(2, address(mirror), CONFLUX_CHAIN, makeAddr("not the vault"));
        bytes32[] memory nodes = _tree(rs);
        gateway.commitRoot(nodes[0], CONFLUX_CHAIN, FIRST, FIRST + 1, _rootSigs(nodes[0], FIRST, FIRST + 1));
        bytes32[] memory p = MerkleTrees.proof(nodes, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBridgeCommon.WrongTransferId.selector, rs[0].transferId, _boundId(CONFLUX_CHAIN, vaultRemote, FIRST)
            )
        );
        gateway.releaseWithProof(rs[0], nodes[0], p);
    }

    function test_releaseWithProof_rootOfTheRotatedOutSetLivesOnlyThroughItsGracePeriod() public {
        (Release[] memory rs, bytes32[] memory nodes) = _committed(4);
        ValidatorKeys memory next = _makeSet("roots-next", 7, 3);
        gateway.rotateValidatorSet(
            next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE,
            _rotationSigs(gateway, set, next, 2)
        );
        // within the grace period the old set's root still executes
        gateway.releaseWithProof(rs[0], nodes[0], MerkleTrees.proof(nodes, 0));
        vm.prank(admin);
        gateway.expirePreviousSet();
        (,,, uint64 setId, bool live) = gateway.rootOf(nodes[0]);
        assertEq(setId, 1);
        assertFalse(live);
        bytes32[] memory p = MerkleTrees.proof(nodes, 1);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.RootSetExpired.selector, nodes[0], 1));
        gateway.releaseWithProof(rs[1], nodes[0], p);
    }

    function test_commitRoot_acceptsThePreviousSetWithinItsGracePeriod() public {
        ValidatorKeys memory next = _makeSet("roots-next", 7, 3);
        gateway.rotateValidatorSet(
            next.members, next.jurisdictions, next.threshold, next.minJurisdictions, ROTATION_DEADLINE,
            _rotationSigs(gateway, set, next, 2)
        );
        Release[] memory rs = _releases(2, address(mirror), CONFLUX_CHAIN, vaultRemote);
        bytes32 root = _tree(rs)[0];
        vm.expectEmit(true, true, false, true, address(gateway));
        emit IBridgeCommon.RootCommitted(root, CONFLUX_CHAIN, FIRST, FIRST + 1, 1);
        gateway.commitRoot(root, CONFLUX_CHAIN, FIRST, FIRST + 1, _rootSigs(root, FIRST, FIRST + 1));
        vm.warp(block.timestamp + 1 days + 1);
        bytes32 later = keccak256("later");
        bytes memory sigs = _rootSigs(later, FIRST, FIRST + 1);
        // past the grace period, the current set's error: the old set's signers are not members
        _expectStrangerSigner(gateway.hashReleaseRoot(later, CONFLUX_CHAIN, FIRST, FIRST + 1), sigs);
        gateway.commitRoot(later, CONFLUX_CHAIN, FIRST, FIRST + 1, sigs);
    }

    function test_releaseWithProof_delaysALargeTransferUnderTheGovernor() public {
        vm.prank(admin);
        gateway.setGovernor(address(mirror), 1_000_000, 1, 1002);
        (Release[] memory rs, bytes32[] memory nodes) = _committed(4);
        gateway.releaseWithProof(rs[0], nodes[0], MerkleTrees.proof(nodes, 0)); // 1000: at once
        gateway.releaseWithProof(rs[2], nodes[0], MerkleTrees.proof(nodes, 2)); // 1002: delayed
        assertEq(gateway.statusOf(rs[0].transferId), 1);
        assertEq(gateway.statusOf(rs[2].transferId), 2);
        assertEq(mirror.balanceOf(rs[2].recipient), 0);
    }

    function test_releaseWithProof_waitsWhilePaused() public {
        (Release[] memory rs, bytes32[] memory nodes) = _committed(2);
        bytes32[] memory p = MerkleTrees.proof(nodes, 0);
        vm.prank(admin);
        gateway.setTokenPaused(address(mirror), true);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.TokenPaused.selector, address(mirror)));
        gateway.releaseWithProof(rs[0], nodes[0], p);
        vm.startPrank(admin);
        gateway.setTokenPaused(address(mirror), false);
        gateway.pause();
        vm.stopPrank();
        vm.expectRevert(IBridgeCommon.EnforcedPause.selector);
        gateway.releaseWithProof(rs[0], nodes[0], p);
    }

    // --------------------------------------------------- releaseBatchWithProof

    function test_releaseBatchWithProof_executesTheSubsetAndSkipsWhatIsDone() public {
        (Release[] memory rs, bytes32[] memory nodes) = _committed(7);
        gateway.releaseWithProof(rs[2], nodes[0], MerkleTrees.proof(nodes, 2));
        uint256[] memory indices = new uint256[](4);
        (indices[0], indices[1], indices[2], indices[3]) = (1, 2, 4, 6);
        (, bytes32[] memory proof, bool[] memory flags) = MerkleTrees.multiproof(nodes, indices);
        vm.expectEmit(true, false, false, true, address(gateway));
        emit IBridgeCommon.ReleaseSkipped(rs[2].transferId, IBridgeCommon.AlreadyProcessed.selector);
        gateway.releaseBatchWithProof(nodes[0], _subset(rs, indices), proof, flags);
        for (uint256 i; i < rs.length; ++i) {
            bool inBatch = i == 1 || i == 2 || i == 4 || i == 6;
            assertEq(mirror.balanceOf(rs[i].recipient), inBatch ? rs[i].amount : 0);
        }
    }

    function test_releaseBatchWithProof_revertsOnAForgedItem() public {
        (Release[] memory rs, bytes32[] memory nodes) = _committed(6);
        uint256[] memory indices = new uint256[](6);
        for (uint256 i; i < 6; ++i) {
            indices[i] = i;
        }
        (, bytes32[] memory proof, bool[] memory flags) = MerkleTrees.multiproof(nodes, indices);
        rs[4].recipient = makeAddr("thief");
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidProof.selector, nodes[0]));
        gateway.releaseBatchWithProof(nodes[0], rs, proof, flags);
        // a multiproof of the wrong shape is OpenZeppelin's error
        bool[] memory short = new bool[](flags.length - 1);
        vm.expectRevert(MerkleProof.MerkleProofInvalidMultiproof.selector);
        gateway.releaseBatchWithProof(nodes[0], rs, proof, short);
    }

    function test_releaseBatchWithProof_revertsWhenEmpty() public {
        (, bytes32[] memory nodes) = _committed(2);
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = nodes[0];
        vm.expectRevert(IBridgeCommon.EmptyBatch.selector);
        gateway.releaseBatchWithProof(nodes[0], new Release[](0), proof, new bool[](0));
    }

    function testFuzz_releaseBatchWithProof_anySubsetOfAnyTree(uint8 size, uint256 mask) public {
        uint256 n = bound(size, 1, 40);
        (Release[] memory rs, bytes32[] memory nodes) = _committed(n);
        uint256 count;
        for (uint256 i; i < n; ++i) {
            if ((mask >> i) & 1 == 1) ++count;
        }
        if (count == 0) {
            mask = 1;
            count = 1;
        }
        uint256[] memory indices = new uint256[](count);
        uint256 j;
        for (uint256 i; i < n; ++i) {
            if ((mask >> i) & 1 == 1) indices[j++] = i;
        }
        (, bytes32[] memory proof, bool[] memory flags) = MerkleTrees.multiproof(nodes, indices);
        gateway.releaseBatchWithProof(nodes[0], _subset(rs, indices), proof, flags);
        uint256 supply;
        for (uint256 i; i < n; ++i) {
            bool chosen = (mask >> i) & 1 == 1;
            assertEq(mirror.balanceOf(rs[i].recipient), chosen ? rs[i].amount : 0);
            assertEq(gateway.statusOf(rs[i].transferId), chosen ? 1 : 0);
            if (chosen) supply += rs[i].amount;
        }
        assertEq(mirror.totalSupply(), supply);
    }

    // ------------------------------------------------------------------- vault

    IVault internal vault;
    TestToken internal vaultToken;
    address internal gatewayRemote = makeAddr("gateway");

    /// @dev A vault on Conflux holding 3,003 locked towards Ethereum, and a committed root of
    /// four unlocks (1,000 + 1,001 + 1,002 + 1,003: the last exceeds what is locked).
    function _vaultWithRoot() internal returns (Release[] memory rs, bytes32[] memory nodes) {
        vm.chainId(CONFLUX_CHAIN);
        ValidatorKeys memory vset = _makeSet("roots-vault", 7, 3);
        vault = _deployVault(vset);
        vaultToken = new TestToken("Tether", "USDT", 6);
        vm.startPrank(admin);
        vault.registerChain(ETHEREUM_CHAIN, gatewayRemote, false);
        vault.registerToken(address(vaultToken));
        vm.stopPrank();
        address alice = makeAddr("alice");
        vaultToken.mint(alice, 3_003);
        vm.startPrank(alice);
        vaultToken.approve(address(vault), type(uint256).max);
        vault.lock(address(vaultToken), 3_003, alice, ETHEREUM_CHAIN);
        vm.stopPrank();
        rs = _releases(4, address(vaultToken), ETHEREUM_CHAIN, gatewayRemote);
        nodes = _tree(rs);
        bytes memory sigs =
            _bundle(vault.hashReleaseRoot(nodes[0], ETHEREUM_CHAIN, FIRST, FIRST + 3), _quorumKeys(vset));
        vault.commitRoot(nodes[0], ETHEREUM_CHAIN, FIRST, FIRST + 3, sigs);
    }

    function test_vault_unlocksLeavesOfACommittedRootWithExactAmounts() public {
        (Release[] memory rs, bytes32[] memory nodes) = _vaultWithRoot();
        vault.unlockWithProof(rs[0], nodes[0], MerkleTrees.proof(nodes, 0));
        assertEq(vaultToken.balanceOf(rs[0].recipient), 1000);
        uint256[] memory rest = new uint256[](3);
        (rest[0], rest[1], rest[2]) = (1, 2, 3);
        (, bytes32[] memory proof, bool[] memory flags) = MerkleTrees.multiproof(nodes, rest);
        // the last one exceeds what is left locked: skipped, the others paid
        vm.expectEmit(true, false, false, true, address(vault));
        emit IBridgeCommon.ReleaseSkipped(rs[3].transferId, IBridgeVault_InsufficientLockedBalance);
        vault.unlockBatchWithProof(nodes[0], _subset(rs, rest), proof, flags);
        assertEq(vaultToken.balanceOf(rs[1].recipient), 1001);
        assertEq(vaultToken.balanceOf(rs[2].recipient), 1002);
        assertEq(vaultToken.balanceOf(rs[3].recipient), 0);
        assertEq(vault.lockedBalanceOf(address(vaultToken), ETHEREUM_CHAIN), 0);
        assertEq(vault.statusOf(rs[3].transferId), 0);
        bytes32[] memory p = MerkleTrees.proof(nodes, 0);
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.AlreadyProcessed.selector, rs[0].transferId));
        vault.unlockWithProof(rs[0], nodes[0], p);
    }

    function test_vault_refusesAForgedUnlock() public {
        (Release[] memory rs, bytes32[] memory nodes) = _vaultWithRoot();
        bytes32[] memory p = MerkleTrees.proof(nodes, 1);
        rs[1].amount = 3_003;
        vm.expectRevert(abi.encodeWithSelector(IBridgeCommon.InvalidProof.selector, nodes[0]));
        vault.unlockWithProof(rs[1], nodes[0], p);
    }

    bytes4 internal constant IBridgeVault_InsufficientLockedBalance =
        bytes4(keccak256("InsufficientLockedBalance(address,uint256,uint256)"));

    // ----------------------------------------------------------------- vectors

    /// @dev The Solidity helper, OpenZeppelin's MerkleProof and the contract's leaf hashing
    /// agree with OpenZeppelin merkle-tree (npm) on every vector.
    function test_merkleVectors_matchOpenZeppelinsLibrary() public view {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/../tests/vectors/merkle.json"));
        assertEq(vm.parseJsonBytes32(json, ".releaseTypehash"), gateway.RELEASE_TYPEHASH());
        uint256 cases;
        for (uint256 c; vm.keyExistsJson(json, string.concat(".cases[", vm.toString(c), "]")); ++c) {
            _checkVectorCase(json, string.concat(".cases[", vm.toString(c), "]"));
            ++cases;
        }
        assertGt(cases, 5, "too few merkle vectors");
    }

    function _checkVectorCase(string memory json, string memory p) internal view {
        bytes32 root = vm.parseJsonBytes32(json, string.concat(p, ".root"));
        uint256 n;
        while (vm.keyExistsJson(json, string.concat(p, ".releases[", vm.toString(n), "]"))) ++n;
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            string memory r = string.concat(p, ".releases[", vm.toString(i), "]");
            leaves[i] = _leaf(_vectorRelease(json, r));
            assertEq(leaves[i], vm.parseJsonBytes32(json, string.concat(r, ".leaf")));
        }
        bytes32[] memory nodes = MerkleTrees.build(leaves);
        assertEq(nodes[0], root);
        for (uint256 i; i < n; ++i) {
            bytes32[] memory expected = _jsonHashes(json, string.concat(p, ".proofs[", vm.toString(i), "]"));
            assertTrue(MerkleProof.verify(expected, root, leaves[i]));
            assertEq(keccak256(abi.encode(MerkleTrees.proof(nodes, i))), keccak256(abi.encode(expected)));
        }
        for (uint256 m; vm.keyExistsJson(json, string.concat(p, ".multiproofs[", vm.toString(m), "]")); ++m) {
            _checkVectorMultiproof(json, string.concat(p, ".multiproofs[", vm.toString(m), "]"), nodes);
        }
    }

    function _checkVectorMultiproof(string memory json, string memory q, bytes32[] memory nodes) internal view {
        uint256[] memory indices = vm.parseJsonUintArray(json, string.concat(q, ".indices"));
        (bytes32[] memory ls, bytes32[] memory proof, bool[] memory flags) = MerkleTrees.multiproof(nodes, indices);
        assertEq(keccak256(abi.encode(ls)), keccak256(abi.encode(_jsonHashes(json, string.concat(q, ".leaves")))));
        assertEq(keccak256(abi.encode(proof)), keccak256(abi.encode(_jsonHashes(json, string.concat(q, ".proof")))));
        bool[] memory expectedFlags =
            vm.keyExistsJson(json, string.concat(q, ".flags[0]")) ? vm.parseJsonBoolArray(json, string.concat(q, ".flags")) : new bool[](0);
        assertEq(keccak256(abi.encode(flags)), keccak256(abi.encode(expectedFlags)));
        assertTrue(MerkleProof.multiProofVerify(proof, flags, nodes[0], ls));
    }

    function _vectorRelease(string memory json, string memory r) internal pure returns (Release memory rel) {
        rel.transferId = vm.parseJsonBytes32(json, string.concat(r, ".transferId"));
        rel.srcChainId = uint64(vm.parseJsonUint(json, string.concat(r, ".srcChainId")));
        rel.nonce = uint64(vm.parseJsonUint(json, string.concat(r, ".nonce")));
        rel.token = vm.parseJsonAddress(json, string.concat(r, ".token"));
        rel.recipient = vm.parseJsonAddress(json, string.concat(r, ".recipient"));
        rel.amount = vm.parseUint(vm.parseJsonString(json, string.concat(r, ".amount")));
    }

    /// @dev A JSON array of hashes that may be empty (parseJsonBytes32Array rejects "[]").
    function _jsonHashes(string memory json, string memory key) internal view returns (bytes32[] memory out) {
        if (vm.keyExistsJson(json, string.concat(key, "[0]"))) return vm.parseJsonBytes32Array(json, key);
        return new bytes32[](0);
    }
}
