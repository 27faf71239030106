import { test } from "node:test";
import assert from "node:assert/strict";
import { MESSAGES, chooseLocale, formatDuration, setLocale, t } from "../src/i18n.js";

test("both languages have every message, with the same placeholders", () => {
  const en = MESSAGES.en;
  const zh = MESSAGES["zh-HK"];
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(en)) assert.deepEqual(holes(zh[key]), holes(en[key]), key);
});

test("messages fill their placeholders", () => {
  setLocale("zh-HK");
  assert.equal(t("err_balance", { amount: "1.5", symbol: "AxHKD" }), "餘額不足：你有 1.5 AxHKD。");
  setLocale("en");
  assert.equal(t("switch_to", { chain: "Ethereum" }), "Switch to Ethereum");
});

test("the browser's languages choose the locale, a saved choice wins", () => {
  assert.equal(chooseLocale(null, ["zh-HK", "en"]), "zh-HK");
  assert.equal(chooseLocale(null, ["zh-TW"]), "zh-HK");
  assert.equal(chooseLocale(null, ["fr", "en-GB"]), "en");
  assert.equal(chooseLocale(null, ["fr"]), "en");
  assert.equal(chooseLocale("zh-HK", ["en"]), "zh-HK");
  assert.equal(chooseLocale("xx", ["en"]), "en");
});

test("durations read naturally in both languages", () => {
  assert.equal(formatDuration(86400, "en"), "1 day");
  assert.equal(formatDuration(90061, "en"), "1 day, 1 hour");
  assert.equal(formatDuration(5, "en"), "5 seconds");
  assert.match(formatDuration(3600, "zh-HK"), /1\s*小時/);
});
