/** The judge client's defaults, apart from the client so that `--help` stays light. */
export const DEFAULT_JUDGE_OPTIONS = { timeoutMs: 60_000, retries: 2, concurrency: 4, model: "judge" } as const;
