/**
 * Numbers under JSON-schema bounds as GBNF. Integers are safe integers (|n| ≤ 2^53 − 1) in plain
 * decimal, without leading zeros; a bounded `number` has at most 16 integer and 16 fraction digits
 * and no exponent. Bounds are exact: they are read from the shortest decimal form of the bound (what
 * a validator compares against after parsing), so every written number parses to a double that a
 * validator finds within them — an exclusive bound is moved to the nearest decimal whose double is
 * strictly beyond it. `multipleOf` an integer k is a remainder automaton over the digits (k ≤ 100),
 * or the multiples spelled out when the bounds leave at most 1,000 of them.
 */
import { unsupported } from "./schema-error.js";

/** Adds a rule with this body and returns its name. */
export type AddRule = (body: string) => string;

const FRACTION_DIGITS = 16;
const SCALE = 10n ** BigInt(FRACTION_DIGITS);
export const MAX_INTEGER = BigInt(Number.MAX_SAFE_INTEGER);
/** Largest bounded `number`: 16 integer digits and 16 fraction digits, in units of 10^-16. */
const MAX_NUMBER = 10n ** 16n * SCALE - 1n;
/** Widest modulus enforced digit by digit (the automaton has 16 × k rules). */
const MAX_AUTOMATON_MODULUS = 100n;
/** Most multiples spelled out one by one. */
const MAX_ENUMERATED = 1000n;

const NUMERIC_KEYWORDS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"] as const;

/** x = mantissa × 10^exponent exactly, for x's shortest decimal form. */
function decimalOf(x: number): { mantissa: bigint; exponent: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(String(x));
  if (match === null) throw unsupported("minimum", `${x} is not a finite number`);
  const fraction = match[3] ?? "";
  const mantissa = BigInt(`${match[2]}${fraction}`) * (match[1] === "-" ? -1n : 1n);
  return { mantissa, exponent: Number(match[4] ?? 0) - fraction.length };
}

function floorDiv(a: bigint, d: bigint): bigint {
  return a >= 0n ? a / d : -((-a + d - 1n) / d);
}

/** x × 10^digits, rounded down or up to an integer. */
function scaled(x: number, digits: number, round: "floor" | "ceil"): bigint {
  const { mantissa, exponent } = decimalOf(x);
  const shift = exponent + digits;
  if (shift >= 0) return mantissa * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  return round === "floor" ? floorDiv(mantissa, divisor) : -floorDiv(-mantissa, divisor);
}

/** Decimal text of value × 10^-digits, without trailing fraction zeros. */
export function decimalText(value: bigint, digits: number): string {
  const sign = value < 0n ? "-" : "";
  const magnitude = value < 0n ? -value : value;
  const unit = 10n ** BigInt(digits);
  const fraction = (magnitude % unit).toString().padStart(digits, "0").replace(/0+$/, "");
  return `${sign}${magnitude / unit}${fraction === "" ? "" : `.${fraction}`}`;
}

/** The grid point (units of 10^-digits) nearest beyond x whose parsed double is strictly beyond x. */
function strictlyBeyond(x: number, digits: number, direction: 1 | -1): bigint {
  let candidate = 0n;
  for (let precision = digits; precision >= 0; precision--) {
    const unit = 10n ** BigInt(digits - precision);
    const step = direction === 1 ? scaled(x, precision, "floor") + 1n : -(-scaled(x, precision, "ceil") + 1n);
    candidate = step * unit;
    const parsed = Number(decimalText(candidate, digits));
    if (direction === 1 ? parsed > x : parsed < x) return candidate;
  }
  return candidate;
}

function bound(schema: Record<string, unknown>, keyword: string): number | undefined {
  const value = schema[keyword];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw unsupported(keyword, "it must be a number (the draft-04 boolean form is not supported)");
  }
  return value;
}

