/**
 * LLM_TWIN_* variables that are deliberately not settings of any command (no flag): the test
 * suite's and the launcher's own switches, and secrets kept out of the process list. Every other LLM_TWIN_* variable the code reads is a
 * registry setting with a flag (test/cli/every-option-has-a-setting.test.ts checks both).
 */
export const INTERNAL_VARIABLES: Readonly<Record<string, string>> = {
  LLM_TWIN_SHARED_DATASETS: "tests and benchmarks: where the shared datasets are (not a user setting)",
  LLM_TWIN_TEST_ENGINE: "tests: which engine variant a test project runs (native or node-llama-cpp)",
  LLM_TWIN_EMBEDDER_API_KEY:
    "secret: the bearer key of an openai:<url> embedder, environment only so it never shows in the process list",
  LLM_TWIN_FROM_SOURCE:
    "bin/llm-twin.js: run the TypeScript sources instead of dist/ (read before any command is parsed)",
};
