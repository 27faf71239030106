// Generates tests/vectors/merkle.json: committed-root vectors from OpenZeppelin's own
// @openzeppelin/merkle-tree (SimpleMerkleTree, leaves kept in nonce order) and the Release struct
// hashes encoded by @metamask/abi-utils. Independent of relayer/domain/merkle.py and of the
// Solidity test helper, which both are checked against this output.
//
//   node tests/vectors/make_merkle_vectors.cjs            # rewrite the JSON
//   node tests/vectors/make_merkle_vectors.cjs --check    # exit 1 if stale
//   node tests/vectors/make_merkle_vectors.cjs --random N SEED  # N random trees on stdout (JSON)
"use strict";
const fs = require("fs");
const path = require("path");
const modules = path.join(__dirname, "..", "..", "contracts", "node_modules");
const { SimpleMerkleTree } = require(path.join(modules, "@openzeppelin/merkle-tree"));
const { encode } = require(path.join(modules, "@metamask/abi-utils"));
const { keccak256 } = require(path.join(modules, "ethereum-cryptography/keccak"));

const OUTPUT = path.join(__dirname, "merkle.json");
const RELEASE_TYPE =
  "Release(bytes32 transferId,uint64 srcChainId,uint64 nonce,address token,address recipient,uint256 amount)";
const hex = (bytes) => "0x" + Buffer.from(bytes).toString("hex");
const k = (text) => keccak256(Buffer.from(text, "utf8"));
const TYPEHASH = k(RELEASE_TYPE);

function release(srcChainId, remote, nonce, token, recipient, amount) {
  const id = keccak256(encode(["uint256", "address", "uint64"], [srcChainId, remote, nonce]));
  const leaf = keccak256(
    encode(
      ["bytes32", "bytes32", "uint64", "uint64", "address", "address", "uint256"],
      [TYPEHASH, id, srcChainId, nonce, token, recipient, amount],
    ),
  );
  return {
    transferId: hex(id), srcChainId, nonce, token, recipient, amount: amount.toString(), leaf: hex(leaf),
  };
}

function address(label) {
  return hex(k(label).slice(12));
}

function makeCase(n, firstNonce, subsets, label) {
  const remote = address(label + "-remote");
  const token = address(label + "-token");
  const releases = [];
  for (let i = 0; i < n; i++) {
    releases.push(release(1030, remote, firstNonce + i, token, address(`${label}-to-${i}`), BigInt(1000 + 7 * i)));
  }
  const tree = SimpleMerkleTree.of(releases.map((r) => r.leaf), { sortLeaves: false });
  return {
    label,
    firstNonce,
    lastNonce: firstNonce + n - 1,
    releases,
    root: tree.root,
    proofs: releases.map((_, i) => tree.getProof(i)),
    multiproofs: subsets.map((indices) => {
      const m = tree.getMultiProof(indices);
      return { indices, leaves: m.leaves, proof: m.proof, flags: m.proofFlags };
    }),
  };
}

function rng(seed) {
  let s = BigInt(seed) & 0xffffffffn;
  return () => {
    s = (s * 1103515245n + 12345n) & 0x7fffffffn;
    return Number(s);
  };
}

function fixedCases() {
  const cases = [];
  for (const n of [1, 2, 3, 4, 5, 7, 8, 13, 64]) {
    const all = [...Array(n).keys()];
    const subsets = [all, [0], [n - 1], all.filter((i) => i % 2 === 0)];
    if (n > 4) subsets.push([1, Math.floor(n / 2), n - 2]);
    cases.push(makeCase(n, 40 + n, subsets, `case-${n}`));
  }
  return cases;
}

function randomCases(count, seed) {
  const next = rng(seed);
  const cases = [];
  for (let c = 0; c < count; c++) {
    const n = 1 + (next() % 70);
    const subset = [...Array(n).keys()].filter(() => next() % 3 === 0);
    if (subset.length === 0) subset.push(next() % n);
    cases.push(makeCase(n, 1 + (next() % 1000), [subset], `random-${seed}-${c}`));
  }
  return cases;
}

const args = process.argv.slice(2);
if (args[0] === "--random") {
  process.stdout.write(JSON.stringify({ cases: randomCases(Number(args[1]), Number(args[2])) }));
} else {
  const text = JSON.stringify({ releaseTypehash: hex(TYPEHASH), cases: fixedCases() }, null, 1) + "\n";
  if (args[0] === "--check") {
    const current = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, "utf8") : "";
    if (current !== text) {
      console.error(`${OUTPUT} is stale: run node tests/vectors/make_merkle_vectors.cjs`);
      process.exit(1);
    }
  } else {
    fs.writeFileSync(OUTPUT, text);
  }
}
