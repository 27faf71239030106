// Amounts as exact integers of the token's smallest unit (BigInt): never a float.

/** Why an amount typed by the user is refused (the page translates the code). */
export class AmountError extends Error {
  constructor(code, detail = {}) {
    super(code);
    this.code = code; // "empty" | "malformed" | "too_many_decimals" | "zero"
    this.detail = detail;
  }
}

const DECIMAL = /^(\d+)(?:\.(\d*))?$|^\.(\d+)$/;

/**
 * "1.5" with 6 decimals -> 1500000n. Accepts digits with one optional "." (a trailing or
 * leading "." too: "1." and ".5"); spaces around are ignored, nothing else is (no sign, no
 * exponent, no grouping). More fraction digits than `decimals` is an error, never rounded.
 */
export function parseAmount(text, decimals) {
  const s = String(text ?? "").trim();
  if (s === "") throw new AmountError("empty");
  const m = DECIMAL.exec(s);
  if (!m) throw new AmountError("malformed");
  const whole = m[1] ?? "0";
  const fraction = (m[1] !== undefined ? m[2] : m[3]) ?? "";
  if (fraction.length > decimals) {
    throw new AmountError("too_many_decimals", { decimals });
  }
  const value = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
  if (value === 0n) throw new AmountError("zero");
  return value;
}

/** 1500000n with 6 decimals -> "1.5" (no grouping, no trailing zeros): exact. */
export function toDecimalString(value, decimals) {
  const negative = value < 0n;
  const v = negative ? -value : value;
  const base = 10n ** BigInt(decimals);
  const whole = (v / base).toString();
  const fraction = decimals > 0 ? (v % base).toString().padStart(decimals, "0").replace(/0+$/, "") : "";
  return (negative ? "-" : "") + whole + (fraction ? "." + fraction : "");
}

/**
 * Exact, per locale: grouping and the decimal sign of `locale`, every significant digit kept
 * (1234567.5 AxHKD is "1,234,567.5" in en and zh-HK; "1.234.567,5" in de).
 */
export function formatAmount(value, decimals, locale) {
  const [whole, fraction] = toDecimalString(value, decimals).split(".");
  const grouped = new Intl.NumberFormat(locale, { useGrouping: true }).format(BigInt(whole));
  if (!fraction) return grouped;
  const sign = new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal");
  return grouped + (sign ? sign.value : ".") + fraction;
}
