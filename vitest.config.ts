import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Tests that load llama.cpp or spawn services are CPU heavy; two cores are all CI has.
    maxWorkers: 2,
    fileParallelism: true,
    // No test reaches the Hugging Face Hub: a default model (LLM, embedder) resolves against a closed
    // loopback port unless the test serves the Hub's API itself.
    env: { LANCEDB_LOG: "error", HF_ENDPOINT: "http://127.0.0.1:9" },
    projects: [
      // Everything, on the default engine (native when `npm run build:native` has run).
      { extends: true, test: { name: "default", include: ["src/**/*.test.ts", "test/**/*.test.ts"] } },
      // The LLM service's behaviour tests again on the other backend; the engine's own contract
      // suite (src/llm/llama-cpp/engine.contract.test.ts) covers both backends itself.
      {
        extends: true,
        test: {
          name: "node-llama-cpp",
          include: ["test/llm-server/**/*.test.ts"],
          env: {
            LANCEDB_LOG: "error",
            HF_ENDPOINT: "http://127.0.0.1:9",
            LLM_TWIN_TEST_ENGINE: "node-llama-cpp",
            LLM_TWIN_ENGINE: "node-llama-cpp",
          },
        },
      },
    ],
  },
});
