#!/usr/bin/env node
// Runs a real conflux-rust dev node (npm @xcfx/node-linux-x64-gnu, conflux-rust as a
// Node native module) until SIGTERM or SIGINT, then stops it cleanly so its ports free up.
//
// Usage: node tools/conflux-node.js CONFIG.json
// CONFIG.json holds the node's camelCase config keys (chainId, evmChainId,
// jsonrpcHttpPort, jsonrpcHttpEthPort, tcpPort, udpPort, genesisEvmSecrets, ...).
// The PoS config paths default to the files shipped in @xcfx/node.
// Prints one line "READY" on stdout once startNode has resolved.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const configPath = process.argv[2];
if (!configPath) {
  console.error("usage: conflux-node.js CONFIG.json");
  process.exit(2);
}
const userConfig = JSON.parse(fs.readFileSync(configPath, "utf8"));
// PoS genesis files copied from npm @xcfx/node 0.3.2 (MIT): its 0.8.0 native module needs them.
const posDir = path.join(__dirname, "conflux-pos-config");
const config = {
  posConfigPath: path.join(posDir, "pos_config.yaml"),
  posInitialNodesPath: path.join(posDir, "initial_nodes.json"),
  posPrivateKeyPath: path.join(userConfig.confluxDataDir || posDir, "pos_key"),
  ...userConfig,
};
const { ConfluxNode } = require("@xcfx/node-linux-x64-gnu/node.linux-x64-gnu.node");
const node = new ConfluxNode();

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  const done = () => process.exit(code);
  const timer = setTimeout(done, 15000);
  try {
    const result = node.stopNode((err) => {
      if (err) console.error("stopNode:", err);
      clearTimeout(timer);
      done();
    });
    if (result && typeof result.then === "function") {
      result.then(() => { clearTimeout(timer); done(); }, (err) => { console.error("stopNode:", err); clearTimeout(timer); done(); });
    }
  } catch (err) {
    console.error("stopNode:", err);
    done();
  }
}
process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));

(async () => {
  try {
    await node.startNode(config);
  } catch (err) {
    console.error("startNode failed:", err);
    process.exit(1);
  }
  process.stdout.write("READY\n");
  setInterval(() => {}, 1 << 30);
})();
