import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Tests that load llama.cpp or spawn services are CPU heavy; two cores are all CI has.
    maxWorkers: 2,
    fileParallelism: true,
    env: { LANCEDB_LOG: "error" },
  },
});
