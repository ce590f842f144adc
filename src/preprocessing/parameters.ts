/**
 * Every knob of cleaning and chunking, per data category, in one object. The whole object goes
 * into the preprocessing fingerprint: changing any value here (or PREPROCESSING_VERSION, when the
 * code changes behaviour) makes existing stores refuse to mix old and new chunks.
 */
import type { DataCategory } from "../domain/index.js";

/** Bump when cleaning or chunking code changes its output for the same input and parameters. */
export const PREPROCESSING_VERSION = "1.0.0";

export type SentenceChunkingParameters = {
  strategy: "sentences";
  /** Chunks grow sentence by sentence up to this many characters. */
  maxCharacters: number;
  /** Target minimum; only a document's last chunk (or a short document) may be smaller. */
  minCharacters: number;
};

export type TokenChunkingParameters = {
  strategy: "tokens";
  /** Target chunk size in tokens of the embedder's tokenizer (capped by its maximum input). */
  chunkTokens: number;
  /** Tokens repeated from the end of one chunk at the start of the next. */
  overlapTokens: number;
};

export type ChunkingParameters = SentenceChunkingParameters | TokenChunkingParameters;

export type ChunkingParametersByCategory = {
  articles: SentenceChunkingParameters;
  posts: TokenChunkingParameters;
  repositories: TokenChunkingParameters;
};

export type RepositoryCleaningParameters = {
  /** Files larger than this (UTF-8 bytes) are left out: generated data, minified bundles. */
  maxFileBytes: number;
  /** Lower-case file name endings that are never source code (binaries, lockfiles, media...). */
  ignoredSuffixes: readonly string[];
  /** Exact lower-case file names left out (lockfiles and similar noise). */
  ignoredFileNames: readonly string[];
  /** Path segments (directories) whose files are left out. */
  ignoredDirectories: readonly string[];
};

export type PreprocessingParameters = {
  cleaning: {
    repositories: RepositoryCleaningParameters;
  };
  chunking: ChunkingParametersByCategory;
};

export const DEFAULT_PREPROCESSING_PARAMETERS: PreprocessingParameters = {
  cleaning: {
    repositories: {
      maxFileBytes: 262_144,
      ignoredSuffixes: [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".bmp",
        ".ico",
        ".svg",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".tar",
        ".jar",
        ".war",
        ".class",
        ".so",
        ".dylib",
        ".dll",
        ".exe",
        ".bin",
        ".o",
        ".a",
        ".pyc",
        ".pyo",
        ".whl",
        ".egg",
        ".onnx",
        ".gguf",
        ".safetensors",
        ".pt",
        ".pth",
        ".ckpt",
        ".h5",
        ".npy",
        ".npz",
        ".parquet",
        ".arrow",
        ".feather",
        ".pkl",
        ".pickle",
        ".db",
        ".sqlite",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp3",
        ".mp4",
        ".wav",
        ".ogg",
        ".mov",
        ".avi",
        ".webm",
        ".lock",
        ".min.js",
        ".min.css",
        ".map",
        ".ipynb_checkpoints",
      ],
      ignoredFileNames: [
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "pipfile.lock",
        "cargo.lock",
        "composer.lock",
        "gemfile.lock",
        "go.sum",
        "uv.lock",
        "bun.lockb",
        ".ds_store",
        "thumbs.db",
      ],
      ignoredDirectories: [
        ".git",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        "dist",
        "build",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".idea",
        ".vscode",
        ".next",
        "coverage",
        "site-packages",
      ],
    },
  },
  chunking: {
    articles: { strategy: "sentences", minCharacters: 1000, maxCharacters: 2000 },
    posts: { strategy: "tokens", chunkTokens: 250, overlapTokens: 25 },
    repositories: { strategy: "tokens", chunkTokens: 1500, overlapTokens: 100 },
  },
};

export type ChunkingStrategyOf<C extends DataCategory> = ChunkingParametersByCategory[C];
