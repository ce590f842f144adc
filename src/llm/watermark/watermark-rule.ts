/**
 * The watermark's green-list rule (TGI's `watermark`, Kirchenbauer et al. 2023), exactly as the
 * native sampler applies it (native/src/watermark-sampling.h; docs/llm-service.md, "Watermark"):
 *   pair  = (uint32(previous) << 32) | uint32(token)          (64 bits)
 *   h     = splitmix64 finalizer of (WATERMARK_KEY XOR pair)
 *   green ⇔ (h >> 11) × 2^−53 < gamma
 * Changing it makes every text watermarked before the change undetectable.
 */

import { AppError } from "../../errors/index.js";

/** TGI's hash key (text-generation-inference, watermark.py). */
export const WATERMARK_KEY = 15485863n;
/** TGI's defaults (WATERMARK_GAMMA, WATERMARK_DELTA). */
export const DEFAULT_WATERMARK_GAMMA = 0.5;
export const DEFAULT_WATERMARK_DELTA = 2;

export type WatermarkSettings = {
  /** Fraction of the vocabulary that is green after each token, 0 < gamma < 1. */
  gamma: number;
  /** Added to the logit of every green token, ≥ 0. */
  delta: number;
};

/** The engine's watermark settings, checked before anything loads. */
export function checkWatermarkSettings(settings: WatermarkSettings): WatermarkSettings {
  if (!(settings.gamma > 0 && settings.gamma < 1) || !(settings.delta >= 0 && Number.isFinite(settings.delta))) {
    throw new AppError(
      "configuration_error",
      `watermark gamma must be > 0 and < 1 and delta a finite number ≥ 0 (given ${settings.gamma}, ${settings.delta}): see --watermark-gamma, --watermark-delta`,
    );
  }
  return settings;
}

const MASK = (1n << 64n) - 1n;
const MULTIPLIER_1 = 0xbf58476d1ce4e5b9n;
const MULTIPLIER_2 = 0x94d049bb133111ebn;

function finalize(value: bigint): bigint {
  let z = value;
  z = ((z ^ (z >> 30n)) * MULTIPLIER_1) & MASK;
  z = ((z ^ (z >> 27n)) * MULTIPLIER_2) & MASK;
  return z ^ (z >> 31n);
}

/** Whether `token` is green after `previous` for the fraction `gamma`. */
export function isGreen(previous: number, token: number, gamma: number, key: bigint = WATERMARK_KEY): boolean {
  const pair = (BigInt(previous >>> 0) << 32n) | BigInt(token >>> 0);
  const h = finalize((key ^ pair) & MASK);
  return Number(h >> 11n) / 2 ** 53 < gamma;
}
