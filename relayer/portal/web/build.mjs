// Bundles src/main.js into ../static/app.js (run by `make build`; the output is not committed).
// The contracts' ABIs come from relayer/chain/abi/ (the one place they live), trimmed at build
// time to the functions, events and errors the page uses.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const abiDir = join(here, "..", "..", "chain", "abi");

const PICK = {
  vault: ["BridgeVault", ["lock", "lockNative", "isTokenRegistered", "Locked"]],
  gateway: ["BridgeGateway", ["burn", "sourceOf", "Burned"]],
  // both bridges share these (IBridgeBase)
  bridge: ["BridgeVault", ["paused", "isTokenPaused", "isRoutePaused", "governorOf", "delay"]],
  erc20: ["TestToken", ["balanceOf", "allowance", "approve", "decimals", "symbol"]],
};

function load(contract) {
  return JSON.parse(readFileSync(join(abiDir, `${contract}.json`), "utf8")).abi;
}

function trimmed() {
  const out = {};
  for (const [key, [contract, names]] of Object.entries(PICK)) {
    const abi = load(contract);
    out[key] = names.map((name) => {
      const found = abi.find((f) => f.name === name);
      if (!found) throw new Error(`${contract}.json has no ${name}`);
      return found;
    });
  }
  // every custom error of both bridges and the tokens, to name a revert
  const errors = new Map();
  for (const contract of ["BridgeVault", "BridgeGateway", "MirroredToken", "TestToken"]) {
    for (const f of load(contract)) if (f.type === "error") errors.set(JSON.stringify(f), f);
  }
  out.errors = [...errors.values()];
  return out;
}

const abiPlugin = {
  name: "bridge-abi",
  setup(build) {
    build.onResolve({ filter: /^bridge-abi$/ }, () => ({ path: "bridge-abi", namespace: "abi" }));
    build.onLoad({ filter: /.*/, namespace: "abi" }, () => ({
      contents: `export default ${JSON.stringify(trimmed())};`,
      loader: "js",
      watchFiles: [abiDir],
    }));
  },
};

await esbuild.build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  target: ["es2022"],
  legalComments: "none",
  outfile: join(here, "..", "static", "app.js"),
  plugins: [abiPlugin],
  logLevel: "warning",
});
