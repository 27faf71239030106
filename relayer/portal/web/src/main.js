// The bridge's wallet page: connect a wallet, lock (or burn) tokens, follow the transfer to
// its release through the portal's status API, and list the address's transfers.
import { getAddress, isAddress } from "viem";
import { AmountError, formatAmount, parseAmount, toDecimalString } from "./amounts.js";
import { ServiceError, getConfig, getTransfer, listTransfers } from "./api.js";
import { NATIVE, approveCall, bridgeCall, read, simulate, transferIdOf } from "./contracts.js";
import { LOCALES, chooseLocale, formatDate, formatDuration, locale, setLocale, t } from "./i18n.js";
import { Wallet, WalletError, discoverWallets } from "./wallet.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1500;
// a generous gas budget per step, to warn before sending (the wallet estimates the real one)
const GAS_APPROVE = 80_000n;
const GAS_BRIDGE = 300_000n;
const DONE = new Set(["released", "refunded"]);

const state = {
  config: null,
  direction: 0, // index of the source chain in config.chains
  wallets: [],
  wallet: null,
  tokens: new Map(), // `${src}:${index}` -> token info as read from the chain
  check: null, // the last form check: { ok, amount, needApprove, ... }
  following: null, // the key (transfer id or source tx) the page follows
  followTimer: null,
  checkSeq: 0,
};

// ------------------------------------------------------------------ helpers

function chains() {
  const src = state.config.chains[state.direction];
  const dst = state.config.chains[1 - state.direction];
  return { src, dst };
}

function chainById(id) {
  return state.config.chains.find((c) => c.chain_id === Number(id));
}

