// The page's words in English and Traditional Chinese (Hong Kong), and dates, durations and
// amounts formatted per locale. Every key exists in both (test/i18n.test.js checks it).

export const LOCALES = { en: "English", "zh-HK": "繁體中文（香港）" };

export const MESSAGES = {
  en: {
    title: "Conflux eSpace ⇄ Ethereum bridge",
    language: "Language",
    connect: "Connect wallet",
    choose_wallet: "Choose a wallet",
    no_wallet: "No wallet found. Install a wallet such as MetaMask, Fluent or Rabby, then reload this page.",
    connected: "{account} on {chain}",
    unknown_chain: "an unknown network ({id})",
    bridge: "Bridge",
    from: "From",
    to: "To",
    token: "Token",
    amount: "Amount",
    max: "Max",
    recipient: "Recipient",
    recipient_hint: "Your own address unless you change it.",
    balance: "Balance: {amount} {symbol}",
    send_lock: "Bridge",
    send_approve: "Approve and bridge",
    wrong_network: "Your wallet is on {current}. This transfer starts on {wanted}.",
    switch_to: "Switch to {chain}",
    err_empty: "Enter an amount.",
    err_malformed: "Enter the amount as digits with at most one decimal point, for example 12.5.",
    err_too_many_decimals: "{symbol} has {decimals} decimals: enter at most {decimals} digits after the point.",
    err_zero: "The amount must be more than zero.",
    err_balance: "Insufficient balance: you have {amount} {symbol}.",
    err_gas: "Not enough {symbol} to pay for gas: about {amount} {symbol} is needed.",
    err_policy_max: "Above the validators' maximum of {amount} {symbol} per transfer.",
    err_recipient: "The recipient is not a valid address (a mixed-case address must match its checksum).",
    warn_contract: "The recipient is a contract on {chain}: make sure it can handle {symbol}.",
    err_paused: "The bridge on {chain} is paused: no transfer can start now.",
    err_dst_paused: "The bridge on {chain} is paused: transfers would wait until it resumes.",
    err_token_paused: "{symbol} is disabled on the bridge for now.",
    err_route_paused: "Transfers to {chain} are paused for now.",
    err_no_route: "{symbol} has no route from {from} to {to}.",
    err_token_config: "{symbol} does not match the bridge's records (decimals differ): it cannot be bridged from this page.",
    err_revert: "The bridge would refuse this transfer ({reason}).",
    notice_delay: "Above the bridge's limit for one transfer: it will be released about {duration} after the validators sign it.",
    rejected: "You rejected the request in your wallet. Nothing was sent.",
    wallet_failed: "The wallet could not do it: {detail}",
    tx_failed: "The transaction failed on {chain}.",
    rpc_down: "The {chain} node does not answer. Retrying…",
    status_down: "The bridge's status service does not answer. Retrying…",
    approving: "Approving exactly {amount} {symbol}…",
    waiting_approval: "Waiting for the approval to be mined…",
    sending: "Confirm the transfer in your wallet…",
    follow: "Your transfer",
    step_sent: "Sent on {chain}",
    step_confirmations: "Confirmations on {chain}: {count} of {needed}",
    step_finality: "Waiting for finality on {chain}",
    step_attestations: "Attestations: {count} of {threshold} (at least {jurisdictions} jurisdictions)",
    step_quorum: "Quorum reached",
    step_delayed: "Delayed by the bridge's limit: executable at {time}",
    step_released: "Released on {chain}",
    new_balance: "The recipient now holds {amount} {symbol} on {chain}.",
    waiting_validators: "Waiting for the validators to see the transaction…",
    eta: "Expected by {time}",
    refused_by: "{validator} ({jurisdiction}) refused: {reason}",
    unreachable: "{count} of {total} validators did not answer.",
    history: "Your transfers",
    history_empty: "No transfers yet.",
    col_time: "Time",
    col_amount: "Amount",
    col_route: "Route",
    col_state: "State",
    view: "View",
    state_observed: "Seen by the validators",
    state_confirmed: "Confirmed on the source chain",
    state_attested: "Being signed",
    state_quorum: "Quorum reached",
    state_submitted: "Being released",
    state_delayed: "Delayed",
    state_released: "Released",
    state_review: "Under review",
    state_refused: "Refused",
    state_vetoed: "Vetoed",
    state_cancelled: "Cancelled",
    state_refunded: "Refunded",
    state_orphaned: "Dropped by a reorganisation",
    state_conflicting: "Conflicting reports",
    state_pending: "Waiting",
  },
  "zh-HK": {
    title: "Conflux eSpace ⇄ 以太坊 跨鏈橋",
    language: "語言",
    connect: "連接錢包",
    choose_wallet: "選擇錢包",
    no_wallet: "找不到錢包。請安裝 MetaMask、Fluent 或 Rabby 等錢包，然後重新載入此頁。",
    connected: "{account}（{chain}）",
    unknown_chain: "未知網絡（{id}）",
    bridge: "跨鏈轉賬",
    from: "由",
    to: "至",
    token: "代幣",
    amount: "數額",
    max: "最大",
    recipient: "收款人",
    recipient_hint: "預設為你自己的地址。",
    balance: "餘額：{amount} {symbol}",
    send_lock: "跨鏈轉賬",
    send_approve: "授權並跨鏈轉賬",
    wrong_network: "你的錢包現時在 {current}。此轉賬須由 {wanted} 開始。",
    switch_to: "切換至 {chain}",
    err_empty: "請輸入數額。",
    err_malformed: "請以數字輸入數額，最多一個小數點，例如 12.5。",
    err_too_many_decimals: "{symbol} 有 {decimals} 位小數：小數點後最多輸入 {decimals} 位數字。",
    err_zero: "數額必須大於零。",
    err_balance: "餘額不足：你有 {amount} {symbol}。",
    err_gas: "{symbol} 不足以支付手續費：約需 {amount} {symbol}。",
    err_policy_max: "超出驗證者每筆轉賬上限 {amount} {symbol}。",
    err_recipient: "收款人地址無效（大小寫混合的地址必須符合其校驗碼）。",
    warn_contract: "收款人是 {chain} 上的合約：請確定它能處理 {symbol}。",
    err_paused: "{chain} 上的跨鏈橋已暫停：現時不能開始轉賬。",
    err_dst_paused: "{chain} 上的跨鏈橋已暫停：轉賬會等到恢復後才完成。",
    err_token_paused: "{symbol} 暫時在跨鏈橋上停用。",
    err_route_paused: "往 {chain} 的轉賬暫時停止。",
    err_no_route: "{symbol} 沒有由 {from} 至 {to} 的路線。",
    err_token_config: "{symbol} 與跨鏈橋的紀錄不符（小數位數不同）：不能在此頁轉賬。",
    err_revert: "跨鏈橋會拒絕此轉賬（{reason}）。",
    notice_delay: "超出跨鏈橋單筆轉賬限額：驗證者簽署後約 {duration} 才會發放。",
    rejected: "你已在錢包中拒絕請求。沒有發送任何交易。",
    wallet_failed: "錢包未能完成：{detail}",
    tx_failed: "交易在 {chain} 上失敗。",
    rpc_down: "{chain} 節點沒有回應。正在重試…",
    status_down: "跨鏈橋狀態服務沒有回應。正在重試…",
    approving: "正在授權剛好 {amount} {symbol}…",
    waiting_approval: "正在等待授權交易上鏈…",
    sending: "請在錢包中確認轉賬…",
    follow: "你的轉賬",
    step_sent: "已在 {chain} 發送",
    step_confirmations: "{chain} 確認數：{count} / {needed}",
    step_finality: "正在等待 {chain} 最終確認",
    step_attestations: "簽署：{count} / {threshold}（最少 {jurisdictions} 個司法管轄區）",
    step_quorum: "已達法定人數",
    step_delayed: "因跨鏈橋限額而延遲：可於 {time} 執行",
    step_released: "已在 {chain} 發放",
    new_balance: "收款人現於 {chain} 持有 {amount} {symbol}。",
    waiting_validators: "正在等待驗證者看到此交易…",
    eta: "預計於 {time} 完成",
    refused_by: "{validator}（{jurisdiction}）拒絕：{reason}",
    unreachable: "{total} 個驗證者中有 {count} 個沒有回應。",
    history: "你的轉賬",
    history_empty: "暫時沒有轉賬。",
    col_time: "時間",
    col_amount: "數額",
    col_route: "路線",
    col_state: "狀態",
    view: "查看",
    state_observed: "驗證者已看到",
    state_confirmed: "來源鏈已確認",
    state_attested: "簽署中",
    state_quorum: "已達法定人數",
    state_submitted: "發放中",
    state_delayed: "已延遲",
    state_released: "已發放",
    state_review: "審核中",
    state_refused: "已拒絕",
    state_vetoed: "已否決",
    state_cancelled: "已取消",
    state_refunded: "已退款",
    state_orphaned: "因鏈重組而失效",
    state_conflicting: "報告互相矛盾",
    state_pending: "等待中",
  },
};

