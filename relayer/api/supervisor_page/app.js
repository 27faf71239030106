// The supervisor's view: read-only calls to /supervisor/api with the supervisor's token.
// No inline script, no external resource (the page's CSP allows only this origin).
"use strict";

const API = "/supervisor/api";
const KEY = "supervisorToken";
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(KEY); }

// Each load of the page's sections (and each sign-out) starts a new epoch; an answer to a
// request of an older epoch is dropped (Stale), so a slow answer to an earlier filter, or
// to the supervisor who signed out, never overwrites what the page shows now.
let epoch = 0;

class Stale extends Error {}

async function get(path, params) {
  const started = epoch;
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== "" && v != null) query.set(k, v);
  const url = API + path + (query.toString() ? "?" + query : "");
  const response = await fetch(url, { headers: { Authorization: "Bearer " + token() }, cache: "no-store" });
  let body = null;
  try { body = await response.json(); } catch (_) { body = { error: response.statusText }; }
  if (started !== epoch) throw new Stale("an answer to an earlier request");
  if (!response.ok) {
    const err = new Error((body && body.error) || ("HTTP " + response.status));
    err.status = response.status;
    throw err;
  }
  return body;
}

function show(el, text) { el.textContent = text; el.hidden = !text; }

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "—" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function short(hex) { return hex && hex.length > 14 ? hex.slice(0, 10) + "…" + hex.slice(-4) : hex; }

function fill(tbodyId, items, columns, empty) {
  const body = $(tbodyId);
  body.replaceChildren();
  if (!items.length) {
    const row = document.createElement("tr");
    const td = cell(row, empty || "nothing to show", "empty");
    td.colSpan = columns.length;
    body.appendChild(row);
    return;
  }
  for (const item of items) {
    const row = document.createElement("tr");
    for (const column of columns) column(row, item);
    body.appendChild(row);
  }
}

function transferCell(row, id) {
  const td = document.createElement("td");
  const a = document.createElement("a");
  a.className = "tid mono";
  a.textContent = short(id);
  a.title = id;
  a.dataset.id = id;
  a.addEventListener("click", () => detail(id));
  td.appendChild(a);
  row.appendChild(td);
}

async function detail(id) {
  const pre = $("detail");
  try {
    pre.textContent = JSON.stringify(await get("/transfers/" + id), null, 2);
  } catch (err) {
    if (err instanceof Stale) return;
    pre.textContent = err.message;
  }
  pre.hidden = false;
}

function filters() {
  return {
    jurisdiction: $("f-jurisdiction").value,
    from: $("f-from").value,
    to: $("f-to").value,
    limit: $("f-limit").value,
  };
}

// What a section shows besides its table (cleared with it).
const EXTRA = { volumes: ["volumes-pack"], freezes: ["freezes-range"], transfers: ["detail"] };

function clearSection(name) {
  $(name).replaceChildren();
  for (const id of EXTRA[name] || []) $(id).textContent = "";
  if (name === "transfers") $("detail").hidden = true;
}

// Nothing one supervisor saw stays on the page for the next.
function clearAll() {
  for (const name of ["transfers", "refusals", "reviews", "delays", "interventions", "volumes", "freezes", "alerts", "audit"]) {
    clearSection(name);
    show($(name + "-error"), "");
  }
  $("whoami").textContent = "";
  $("validator").textContent = "validator: not signed in";
}

async function section(name, load) {
  const error = $(name + "-error");
  show(error, "");
  try {
    await load();
  } catch (err) {
    if (err instanceof Stale) return; // a newer load of this section answers instead
    clearSection(name);
    show(error, (err.status ? err.status + ": " : "") + err.message);
    if (err.status === 401) signOut(err.message);
  }
}

const transferColumns = [
  (r, t) => transferCell(r, t.transfer_id),
  (r, t) => cell(r, t.status),
  (r, t) => cell(r, t.jurisdictions.join(", ")),
  (r, t) => cell(r, t.direction),
  (r, t) => cell(r, t.amount, "mono"),
  (r, t) => cell(r, t.observed_at),
  (r, t) => cell(r, t.reason),
];

