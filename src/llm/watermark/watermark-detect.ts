/**
 * Detecting the watermark (watermark-rule.ts) in token ids: each token after the first is scored
 * against its previous token; without the watermark a fraction gamma of them is green by chance,
 * so z = (green − γT) / √(T γ (1 − γ)) over T scored tokens is about standard normal, and a large
 * z says the text was generated with the watermark (Kirchenbauer et al. 2023, §4).
 */
import { AppError } from "../../errors/index.js";
import { DEFAULT_WATERMARK_GAMMA, isGreen, WATERMARK_KEY } from "./watermark-rule.js";

/** z at or above which a text is called watermarked (the paper's threshold). */
export const WATERMARK_Z_THRESHOLD = 4;

export type WatermarkDetection = {
  /**
   * Tokens scored: every token but the first (which has no previous token in the text), or with
   * the default `countRepeats: false` each distinct (previous, token) pair once.
   */
  tokens: number;
  /** Of those, the green ones. */
  green: number;
  /** green / tokens (0 when nothing was scored). */
  greenFraction: number;
  /** The z-score of `green` against chance (0 when nothing was scored). */
  z: number;
  /** z ≥ WATERMARK_Z_THRESHOLD. */
  watermarked: boolean;
};

export type WatermarkDetectOptions = {
  /** The green-list fraction the text was generated with; default 0.5 (TGI's). */
  gamma?: number;
  key?: bigint;
  /** Score every position, repeated (previous, token) pairs included; default false. */
  countRepeats?: boolean;
};

function assertWatermarkGamma(gamma: number): void {
  if (!(gamma > 0 && gamma < 1)) {
    throw new AppError("validation_error", `gamma must be > 0 and < 1 (given ${gamma})`);
  }
}

export function detectWatermark(ids: readonly number[], options: WatermarkDetectOptions = {}): WatermarkDetection {
  const gamma = options.gamma ?? DEFAULT_WATERMARK_GAMMA;
  assertWatermarkGamma(gamma);
  const key = options.key ?? WATERMARK_KEY;
  const seen = new Set<string>();
  let tokens = 0;
  let green = 0;
  for (let index = 1; index < ids.length; index += 1) {
    const previous = ids[index - 1] as number;
    const token = ids[index] as number;
    if (options.countRepeats !== true) {
      const pair = `${previous},${token}`;
      if (seen.has(pair)) continue;
      seen.add(pair);
    }
    tokens += 1;
    if (isGreen(previous, token, gamma, key)) green += 1;
  }
  const z = tokens === 0 ? 0 : (green - gamma * tokens) / Math.sqrt(tokens * gamma * (1 - gamma));
  return {
    tokens,
    green,
    greenFraction: tokens === 0 ? 0 : green / tokens,
    z,
    watermarked: z >= WATERMARK_Z_THRESHOLD,
  };
}
