// Wallets: discovered through EIP-6963 (several may be installed), or window.ethereum;
// spoken to through EIP-1193 only.

/** What went wrong in the wallet, as the page explains it (code: EIP-1193 / EIP-1474). */
export class WalletError extends Error {
  constructor(kind, message, code) {
    super(message);
    this.kind = kind; // "rejected" | "unknown_chain" | "no_wallet" | "failed"
    this.code = code;
  }
}

function wrap(err) {
  const code = err?.code ?? err?.data?.originalError?.code;
  if (code === 4001) return new WalletError("rejected", err.message, code);
  if (code === 4902) return new WalletError("unknown_chain", err.message, code);
  return new WalletError("failed", err?.message || String(err), code);
}

/** Wallets announcing themselves (EIP-6963); calls `onChange(list)` as they come. */
export function discoverWallets(onChange) {
  const found = new Map();
  window.addEventListener("eip6963:announceProvider", (event) => {
    const { info, provider } = event.detail || {};
    if (!info?.uuid || !provider?.request) return;
    found.set(info.uuid, { id: info.uuid, name: info.name, icon: info.icon, rdns: info.rdns, provider });
    onChange([...found.values()]);
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  // a wallet that predates EIP-6963
  setTimeout(() => {
    if (found.size === 0 && window.ethereum?.request) {
      found.set("injected", { id: "injected", name: "Browser wallet", icon: null, provider: window.ethereum });
      onChange([...found.values()]);
    }
  }, 300);
}

export class Wallet {
  constructor(entry) {
    this.entry = entry;
    this.provider = entry.provider;
    this.account = null;
    this.chainId = null;
  }

  async call(method, params) {
    try {
      return await this.provider.request(params === undefined ? { method } : { method, params });
    } catch (err) {
      throw wrap(err);
    }
  }

  async connect() {
    const accounts = await this.call("eth_requestAccounts");
    if (!accounts?.length) throw new WalletError("rejected", "no account");
    this.account = accounts[0];
    this.chainId = Number(await this.call("eth_chainId"));
    return this.account;
  }

  on(event, handler) {
    this.provider.on?.(event, handler);
  }

  /** Switches to `chain` (a /v1/config chain), adding it to the wallet when it lacks it. */
  async switchTo(chain) {
    try {
      await this.call("wallet_switchEthereumChain", [{ chainId: chain.chain_id_hex }]);
    } catch (err) {
      if (err.kind !== "unknown_chain") throw err;
      await this.call("wallet_addEthereumChain", [
        {
          chainId: chain.chain_id_hex,
          chainName: chain.name,
          rpcUrls: [chain.rpc_url],
          nativeCurrency: chain.native_currency,
          blockExplorerUrls: chain.explorer_tx_url ? [new URL(chain.explorer_tx_url.replace("{hash}", "")).origin] : undefined,
        },
      ]);
      await this.call("wallet_switchEthereumChain", [{ chainId: chain.chain_id_hex }]);
    }
    this.chainId = Number(await this.call("eth_chainId"));
  }

  /** Sends through the wallet, which fills gas and fees; returns the transaction hash. */
  send(call) {
    const tx = { from: this.account, to: call.to, data: call.data };
    if (call.value !== undefined) tx.value = "0x" + call.value.toString(16);
    return this.call("eth_sendTransaction", [tx]);
  }
}