/** [low, high] in units of 10^-digits, clamped to ±cap. */
function boundsOf(schema: Record<string, unknown>, digits: number, cap: bigint): [bigint, bigint] {
  let low = -cap;
  let high = cap;
  const minimum = bound(schema, "minimum");
  const maximum = bound(schema, "maximum");
  const exclusiveMinimum = bound(schema, "exclusiveMinimum");
  const exclusiveMaximum = bound(schema, "exclusiveMaximum");
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  if (minimum !== undefined) low = max(low, scaled(minimum, digits, "ceil"));
  if (exclusiveMinimum !== undefined) low = max(low, strictlyBeyond(exclusiveMinimum, digits, 1));
  if (maximum !== undefined) high = min(high, scaled(maximum, digits, "floor"));
  if (exclusiveMaximum !== undefined) high = min(high, strictlyBeyond(exclusiveMaximum, digits, -1));
  return [low, high];
}

function boundKeyword(schema: Record<string, unknown>): string {
  return NUMERIC_KEYWORDS.find((keyword) => schema[keyword] !== undefined) ?? "minimum";
}

/** GBNF for the integers (or numbers) the schema's type and numeric keywords admit. */
export function numericGrammar(schema: Record<string, unknown>, type: "integer" | "number", add: AddRule): string {
  const multipleOf = bound(schema, "multipleOf");
  if (multipleOf !== undefined && multipleOf <= 0) throw unsupported("multipleOf", "it must be greater than 0");
  const integral = type === "integer" || (multipleOf !== undefined && Number.isInteger(multipleOf));
  const empty = () =>
    unsupported(
      boundKeyword(schema),
      `no ${type} the grammar can write satisfies the bounds (integers are safe integers, numbers have at most 16 digits before and after the point)`,
    );
  if (multipleOf !== undefined && !Number.isInteger(multipleOf))
    return enumeratedMultiples(schema, type, multipleOf, add);
  if (integral) {
    const [low, high] = boundsOf(schema, 0, MAX_INTEGER);
    const modulus = BigInt(multipleOf ?? 1);
    if (low > high) throw empty();
    if (modulus > MAX_AUTOMATON_MODULUS) {
      if ((high - low) / modulus > MAX_ENUMERATED) {
        throw unsupported(
          "multipleOf",
          `an integer multipleOf above ${MAX_AUTOMATON_MODULUS} needs bounds that leave at most ${MAX_ENUMERATED} multiples`,
        );
      }
      return enumeratedMultiples(schema, type, multipleOf ?? 1, add);
    }
    const grammar = new IntegerGrammar(modulus, add).range(low, high);
    if (grammar === null) throw empty();
    return add(grammar);
  }
  if (NUMERIC_KEYWORDS.every((keyword) => schema[keyword] === undefined)) return "number";
  const [low, high] = boundsOf(schema, FRACTION_DIGITS, MAX_NUMBER);
  if (low > high) throw empty();
  return add(new DecimalGrammar(add).range(low, high));
}

/** Multiples of a non-integer (or large) multipleOf within bounds, each checked the way ajv checks. */
function enumeratedMultiples(schema: Record<string, unknown>, type: string, step: number, add: AddRule): string {
  if (
    ["minimum", "exclusiveMinimum"].every((k) => schema[k] === undefined) ||
    ["maximum", "exclusiveMaximum"].every((k) => schema[k] === undefined)
  ) {
    throw unsupported("multipleOf", "a non-integer multipleOf is enforced only between a lower and an upper bound");
  }
  const [low, high] = boundsOf(schema, FRACTION_DIGITS, MAX_NUMBER);
  const unit = scaled(step, FRACTION_DIGITS, "floor");
  if (unit !== scaled(step, FRACTION_DIGITS, "ceil") || unit === 0n) {
    throw unsupported("multipleOf", "it must have at most 16 decimals");
  }
  const first = -floorDiv(-low, unit);
  const last = floorDiv(high, unit);
  if (last - first + 1n > MAX_ENUMERATED) {
    throw unsupported(
      "multipleOf",
      `a non-integer multipleOf is enforced when the bounds leave at most ${MAX_ENUMERATED} multiples`,
    );
  }
  const values: string[] = [];
  for (let index = first; index <= last; index++) {
    const text = decimalText(index * unit, FRACTION_DIGITS);
    const value = Number(text);
    const quotient = value / step;
    if (quotient !== Number.parseInt(String(quotient), 10)) continue; // ajv's own check
    if (type === "integer" && !Number.isInteger(value)) continue;
    values.push(`"${text}"`);
  }
  if (values.length === 0) throw unsupported("multipleOf", "no multiple lies within the bounds");
  return add(values.join(" | "));
}

