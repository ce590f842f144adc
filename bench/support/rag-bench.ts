/** What the RAG service suites (rag, rag-overload, online-eval) share: the queries, flag reading, percentiles. */

/** The queries the suites cycle through, in order. */
export const RAG_BENCH_QUERIES: readonly string[] = [
  "My name is Paul Iusztin. Draft a LinkedIn post about RAG systems.",
  "Write a short article about fine-tuning LLMs in the style of Maxime Labonne",
  "How do I build a feature pipeline with a vector database?",
  "Explain model merging to a beginner",
  "Write about quantization of large language models",
  "How should I chunk documents for retrieval?",
];

/** The value after `flag` in `args`, or undefined when the flag is absent. */
export function option(args: readonly string[], flag: string): string | undefined {
  const position = args.indexOf(flag);
  return position === -1 ? undefined : args[position + 1];
}

/** The value at `fraction` (0.5 = p50) of `values` by the nearest-rank rule; NaN when empty. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}
