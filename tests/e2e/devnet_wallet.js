// The injected EIP-1193 wallet of tests/e2e/devnet_wallet.py, which fills in the account, the
// chains it knows and its first chain. Calls other than accounts and chains go to Python.
(() => {
  const ACCOUNT = __ACCOUNT__;
  const known = new Set(__KNOWN__);
  let chainId = __CHAIN__;
  const listeners = {};
  const emit = (event, value) => (listeners[event] || []).forEach((fn) => fn(value));
  const provider = {
    isDevnetWallet: true,
    async request({ method, params }) {
      if (method === "eth_chainId") return chainId;
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [ACCOUNT];
      if (method === "wallet_switchEthereumChain") {
        const wanted = params[0].chainId;
        if (!known.has(wanted)) {
          const err = new Error("Unrecognized chain ID " + wanted);
          err.code = 4902;
          throw err;
        }
        chainId = wanted;
        emit("chainChanged", chainId);
        return null;
      }
      if (method === "wallet_addEthereumChain") {
        window.__addedChains = [...(window.__addedChains || []), params[0]];
        known.add(params[0].chainId);
        return null;
      }
      const answer = JSON.parse(await window.__devnetWallet(method, JSON.stringify(params || []), chainId));
      if (answer.error) {
        const err = new Error(answer.error.message);
        err.code = answer.error.code;
        err.data = answer.error.data;
        throw err;
      }
      return answer.result;
    },
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
  };
  const info = Object.freeze({
    uuid: "6f1c2d8e-0b7a-4c39-9f55-devnet000001",
    name: "Devnet test wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
    rdns: "org.conflux-bridge.devnet-wallet",
  });
  const announce = () =>
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