function short(address) {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function txLink(chain, hash) {
  const template = chain?.explorer_tx_url;
  if (!template) return el("code", { text: hash });
  return el("a", { href: template.replace("{hash}", hash), target: "_blank", rel: "noopener", text: short(hash) });
}

function show(id, text, kind) {
  const node = $(id);
  node.textContent = text || "";
  node.hidden = !text;
  if (kind) node.dataset.kind = kind;
}

function describe(err) {
  if (err instanceof WalletError) {
    return err.kind === "rejected" ? t("rejected") : t("wallet_failed", { detail: err.message });
  }
  if (err instanceof ServiceError) {
    if (err.kind === "rpc") return t("rpc_down", { chain: chainById(err.detail.chainId)?.name ?? err.detail.chainId });
    return t("status_down");
  }
  return t("wallet_failed", { detail: err?.message || String(err) });
}

// ------------------------------------------------------------------ language

function applyLanguage() {
  document.documentElement.lang = locale();
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  renderWallet();
  renderDirection();
  renderTokens();
  scheduleCheck();
  if (state.following) followNow();
  refreshHistory();
}

function setupLanguage() {
  const select = $("lang");
  for (const [code, name] of Object.entries(LOCALES)) select.append(el("option", { value: code, text: name }));
  let saved = null;
  try {
    saved = localStorage.getItem("bridge.lang");
  } catch {
    // storage may be off: the browser's languages decide
  }
  setLocale(chooseLocale(saved, navigator.languages));
  select.value = locale();
  select.addEventListener("change", () => {
    setLocale(select.value);
    try {
      localStorage.setItem("bridge.lang", select.value);
    } catch {
      // not kept: fine
    }
    applyLanguage();
  });
}

// ------------------------------------------------------------------ wallet

function renderWallet() {
  const box = $("wallet");
  box.replaceChildren();
  const w = state.wallet;
  if (w?.account) {
    const chain = chainById(w.chainId);
    box.append(el("span", {
      id: "account",
      "data-address": w.account,
      text: t("connected", { account: short(w.account), chain: chain ? chain.name : t("unknown_chain", { id: w.chainId }) }),
    }));
    return;
  }
  if (state.wallets.length === 0) {
    box.append(el("button", { id: "connect", type: "button", text: t("connect") }));
    $("connect").addEventListener("click", () => show("form-error", t("no_wallet"), "error"));
    return;
  }
  if (state.wallets.length > 1) box.append(el("span", { text: t("choose_wallet") + ": " }));
  for (const entry of state.wallets) {
    const label = state.wallets.length > 1 ? entry.name : t("connect");
    const button = el("button", { type: "button", class: "wallet-choice", "data-wallet": entry.name, text: label });
    if (state.wallets.length === 1) button.id = "connect";
    button.addEventListener("click", () => connect(entry));
    box.append(button);
  }
}

async function connect(entry) {
  const wallet = new Wallet(entry);
  try {
    await wallet.connect();
  } catch (err) {
    show("form-error", describe(err), "error");
    return;
  }
  state.wallet = wallet;
  wallet.on("accountsChanged", (accounts) => {
    wallet.account = accounts?.[0] ?? null;
    onWalletChange();
  });
  wallet.on("chainChanged", (id) => {
    wallet.chainId = Number(id);
    onWalletChange();
  });
  if (!$("recipient").value) $("recipient").value = getAddress(wallet.account);
  onWalletChange();
}

function onWalletChange() {
  renderWallet();
  renderNetwork();
  scheduleCheck();
  refreshHistory();
}

function renderNetwork() {
  const box = $("network");
  box.replaceChildren();
  const w = state.wallet;
  const { src } = chains();
  if (!w?.account || w.chainId === src.chain_id) {
    box.hidden = true;
    return;
  }
  const current = chainById(w.chainId)?.name ?? t("unknown_chain", { id: w.chainId });
  const button = el("button", { id: "switch-network", type: "button", text: t("switch_to", { chain: src.name }) });
  button.addEventListener("click", async () => {
    try {
      await w.switchTo(src);
      onWalletChange();
    } catch (err) {
      show("form-error", describe(err), "error");
    }
  });
  box.append(el("p", { text: t("wrong_network", { current, wanted: src.name }) }), button);
  box.hidden = false;
}

// ------------------------------------------------------------------ the form

function renderDirection() {
  const select = $("direction");
  const value = String(state.direction);
  select.replaceChildren();
  state.config.chains.forEach((chain, i) => {
    const other = state.config.chains[1 - i];
    select.append(el("option", { value: String(i), text: `${chain.name} → ${other.name}` }));
  });
  select.value = value;
}

function tokenKey(i) {
  return `${chains().src.chain_id}:${i}`;
}

/** The routed tokens as the source chain's contracts know them. */
async function loadTokens() {
  const { src, dst } = chains();
  const jobs = state.config.tokens.map(async (entry, i) => {
    const key = tokenKey(i);
    if (state.tokens.has(key)) return;
    const srcToken = entry.addresses[String(src.chain_id)];
    const dstToken = entry.addresses[String(dst.chain_id)];
    if (!srcToken || !dstToken) return;
    const info = { index: i, entry, srcToken, dstToken, symbol: entry.symbol, decimals: entry.decimals, problem: null };
    try {
      if (srcToken === NATIVE) {
        info.symbol = src.native_currency.symbol;
        info.decimals = src.native_currency.decimals;
      } else {
        info.symbol = await read.symbol(src.chain_id, srcToken);
        const decimals = Number(await read.decimals(src.chain_id, srcToken));
        if (decimals !== entry.decimals) info.problem = ["err_token_config", {}];
      }
      const routed = src.kind === "ethereum"
        ? await read.sourceOf(src.chain_id, src.bridge, srcToken).then(
            ([chainId, token]) => Number(chainId) === dst.chain_id && token.toLowerCase() === dstToken.toLowerCase(),
          )
        : await read.registered(src.chain_id, src.bridge, srcToken);
      if (!routed) info.problem = ["err_no_route", {}];
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      show("service-error", describe(err), "error");
      return;
    }
    state.tokens.set(key, info);
  });
  await Promise.all(jobs);
  renderTokens();
}

function renderTokens() {
  const select = $("token");
  const previous = select.value;
  select.replaceChildren();
  state.config.tokens.forEach((entry, i) => {
    const info = state.tokens.get(tokenKey(i));
    if (!info) return;
    select.append(el("option", { value: String(i), text: `${info.symbol} (${info.decimals})` }));
  });
  if ([...select.options].some((o) => o.value === previous)) select.value = previous;
}

function selectedToken() {
  return state.tokens.get(tokenKey(Number($("token").value)));
}

let checkTimer = null;
function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => check().catch(reportCheckError), 200);
}

