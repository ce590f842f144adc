import { describe, expect, it } from "vitest";
import { checkWatermarkSettings, detectWatermark, isGreen, WATERMARK_Z_THRESHOLD } from "./index.js";

// The rule is a contract (text watermarked today must be detectable tomorrow): these memberships
// were computed once from the rule as docs/llm-service.md writes it (an independent Python
// transcription agrees) and must never change.
const PINNED: ReadonlyArray<[previous: number, token: number, atHalf: boolean, atQuarter: boolean]> = [
  [0, 0, true, false],
  [1, 2, true, true],
  [2, 1, true, false],
  [17, 300, true, true],
  [300, 17, true, true],
  [31999, 5, true, false],
  [5, 31999, true, false],
  [4294967295, 0, false, false],
  [100, 101, false, false],
  [101, 100, true, false],
];

describe("the green-list rule", () => {
  it("gives the pinned memberships, in order (previous, token) and for each gamma", () => {
    for (const [previous, token, atHalf, atQuarter] of PINNED) {
      expect(isGreen(previous, token, 0.5), `${previous}→${token} at 0.5`).toBe(atHalf);
      expect(isGreen(previous, token, 0.25), `${previous}→${token} at 0.25`).toBe(atQuarter);
    }
  });

  it("makes a fraction gamma of the pairs green, and a smaller gamma's list part of a larger one's", () => {
    let half = 0;
    let quarter = 0;
    const n = 20_000;
    for (let index = 0; index < n; index += 1) {
      const previous = (index * 7919) % 32000;
      const token = (index * 104729 + 13) % 32000;
      const inHalf = isGreen(previous, token, 0.5);
      const inQuarter = isGreen(previous, token, 0.25);
      if (inQuarter) expect(inHalf).toBe(true);
      half += inHalf ? 1 : 0;
      quarter += inQuarter ? 1 : 0;
    }
    // 5 standard deviations of a binomial(20,000, γ): ±354 at 0.5, ±306 at 0.25.
    expect(Math.abs(half - n / 2)).toBeLessThan(5 * Math.sqrt(n * 0.25));
    expect(Math.abs(quarter - n / 4)).toBeLessThan(5 * Math.sqrt(n * 0.1875));
  });
});

describe("detectWatermark", () => {
  it("scores each token against the one before it: known ids, known counts", () => {
    const ids = [1, 2, 1, 2, 1];
    // (1,2) green, (2,1) green at 0.5: every pair is green; two distinct pairs.
    expect(detectWatermark(ids, { countRepeats: true })).toMatchObject({ tokens: 4, green: 4, greenFraction: 1 });
    const distinct = detectWatermark(ids);
    expect(distinct).toMatchObject({ tokens: 2, green: 2 });
    // z = (2 − 0.5·2) / √(2·0.5·0.5) = √2.
    expect(distinct.z).toBeCloseTo(Math.SQRT2, 12);
    // At 0.25: (1,2) green, (2,1) not: z = (2 − 0.25·4) / √(4·0.25·0.75).
    const quarter = detectWatermark(ids, { gamma: 0.25, countRepeats: true });
    expect(quarter).toMatchObject({ tokens: 4, green: 2, greenFraction: 0.5 });
    expect(quarter.z).toBeCloseTo(1 / Math.sqrt(0.75), 12);
  });

  it("calls z ≥ 4 watermarked", () => {
    // 20 distinct all-green pairs: z = √20 ≈ 4.47. Built from the rule itself.
    const ids = [0];
    while (ids.length < 21) {
      const previous = ids.at(-1) as number;
      let token = 0;
      while (!isGreen(previous, token, 0.5) || ids.includes(token)) token += 1;
      ids.push(token);
    }
    const result = detectWatermark(ids);
    expect(result).toMatchObject({ tokens: 20, green: 20, watermarked: true });
    expect(result.z).toBeGreaterThanOrEqual(WATERMARK_Z_THRESHOLD);
    expect(detectWatermark(ids.slice(0, 16)).watermarked).toBe(false); // √15 ≈ 3.87
  });

  it("scores nothing in fewer than two tokens", () => {
    expect(detectWatermark([])).toEqual({ tokens: 0, green: 0, greenFraction: 0, z: 0, watermarked: false });
    expect(detectWatermark([7])).toMatchObject({ tokens: 0, z: 0 });
  });

  it("refuses a gamma outside (0, 1) with a validation error", () => {
    for (const gamma of [0, 1, -0.5, 1.5, Number.NaN]) {
      expect(() => detectWatermark([1, 2, 3], { gamma }), String(gamma)).toThrow(/gamma must be > 0 and < 1/);
    }
  });
});

describe("checkWatermarkSettings", () => {
  it("takes 0 < gamma < 1 and a finite delta ≥ 0, and names the flags otherwise", () => {
    expect(checkWatermarkSettings({ gamma: 0.5, delta: 0 })).toEqual({ gamma: 0.5, delta: 0 });
    for (const settings of [
      { gamma: 0, delta: 2 },
      { gamma: 1, delta: 2 },
      { gamma: 0.5, delta: -1 },
      { gamma: 0.5, delta: Number.POSITIVE_INFINITY },
      { gamma: Number.NaN, delta: 2 },
    ]) {
      expect(() => checkWatermarkSettings(settings), JSON.stringify(settings)).toThrow(
        /--watermark-gamma, --watermark-delta/,
      );
    }
  });
});