async function loadAll() {
  epoch += 1;
  const f = filters();
  const state = $("f-state").value;
  await Promise.all([
    section("transfers", async () => {
      const data = await get("/transfers", { ...f, state });
      fill("transfers", data.transfers, transferColumns, "no transfer matches");
    }),
    section("refusals", async () => {
      const data = await get("/refusals", f);
      fill("refusals", data.refusals, [
        (r, x) => transferCell(r, x.transfer_id),
        (r, x) => cell(r, short(x.validator), "mono"),
        (r, x) => cell(r, x.jurisdiction),
        (r, x) => cell(r, x.reason),
        (r, x) => cell(r, x.detail),
        (r, x) => cell(r, x.pack_version != null ? x.pack_jurisdiction + " v" + x.pack_version + " (" + short(x.policy) + ")" : short(x.policy), "mono"),
        (r, x) => cell(r, x.at),
      ], "no refusal");
    }),
    section("reviews", async () => {
      const data = await get("/reviews", { limit: f.limit });
      fill("reviews", data.reviews, [
        (r, x) => transferCell(r, x.transfer_id),
        (r, x) => cell(r, x.status),
        (r, x) => cell(r, x.amount, "mono"),
        (r, x) => cell(r, x.decision || "waiting"),
        (r, x) => cell(r, x.reviewer),
        (r, x) => cell(r, x.review_reason),
      ], "no transfer held for review");
    }),
    section("delays", async () => {
      const data = await get("/transfers", { ...f, state: "delayed" });
      fill("delays", data.transfers, [
        (r, t) => transferCell(r, t.transfer_id),
        (r, t) => cell(r, t.jurisdictions.join(", ")),
        (r, t) => cell(r, t.amount, "mono"),
        (r, t) => cell(r, t.executable_at ? new Date(t.executable_at * 1000).toISOString() : null),
      ], "no delayed transfer");
    }),
    section("interventions", async () => {
      const data = await get("/transfers", { ...f, state: "vetoed,cancelled,refunded" });
      fill("interventions", data.transfers, [
        (r, t) => transferCell(r, t.transfer_id),
        (r, t) => cell(r, t.status),
        (r, t) => cell(r, t.jurisdictions.join(", ")),
        (r, t) => cell(r, t.amount, "mono"),
        (r, t) => cell(r, t.reason),
      ], "no veto, cancel or refund");
    }),
    section("volumes", async () => {
      const data = await get("/volumes", { days: 7 });
      $("volumes-pack").textContent = data.pack
        ? "Limits of the " + data.pack.jurisdiction + " policy pack v" + data.pack.version + " (" + short(data.pack.hash) + "), as of " + data.now
        : "No policy pack in force: the operator's local limits only.";
      const rows = [];
      for (const t of data.tokens) {
        for (const d of t.days) if (d.transfers > 0) rows.push({ t, d });
        if (!t.days.some((d) => d.transfers > 0)) rows.push({ t, d: null });
      }
      fill("volumes", rows, [
        (r, x) => cell(r, (x.t.symbol || short(x.t.token)) + " · chain " + x.t.chain_id),
        (r, x) => cell(r, x.d ? x.d.day : "last " + data.days + " days"),
        (r, x) => cell(r, x.d ? x.d.approved : "0", "mono"),
        (r, x) => cell(r, x.d ? x.d.transfers : 0),
        (r, x) => cell(r, x.t.rolling_24h, "mono"),
        (r, x) => cell(r, x.t.limits.max_total_24h || "no limit", "mono"),
        (r, x) => cell(r, x.t.limits.max_per_transfer || x.t.limits.local_max_per_transfer || "no limit", "mono"),
      ], "no token");
    }),
    section("freezes", async () => {
      const data = await get("/freezes");
      $("freezes-range").textContent = "Ethereum blocks " + data.from_block + " to " + data.to_block + ", " + data.tokens_watched.length + " mirror tokens watched; frozen now: " + data.frozen.length;
      fill("freezes", data.events, [
        (r, x) => cell(r, short(x.token), "mono"),
        (r, x) => cell(r, x.account, "mono"),
        (r, x) => cell(r, x.event),
        (r, x) => cell(r, x.block),
      ], "no freeze in this range");
    }),
    section("alerts", async () => {
      const data = await get("/alerts");
      fill("alerts", data.alerts, [
        (r, a) => cell(r, a.id),
        (r, a) => cell(r, a.kind),
        (r, a) => cell(r, a.chain_id),
        (r, a) => cell(r, a.raised_at),
        (r, a) => cell(r, JSON.stringify(a.detail), "mono"),
      ], "no open alert");
    }),
    section("audit", async () => {
      const data = await get("/audit");
      const p = $("audit");
      p.replaceChildren();
      const verdict = document.createElement("span");
      verdict.className = data.intact ? "ok" : "broken";
      verdict.textContent = data.intact ? "Audit chain intact" : "Audit chain BROKEN at link " + data.broken_at + ": " + data.problem;
      p.appendChild(verdict);
      const more = document.createElement("span");
      more.className = "mono";
      more.textContent = data.intact
        ? " · " + data.entries + " entries · head " + data.head + " · validator " + data.validator + " (" + data.jurisdiction + ") · checked " + data.checked_at
        : " · validator " + data.validator;
      p.appendChild(more);
      // every head of this chain the other validators witnessed (signed audit heads)
      const witnesses = data.witnesses || [];
      const seen = document.createElement("div");
      seen.className = witnesses.every((w) => w.extends) ? "ok" : "broken";
      seen.textContent = witnesses.length === 0
        ? "No head of this chain witnessed by another validator yet"
        : witnesses.map((w) => w.extends
            ? "Extends every head " + w.witness + " witnessed (" + w.heads + ", up to seq " + w.highest_seq + ")"
            : "Does NOT extend the head seq " + w.seq + " witnessed by " + w.witness + ": " + w.problem
          ).join(" · ");
      p.appendChild(seen);
    }),
  ]);
}

function options(select, values, first) {
  select.replaceChildren();
  for (const [value, label] of [first, ...values.map((v) => [v, v])]) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    select.appendChild(option);
  }
}

async function start() {
  show($("error"), "");
  let me;
  try {
    me = await get("/me");
  } catch (err) {
    signOut((err.status ? err.status + ": " : "") + err.message);
    return;
  }
  $("login").hidden = true;
  $("main").hidden = false;
  $("whoami").textContent = "Signed in as " + me.supervisor + " · scope: " + me.jurisdictions.join(", ");
  $("validator").textContent = "validator " + me.validator.address + " (" + me.validator.jurisdiction + ")";
  options($("f-jurisdiction"), me.known_jurisdictions, ["", "all in my scope"]);
  options($("f-state"), me.states, ["", "any state"]);
  await loadAll();
}

function signOut(message) {
  epoch += 1;
  sessionStorage.removeItem(KEY);
  clearAll();
  $("main").hidden = true;
  $("login").hidden = false;
  show($("error"), message || "");
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); loadAll(); });
  $("sign-out").addEventListener("click", () => signOut(""));
  if (token()) start();
});
