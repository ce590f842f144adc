export { DOWNLOAD_DEFAULTS, type DownloadOptions, type DownloadProgress, downloadFile } from "./download.js";
export { createDownloadProgressReporter } from "./download-progress.js";
export { assertGgufFile } from "./gguf-magic.js";
export {
  DEFAULT_HUGGING_FACE_ENDPOINT,
  DEFAULT_QUANTIZATION,
  huggingFaceEndpoint,
  pickQuantizationFile,
} from "./huggingface.js";
export { modelFileSha256 } from "./model-file-sha256.js";
export { type ModelSource, parseModelSource } from "./parse-model-source.js";
export {
  defaultCacheDirectory,
  type ResolvedModelSource,
  type ResolveModelFileOptions,
  resolveModelFile,
  resolveModelSource,
} from "./resolve-model-file.js";
