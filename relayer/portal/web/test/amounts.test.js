import { test } from "node:test";
import assert from "node:assert/strict";
import { AmountError, formatAmount, parseAmount, toDecimalString } from "../src/amounts.js";

test("decimal strings convert exactly to the smallest unit", () => {
  assert.equal(parseAmount("1.5", 6), 1_500_000n);
  assert.equal(parseAmount(" 12 ", 6), 12_000_000n);
  assert.equal(parseAmount("0.000001", 6), 1n);
  assert.equal(parseAmount(".5", 18), 500_000_000_000_000_000n);
  assert.equal(parseAmount("1.", 18), 10n ** 18n);
  // a float would lose these digits
  assert.equal(parseAmount("123456789.123456789123456789", 18), 123456789123456789123456789n);
  assert.equal(parseAmount("0.1", 18) + parseAmount("0.2", 18), parseAmount("0.3", 18));
  assert.equal(parseAmount("7", 0), 7n);
});

test("bad input is refused with a reason, never rounded", () => {
  const code = (text, decimals) => {
    try {
      parseAmount(text, decimals);
    } catch (err) {
      assert.ok(err instanceof AmountError);
      return err.code;
    }
    return "accepted";
  };
  assert.equal(code("1.0000001", 6), "too_many_decimals");
  assert.equal(code("0.5", 0), "too_many_decimals");
  assert.equal(code("", 6), "empty");
  assert.equal(code("   ", 6), "empty");
  for (const bad of ["-1", "1e6", "1,000", "0x10", "1.2.3", ".", "abc", "1 000", "+1", "Infinity", "NaN"]) {
    assert.equal(code(bad, 6), "malformed", bad);
  }
  assert.equal(code("0", 6), "zero");
  assert.equal(code("0.000000", 6), "zero");
});

test("round trip: every value formats and parses back to itself", () => {
  for (const decimals of [0, 6, 18]) {
    for (let i = 0; i < 500; i++) {
      const digits = 1 + Math.floor(Math.random() * 30);
      let s = String(1 + Math.floor(Math.random() * 9));
      for (let d = 1; d < digits; d++) s += Math.floor(Math.random() * 10);
      const value = BigInt(s);
      assert.equal(parseAmount(toDecimalString(value, decimals), decimals), value);
    }
  }
});

test("formatting per locale keeps every digit", () => {
  assert.equal(formatAmount(1_234_567_500_000n, 6, "en"), "1,234,567.5");
  assert.equal(formatAmount(1_234_567_500_000n, 6, "zh-HK"), "1,234,567.5");
  assert.equal(formatAmount(1_234_567_500_000n, 6, "de"), "1.234.567,5");
  assert.equal(formatAmount(1n, 18, "en"), "0.000000000000000001");
  assert.equal(formatAmount(0n, 6, "en"), "0");
  assert.equal(formatAmount(10n ** 30n, 6, "en"), "1,000,000,000,000,000,000,000,000");
});
