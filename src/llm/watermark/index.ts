export {
  detectWatermark,
  WATERMARK_Z_THRESHOLD,
  type WatermarkDetection,
  type WatermarkDetectOptions,
} from "./watermark-detect.js";
export {
  checkWatermarkSettings,
  DEFAULT_WATERMARK_DELTA,
  DEFAULT_WATERMARK_GAMMA,
  isGreen,
  WATERMARK_KEY,
  type WatermarkSettings,
} from "./watermark-rule.js";