function reportCheckError(err) {
  show("form-error", describe(err), "error");
  $("send").disabled = true;
}

/** Everything the page can tell before sending; fills the form's messages. */
async function check() {
  const seq = ++state.checkSeq;
  const { src, dst } = chains();
  const info = selectedToken();
  const w = state.wallet;
  const result = { ok: false };
  const problems = [];
  let notice = "";
  let warning = "";
  $("balance").textContent = "";
  if (!info) {
    state.check = result;
    return;
  }
  const names = { symbol: info.symbol, from: src.name, to: dst.name };
  if (info.problem) problems.push(t(info.problem[0], { ...names, ...info.problem[1] }));

  const [srcPaused, dstPaused, tokenPaused, routePaused] = await Promise.all([
    read.paused(src.chain_id, src.bridge),
    read.paused(dst.chain_id, dst.bridge),
    read.tokenPaused(src.chain_id, src.bridge, info.srcToken),
    read.routePaused(src.chain_id, src.bridge, dst.chain_id),
  ]);
  if (srcPaused) problems.push(t("err_paused", { chain: src.name }));
  if (tokenPaused) problems.push(t("err_token_paused", names));
  if (routePaused) problems.push(t("err_route_paused", { chain: dst.name }));
  if (dstPaused) warning = t("err_dst_paused", { chain: dst.name });

  let amount = null;
  try {
    amount = parseAmount($("amount").value, info.decimals);
  } catch (err) {
    if (!(err instanceof AmountError)) throw err;
    if (err.code !== "empty" || $("amount").value !== "") {
      problems.push(t(`err_${err.code}`, { symbol: info.symbol, decimals: info.decimals }));
    }
  }
  const max = info.entry.max_per_transfer ? BigInt(info.entry.max_per_transfer) : null;
  if (amount !== null && max !== null && amount > max) {
    problems.push(t("err_policy_max", { amount: formatAmount(max, info.decimals, locale()), symbol: info.symbol }));
  }

  let recipient = $("recipient").value.trim();
  if (!recipient && w?.account) recipient = getAddress(w.account);
  if (recipient && !isAddress(recipient, { strict: true })) {
    problems.push(t("err_recipient"));
    recipient = null;
  } else if (recipient) {
    recipient = getAddress(recipient);
    const code = await read.code(dst.chain_id, recipient);
    if (code && code !== "0x") warning = t("warn_contract", { chain: dst.name, symbol: info.symbol });
  }

  if (amount !== null) {
    const [governor, delay] = await Promise.all([
      read.governor(dst.chain_id, dst.bridge, info.dstToken),
      read.delay(dst.chain_id, dst.bridge),
    ]);
    const large = governor.threshold !== 0n && amount >= governor.threshold;
    if (governor.capacity !== 0n && (large || amount > governor.available)) {
      notice = t("notice_delay", { duration: formatDuration(Number(delay)) });
    }
  }

  let needApprove = false;
  if (w?.account) {
    const owner = getAddress(w.account);
    const [balance, native, gasPrice] = await Promise.all([
      read.balance(src.chain_id, info.srcToken, owner),
      read.balance(src.chain_id, NATIVE, owner),
      read.gasPrice(src.chain_id),
    ]);
    $("balance").textContent = t("balance", { amount: formatAmount(balance, info.decimals, locale()), symbol: info.symbol });
    $("balance").dataset.raw = balance.toString();
    if (amount !== null && amount > balance) {
      problems.push(t("err_balance", { amount: formatAmount(balance, info.decimals, locale()), symbol: info.symbol }));
    }
    if (info.srcToken !== NATIVE && src.kind !== "ethereum" && amount !== null) {
      needApprove = (await read.allowance(src.chain_id, info.srcToken, owner, src.bridge)) < amount;
    }
    const fee = gasPrice * (GAS_BRIDGE + (needApprove ? GAS_APPROVE : 0n));
    const spend = info.srcToken === NATIVE && amount !== null ? amount : 0n;
    if (native < fee + spend && !(info.srcToken === NATIVE && amount !== null && amount > balance)) {
      const cur = src.native_currency;
      problems.push(t("err_gas", { symbol: cur.symbol, amount: formatAmount(fee, cur.decimals, locale()) }));
    }
  }
  if (seq !== state.checkSeq) return; // a newer check runs
  const wrongNetwork = w?.account && w.chainId !== src.chain_id;
  result.ok = problems.length === 0 && amount !== null && !!recipient && !!w?.account && !wrongNetwork;
  Object.assign(result, { amount, recipient, needApprove, info, src, dst });
  state.check = result;
  show("form-error", problems.join(" "), "error");
  show("form-warning", warning, "warning");
  show("notice", notice, "notice");
  $("send").textContent = t(needApprove ? "send_approve" : "send_lock");
  $("send").disabled = !result.ok;
}