/** Decimal integers in a range whose value is a multiple of `modulus`, as GBNF. */
class IntegerGrammar {
  private readonly free = new Map<string, string | null>();
  constructor(
    private readonly modulus: bigint,
    private readonly add: AddRule,
  ) {}

  range(low: bigint, high: bigint): string | null {
    const alternatives: string[] = [];
    if (high >= 0n) {
      const natural = this.naturals(low > 0n ? low : 0n, high);
      if (natural !== null) alternatives.push(natural);
    }
    if (low < 0n) {
      const magnitude = this.naturals(high < -1n ? -high : 1n, -low);
      if (magnitude !== null) alternatives.push(`"-" (${magnitude})`);
    }
    return alternatives.length === 0 ? null : alternatives.join(" | ");
  }

  /** Naturals in [low, high] without leading zeros. */
  naturals(low: bigint, high: bigint): string | null {
    if (low > high) return null;
    const alternatives: string[] = [];
    const lowText = low.toString();
    const highText = high.toString();
    for (let length = lowText.length; length <= highText.length; length++) {
      const from = length === lowText.length ? lowText : `1${"0".repeat(length - 1)}`;
      const to = length === highText.length ? highText : "9".repeat(length);
      // Every length strictly between the bounds' lengths at once: [1-9] [0-9]{a,b}.
      const lastFull = highText.length - 1;
      if (this.modulus === 1n && length > lowText.length && length < lastFull) {
        alternatives.push(`[1-9] [0-9]{${length - 1},${lastFull - 1}}`);
        length = lastFull;
        continue;
      }
      const body = this.fixed(from, to, 0n);
      if (body !== null) alternatives.push(`(${body})`);
    }
    return alternatives.length === 0 ? null : alternatives.join(" | ");
  }

  /** Digit strings of from's length in [from, to] that bring the remainder `rest` to 0. */
  private fixed(from: string, to: string, rest: bigint): string | null {
    if (from.length === 0) return rest === 0n ? '""' : null;
    if (/^0*$/.test(from) && /^9*$/.test(to)) return this.anyDigits(from.length, rest);
    if (this.modulus === 1n && /^.0*$/.test(from) && /^.9*$/.test(to)) {
      return `[${from[0]}-${to[0]}]${from.length > 1 ? ` [0-9]{${from.length - 1}}` : ""}`;
    }
    const low = Number(from[0]);
    const high = Number(to[0]);
    const alternatives: string[] = [];
    const next = (digit: number) => (rest * 10n + BigInt(digit)) % this.modulus;
    const push = (digit: number, body: string | null) => {
      if (body !== null) alternatives.push(`"${digit}" ${body === '""' ? "" : `(${body})`}`.trim());
    };
    if (low === high) {
      push(low, this.fixed(from.slice(1), to.slice(1), next(low)));
    } else {
      const tail = from.length - 1;
      push(low, this.fixed(from.slice(1), "9".repeat(tail), next(low)));
      if (this.modulus === 1n && high - low > 1) {
        alternatives.push(`[${low + 1}-${high - 1}]${tail > 0 ? ` [0-9]{${tail}}` : ""}`);
      } else {
        for (let digit = low + 1; digit < high; digit++) push(digit, this.anyDigits(tail, next(digit)));
      }
      push(high, this.fixed("0".repeat(tail), to.slice(1), next(high)));
    }
    return alternatives.length === 0 ? null : alternatives.join(" | ");
  }