let current = "en";

export function chooseLocale(saved, languages) {
  if (saved && MESSAGES[saved]) return saved;
  for (const lang of languages || []) {
    if (/^zh-(HK|TW|MO|Hant)/i.test(lang)) return "zh-HK";
    if (/^en/i.test(lang)) return "en";
  }
  return "en";
}

export function setLocale(locale) {
  current = MESSAGES[locale] ? locale : "en";
}

export function locale() {
  return current;
}

/** The message `key` in the current locale with `{name}` filled from `vars`. */
export function t(key, vars = {}) {
  const text = MESSAGES[current][key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** A date (unix seconds, ms Date or ISO string) in the locale, with the time zone's time. */
export function formatDate(value, loc = current) {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return new Intl.DateTimeFormat(loc, { dateStyle: "medium", timeStyle: "medium" }).format(date);
}

/** 90061 -> "1 day, 1 hour, 1 minute" in the locale (seconds under a minute shown as such). */
export function formatDuration(seconds, loc = current) {
  const s = Math.max(0, Math.round(Number(seconds)));
  const parts = [];
  const units = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1],
  ];
  let rest = s;
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 && parts.length < 2) parts.push(new Intl.NumberFormat(loc, { style: "unit", unit, unitDisplay: "long" }).format(n));
  }
  if (parts.length === 0) parts.push(new Intl.NumberFormat(loc, { style: "unit", unit: "second", unitDisplay: "long" }).format(0));
  return new Intl.ListFormat(loc, { style: "long", type: "unit" }).format(parts);
}
