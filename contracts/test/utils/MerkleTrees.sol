// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @notice The tree of a committed root, built in Solidity for the tests (the layout of
/// OpenZeppelin merkle-tree (npm)'s makeMerkleTree: leaf i at node 2n - 2 - i, node k the commutative
/// keccak of nodes 2k + 1 and 2k + 2). Checked against tests/vectors/merkle.json.
library MerkleTrees {
    function build(bytes32[] memory leaves) internal pure returns (bytes32[] memory nodes) {
        uint256 n = leaves.length;
        require(n > 0, "no leaves");
        nodes = new bytes32[](2 * n - 1);
        for (uint256 i; i < n; ++i) {
            nodes[2 * n - 2 - i] = leaves[i];
        }
        for (uint256 k = n - 1; k > 0; --k) {
            nodes[k - 1] = Hashes.commutativeKeccak256(nodes[2 * k - 1], nodes[2 * k]);
        }
    }

    function proof(bytes32[] memory nodes, uint256 leafIndex) internal pure returns (bytes32[] memory out) {
        uint256 k = nodes.length - 1 - leafIndex;
        uint256 depth;
        for (uint256 j = k; j > 0; j = (j - 1) / 2) {
            ++depth;
        }
        out = new bytes32[](depth);
        for (uint256 d; k > 0; ++d) {
            out[d] = nodes[k % 2 == 1 ? k + 1 : k - 1];
            k = (k - 1) / 2;
        }
    }

    /// @notice OpenZeppelin's getMultiProof for the leaves `leafIndices` (strictly ascending).
    function multiproof(bytes32[] memory nodes, uint256[] memory leafIndices)
        internal
        pure
        returns (bytes32[] memory leaves, bytes32[] memory siblings, bool[] memory flags)
    {
        uint256 m = leafIndices.length;
        // a queue of node indices; at most m + (number of steps) entries are ever pushed
        uint256[] memory queue = new uint256[](m + nodes.length);
        leaves = new bytes32[](m);
        for (uint256 i; i < m; ++i) {
            if (i > 0) require(leafIndices[i] > leafIndices[i - 1], "indices not ascending");
            queue[i] = nodes.length - 1 - leafIndices[i];
            leaves[i] = nodes[queue[i]];
        }
        bytes32[] memory proofBuf = new bytes32[](nodes.length);
        bool[] memory flagBuf = new bool[](nodes.length);
        uint256 head;
        uint256 tail = m;
        uint256 np;
        uint256 nf;
        while (head < tail && queue[head] > 0) {
            uint256 k = queue[head++];
            uint256 s = k % 2 == 1 ? k + 1 : k - 1;
            if (head < tail && queue[head] == s) {
                flagBuf[nf++] = true;
                ++head;
            } else {
                flagBuf[nf++] = false;
                proofBuf[np++] = nodes[s];
            }
            queue[tail++] = (k - 1) / 2;
        }
        siblings = new bytes32[](np);
        for (uint256 i; i < np; ++i) {
            siblings[i] = proofBuf[i];
        }
        flags = new bool[](nf);
        for (uint256 i; i < nf; ++i) {
            flags[i] = flagBuf[i];
        }
    }
}
