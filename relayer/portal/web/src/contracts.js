// What the page reads from and sends to the contracts: calldata, view calls through the
// portal's relay, reverts named by their custom error, transfer ids from receipts.
import ABI from "bridge-abi";
import {
  decodeErrorResult,
  decodeEventLog,
  decodeFunctionResult,
  encodeFunctionData,
} from "viem";
import { RpcError, rpc } from "./api.js";

export const NATIVE = "0x0000000000000000000000000000000000000000";
const ERRORS = ABI.errors;

async function view(chainId, to, abi, functionName, args = []) {
  const data = encodeFunctionData({ abi, functionName, args });
  const raw = await rpc(chainId, "eth_call", [{ to, data }, "latest"]);
  return decodeFunctionResult({ abi, functionName, data: raw });
}

export const read = {
  balance: (chainId, token, owner) =>
    token === NATIVE
      ? rpc(chainId, "eth_getBalance", [owner, "latest"]).then(BigInt)
      : view(chainId, token, ABI.erc20, "balanceOf", [owner]),
  allowance: (chainId, token, owner, spender) => view(chainId, token, ABI.erc20, "allowance", [owner, spender]),
  decimals: (chainId, token) => view(chainId, token, ABI.erc20, "decimals"),
  symbol: (chainId, token) => view(chainId, token, ABI.erc20, "symbol"),
  paused: (chainId, bridge) => view(chainId, bridge, ABI.bridge, "paused"),
  tokenPaused: (chainId, bridge, token) => view(chainId, bridge, ABI.bridge, "isTokenPaused", [token]),
  routePaused: (chainId, bridge, dst) => view(chainId, bridge, ABI.bridge, "isRoutePaused", [BigInt(dst)]),
  registered: (chainId, vault, token) => view(chainId, vault, ABI.vault, "isTokenRegistered", [token]),
  sourceOf: (chainId, gateway, mirror) => view(chainId, gateway, ABI.gateway, "sourceOf", [mirror]),
  governor: async (chainId, bridge, token) => {
    const [capacity, available, refill, threshold] = await view(chainId, bridge, ABI.bridge, "governorOf", [token]);
    return { capacity, available, refill, threshold };
  },
  delay: (chainId, bridge) => view(chainId, bridge, ABI.bridge, "delay"),
  code: (chainId, address) => rpc(chainId, "eth_getCode", [address, "latest"]),
  head: (chainId) => rpc(chainId, "eth_blockNumber").then(Number),
  gasPrice: (chainId) => rpc(chainId, "eth_gasPrice").then(BigInt),
  receipt: (chainId, hash) => rpc(chainId, "eth_getTransactionReceipt", [hash]),
};

/** The transaction that sends `amount` of `token` across (`kind`: the source bridge's). */
export function bridgeCall({ kind, bridge, token, amount, recipient, dstChainId }) {
  const dst = BigInt(dstChainId);
  if (kind === "ethereum") {
    return { to: bridge, data: encodeFunctionData({ abi: ABI.gateway, functionName: "burn", args: [token, amount, recipient, dst] }) };
  }
  if (token === NATIVE) {
    return {
      to: bridge,
      value: amount,
      data: encodeFunctionData({ abi: ABI.vault, functionName: "lockNative", args: [recipient, dst] }),
    };
  }
  return { to: bridge, data: encodeFunctionData({ abi: ABI.vault, functionName: "lock", args: [token, amount, recipient, dst] }) };
}

export function approveCall(token, spender, amount) {
  return { to: token, data: encodeFunctionData({ abi: ABI.erc20, functionName: "approve", args: [spender, amount] }) };
}

/** Simulates `call` from `from`: null when it would succeed, else the revert's error name. */
export async function simulate(chainId, from, call) {
  const tx = { from, to: call.to, data: call.data };
  if (call.value !== undefined) tx.value = "0x" + call.value.toString(16);
  try {
    await rpc(chainId, "eth_call", [tx, "latest"]);
    return null;
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    return revertName(err.data) || "unknown";
  }
}

/** The custom error a revert's data names (EnforcedPause, TokenPaused…), if one of ours. */
export function revertName(data) {
  const hex = typeof data === "string" ? data : data?.data;
  if (typeof hex !== "string" || hex.length < 10) return null;
  try {
    return decodeErrorResult({ abi: ERRORS, data: hex }).errorName;
  } catch {
    return null;
  }
}

/** The transfer id of a lock or burn, from its receipt's Locked/Burned log. */
export function transferIdOf(receipt, bridge) {
  for (const log of receipt.logs || []) {
    if (log.address.toLowerCase() !== bridge.toLowerCase()) continue;
    for (const abi of [ABI.vault, ABI.gateway]) {
      try {
        const event = decodeEventLog({ abi, data: log.data, topics: log.topics });
        if (event.eventName === "Locked" || event.eventName === "Burned") return event.args.transferId;
      } catch {
        // not this event
      }
    }
  }
  return null;
}