  /** Any `length` digits that bring the remainder `rest` to 0 (a shared rule per length and remainder). */
  private anyDigits(length: number, rest: bigint): string | null {
    if (length === 0) return rest === 0n ? '""' : null;
    if (this.modulus === 1n) return `[0-9]{${length}}`;
    const key = `${length}:${rest}`;
    if (this.free.has(key)) return this.free.get(key) ?? null;
    const alternatives: string[] = [];
    for (let digit = 0; digit <= 9; digit++) {
      const body = this.anyDigits(length - 1, (rest * 10n + BigInt(digit)) % this.modulus);
      if (body !== null) alternatives.push(body === '""' ? `"${digit}"` : `"${digit}" ${body}`);
    }
    const name = alternatives.length === 0 ? null : this.add(alternatives.join(" | "));
    this.free.set(key, name);
    return name;
  }
}

/** Decimals (units of 10^-16) in a range, written `int(.frac)?` with at most 16 fraction digits. */
class DecimalGrammar {
  private readonly integers: IntegerGrammar;
  constructor(add: AddRule) {
    this.integers = new IntegerGrammar(1n, add);
  }

  range(low: bigint, high: bigint): string {
    const alternatives: string[] = [];
    if (high >= 0n) alternatives.push(this.nonNegative(low > 0n ? low : 0n, high));
    if (low < 0n) alternatives.push(`"-" (${this.nonNegative(high < -1n ? -high : 1n, -low)})`);
    return alternatives.join(" | ");
  }

  private nonNegative(low: bigint, high: bigint): string {
    const lowInteger = low / SCALE;
    const highInteger = high / SCALE;
    const fraction = (value: bigint) => (value % SCALE).toString().padStart(FRACTION_DIGITS, "0");
    if (lowInteger === highInteger) return `"${lowInteger}" ${this.fraction(fraction(low), fraction(high))}`;
    const alternatives = [`"${lowInteger}" ${this.fraction(fraction(low), null)}`];
    const middle = this.integers.naturals(lowInteger + 1n, highInteger - 1n);
    if (middle !== null) alternatives.push(`(${middle}) ${this.fraction(null, null)}`);
    alternatives.push(`"${highInteger}" ${this.fraction(null, fraction(high))}`);
    return alternatives.map((alternative) => `(${alternative})`).join(" | ");
  }

  /** Nothing, or "." and 1–16 digits, whose value (zero-padded) lies in [low, high]. */
  private fraction(low: string | null, high: string | null): string {
    const digits = this.digits(low, high, FRACTION_DIGITS, true);
    const none = low === null || /^0*$/.test(low);
    if (digits === null) return none ? "" : '""';
    return none ? `("." (${digits}))?` : `"." (${digits})`;
  }

  /** Digit strings of length (nonEmpty ? 1 : 0)..length whose zero-padded value lies in [low, high]. */
  private digits(low: string | null, high: string | null, length: number, nonEmpty: boolean): string | null {
    const lowIsZero = low === null || /^0*$/.test(low);
    if (lowIsZero && (high === null || /^9*$/.test(high))) {
      if (length === 0) return nonEmpty ? null : '""';
      return `[0-9]{${nonEmpty ? 1 : 0},${length}}`;
    }
    const alternatives: string[] = [];
    if (!nonEmpty && lowIsZero) alternatives.push('""');
    if (length > 0) {
      const first = low === null ? 0 : Number(low[0]);
      const last = high === null ? 9 : Number(high[0]);
      for (let digit = first; digit <= last; digit++) {
        const restLow = digit === first && low !== null ? low.slice(1) : null;
        const restHigh = digit === last && high !== null ? high.slice(1) : null;
        const rest = this.digits(restLow, restHigh, length - 1, false);
        if (rest === null) continue;
        alternatives.push(rest === '""' ? `"${digit}"` : `"${digit}" (${rest})`);
      }
    }
    return alternatives.length === 0 ? null : alternatives.join(" | ");
  }
}
