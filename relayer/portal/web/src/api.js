// The portal's public API (docs/portal.md): the set's view of transfers, the page's
// settings, and the read-only relay to both chains' nodes.

/** A service that did not answer, or answered with an error (kind: "status" | "rpc"). */
export class ServiceError extends Error {
  constructor(kind, message, detail = {}) {
    super(message);
    this.kind = kind;
    this.detail = detail;
  }
}

/** A JSON-RPC error answered by a node (a revert carries `data`). */
export class RpcError extends Error {
  constructor(error) {
    super(error.message || "JSON-RPC error");
    this.code = error.code;
    this.data = error.data;
  }
}

const TIMEOUT_MS = 10_000;

async function request(path, init = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    return await fetch(path, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function getJson(path) {
  let answer;
  try {
    answer = await request(path);
  } catch (err) {
    throw new ServiceError("status", `no answer from ${path}`, { cause: String(err) });
  }
  let body = null;
  try {
    body = await answer.json();
  } catch {
    throw new ServiceError("status", `${path}: not JSON (HTTP ${answer.status})`);
  }
  return { status: answer.status, body };
}

export async function getConfig() {
  const { status, body } = await getJson("/v1/config");
  if (status !== 200) throw new ServiceError("status", body?.error || `HTTP ${status}`);
  return body;
}

/** The set's view of one transfer, or null while no validator knows it yet. */
export async function getTransfer(key) {
  const { status, body } = await getJson(`/v1/transfers/${encodeURIComponent(key)}`);
  if (status === 200) return body;
  if (status === 404 && body?.validators) return null;
  throw new ServiceError("status", body?.error || `HTTP ${status}`, { status });
}

export async function listTransfers(address, limit = 20) {
  const query = new URLSearchParams({ address, limit: String(limit) });
  const { status, body } = await getJson(`/v1/transfers?${query}`);
  if (status !== 200) throw new ServiceError("status", body?.error || `HTTP ${status}`);
  return body;
}

let rpcId = 0;

/** One read call on a chain's node, through the portal's relay. */
export async function rpc(chainId, method, params = []) {
  let answer;
  try {
    answer = await request(`/v1/rpc/${chainId}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
    });
  } catch (err) {
    throw new ServiceError("rpc", `chain ${chainId}: no answer`, { chainId, cause: String(err) });
  }
  let body = null;
  try {
    body = await answer.json();
  } catch {
    throw new ServiceError("rpc", `chain ${chainId}: HTTP ${answer.status}`, { chainId });
  }
  if (answer.status !== 200) {
    throw new ServiceError("rpc", body?.error || `chain ${chainId}: HTTP ${answer.status}`, { chainId });
  }
  if (body.error) throw new RpcError(body.error);
  return body.result;
}