async function waitReceipt(chainId, hash) {
  for (;;) {
    const receipt = await read.receipt(chainId, hash);
    if (receipt) return receipt;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function send(event) {
  event.preventDefault();
  await check();
  const c = state.check;
  if (!c?.ok) return;
  const { amount, recipient, info, src, dst } = c;
  const w = state.wallet;
  const call = bridgeCall({ kind: src.kind, bridge: src.bridge, token: info.srcToken, amount, recipient, dstChainId: dst.chain_id });
  $("send").disabled = true;
  show("form-error", "");
  try {
    if (c.needApprove) {
      show("progress", t("approving", { amount: formatAmount(amount, info.decimals, locale()), symbol: info.symbol }));
      const approval = await w.send(approveCall(info.srcToken, src.bridge, amount));
      show("progress", t("waiting_approval"));
      const mined = await waitReceipt(src.chain_id, approval);
      if (mined.status !== "0x1") throw new Error(t("tx_failed", { chain: src.name }));
    }
    const reason = await simulate(src.chain_id, getAddress(w.account), call);
    if (reason) throw new Error(t("err_revert", { reason }));
    show("progress", t("sending"));
    const hash = await w.send(call);
    show("progress", "");
    $("amount").value = "";
    follow(hash);
    waitReceipt(src.chain_id, hash)
      .then((receipt) => {
        if (receipt.status !== "0x1") show("form-error", t("tx_failed", { chain: src.name }), "error");
        scheduleCheck();
      })
      .catch(() => {});
  } catch (err) {
    show("progress", "");
    show("form-error", err instanceof WalletError || err instanceof ServiceError ? describe(err) : err.message, "error");
  } finally {
    scheduleCheck();
  }
}

// ------------------------------------------------------------------ following a transfer

function follow(key) {
  state.following = key;
  if (location.hash !== `#/transfer/${key}`) history.replaceState(null, "", `#/transfer/${key}`);
  $("follow").hidden = false;
  followNow();
}

async function followNow() {
  clearTimeout(state.followTimer);
  const key = state.following;
  if (!key) return;
  let done = false;
  try {
    const answer = await getTransfer(key);
    if (key !== state.following) return;
    show("service-error", "");
    done = await renderTransfer(key, answer);
  } catch (err) {
    show("service-error", describe(err), "error");
  }
  if (!done) state.followTimer = setTimeout(followNow, POLL_MS);
}

function tokenOfTransfer(answer) {
  const src = String(answer.src_chain_id);
  const entry = state.config.tokens.find((tk) => (tk.addresses[src] || "").toLowerCase() === (answer.src_token || "").toLowerCase());
  return entry;
}

async function renderTransfer(key, answer) {
  const list = $("follow-steps");
  const steps = [];
  const stateName = answer ? answer.state : "pending";
  $("follow-state").textContent = t(`state_${stateName}`);
  $("follow-state").dataset.state = stateName;
  if (!answer) {
    steps.push(el("li", { id: "follow-waiting", text: t("waiting_validators") }));
    list.replaceChildren(...steps);
    return false;
  }
  const src = chainById(answer.src_chain_id);
  const dst = chainById(answer.dst_chain_id);
  const entry = tokenOfTransfer(answer);
  const decimals = entry ? entry.decimals : 0;
  steps.push(el("li", { "data-step": "sent" }, `${t("step_sent", { chain: src?.name ?? answer.src_chain_id })}: `, txLink(src, answer.source_tx)));

  const needed = src?.confirmation?.blocks;
  if (needed && answer.source_block != null) {
    let count = needed;
    if (["observed"].includes(stateName)) {
      const head = await read.head(answer.src_chain_id);
      count = Math.max(0, Math.min(needed, head - answer.source_block + 1));
    }
    steps.push(el("li", { id: "follow-confirmations", "data-count": String(count), text: t("step_confirmations", { chain: src.name, count, needed }) }));
  } else if (stateName === "observed") {
    steps.push(el("li", { id: "follow-confirmations", text: t("step_finality", { chain: src?.name }) }));
  }

  const att = answer.attestations || { count: 0, by_jurisdiction: {} };
  const quorum = answer.quorum || {};
  const attItem = el("li", { id: "follow-attestations", "data-count": String(att.count) },
    t("step_attestations", { count: att.count, threshold: quorum.threshold ?? "?", jurisdictions: quorum.min_jurisdictions ?? "?" }));
  const byJ = el("ul");
  for (const [jurisdiction, signers] of Object.entries(att.by_jurisdiction || {})) {
    const who = signers.map((s) => `${s.name || short(s.validator)}${s.at ? ` (${formatDate(s.at)})` : ""}`).join(", ");
    byJ.append(el("li", { "data-jurisdiction": jurisdiction, text: `${jurisdiction}: ${who}` }));
  }
  attItem.append(byJ);
  steps.push(attItem);
  if (quorum.reached) steps.push(el("li", { id: "follow-quorum", text: t("step_quorum") }));
  for (const r of answer.refusals || []) {
    steps.push(el("li", { class: "refusal", text: t("refused_by", { validator: r.name || r.validator, jurisdiction: r.jurisdiction || "", reason: r.reason || r.code || "" }) }));
  }
  if (answer.delayed || answer.executable_at) {
    steps.push(el("li", { id: "follow-delayed", "data-executable-at": String(answer.executable_at ?? ""), text: t("step_delayed", { time: answer.executable_at ? formatDate(answer.executable_at) : "…" }) }));
  }
  let done = DONE.has(stateName);
  if (answer.release?.tx) {
    const releaseChain = chainById(answer.release.chain_id) || dst;
    const link = answer.release.explorer_url
      ? el("a", { href: answer.release.explorer_url, target: "_blank", rel: "noopener", text: short(answer.release.tx) })
      : el("code", { text: answer.release.tx });
    steps.push(el("li", { id: "follow-release", "data-tx": answer.release.tx }, `${t("step_released", { chain: releaseChain?.name })}: `, link));
  }
  if (stateName === "released" && entry && dst) {
    const dstToken = entry.addresses[String(dst.chain_id)];
    const symbol = dstToken === NATIVE ? dst.native_currency.symbol : await read.symbol(dst.chain_id, dstToken);
    const balance = await read.balance(dst.chain_id, dstToken, getAddress(answer.recipient));
    steps.push(el("li", { id: "follow-balance", "data-raw": balance.toString(), text: t("new_balance", { amount: formatAmount(balance, decimals, locale()), symbol, chain: dst.name }) }));
  }
  if (answer.eta?.at && !done) steps.push(el("li", { class: "eta", text: t("eta", { time: formatDate(answer.eta.at) }) }));
  const down = (answer.validators || []).filter((v) => v.answer === "unreachable").length;
  if (down) steps.push(el("li", { class: "unreachable", text: t("unreachable", { count: down, total: answer.validators.length }) }));
  if (key !== state.following) return true;
  list.replaceChildren(...steps);
  $("follow-amount").textContent = entry ? `${formatAmount(BigInt(answer.amount), decimals, locale())} ${entry.symbol}` : answer.amount;
  if (done) refreshHistory();
  return done;
}

// ------------------------------------------------------------------ history

async function refreshHistory() {
  const w = state.wallet;
  const body = $("history-rows");
  if (!w?.account) {
    $("history").hidden = true;
    return;
  }
  $("history").hidden = false;
  let listing;
  try {
    listing = await listTransfers(getAddress(w.account));
  } catch (err) {
    show("service-error", describe(err), "error");
    return;
  }
  const rows = listing.transfers.map((tr) => {
    const entry = tokenOfTransfer(tr);
    const amount = entry ? `${formatAmount(BigInt(tr.amount), entry.decimals, locale())} ${entry.symbol}` : tr.amount;
    const route = `${chainById(tr.src_chain_id)?.name ?? tr.src_chain_id} → ${chainById(tr.dst_chain_id)?.name ?? tr.dst_chain_id}`;
    const link = el("a", { href: `#/transfer/${tr.transfer_id}`, text: t("view") });
    return el("tr", { "data-transfer-id": tr.transfer_id, "data-state": tr.state },
      el("td", { text: tr.observed_at ? formatDate(tr.observed_at) : "" }),
      el("td", { text: amount }),
      el("td", { text: route }),
      el("td", { text: t(`state_${tr.state}`) }),
      el("td", {}, link));
  });
  body.replaceChildren(...rows);
  $("history-empty").hidden = rows.length > 0;
}

// ------------------------------------------------------------------ start

function routeFromHash() {
  const m = /^#\/transfer\/(0x[0-9a-fA-F]{64})$/.exec(location.hash);
  if (m && m[1] !== state.following) follow(m[1]);
}

async function main() {
  setupLanguage();
  try {
    state.config = await getConfig();
  } catch (err) {
    show("service-error", describe(err), "error");
    setTimeout(main, 3000);
    return;
  }
  document.body.dataset.ready = "false";
  applyLanguage();
  discoverWallets((list) => {
    state.wallets = list;
    if (!state.wallet) renderWallet();
  });
  $("direction").addEventListener("change", async () => {
    state.direction = Number($("direction").value);
    renderNetwork();
    await loadTokens();
    scheduleCheck();
  });
  $("token").addEventListener("change", scheduleCheck);
  $("amount").addEventListener("input", scheduleCheck);
  $("recipient").addEventListener("input", scheduleCheck);
  $("max").addEventListener("click", () => {
    const raw = $("balance").dataset.raw;
    const info = selectedToken();
    if (raw && info) {
      $("amount").value = toDecimalString(BigInt(raw), info.decimals);
      scheduleCheck();
    }
  });
  $("bridge-form").addEventListener("submit", (event) => send(event).catch(reportCheckError));
  window.addEventListener("hashchange", routeFromHash);
  routeFromHash();
  await loadTokens();
  scheduleCheck();
  document.body.dataset.ready = "true";
}

main();
