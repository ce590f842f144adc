/** The JSON Lines file adapter of the feedback port, against the shared contract. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { feedbackStoreContract } from "../testing/feedback-store-contract.js";
import { openFeedbackStore } from "./store.js";

let directory: string;
let count = 0;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "feedback-store-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

feedbackStoreContract("JSON Lines file", {
  async open(capacity) {
    const file = join(directory, `feedback-${++count}.jsonl`);
    return {
      store: await openFeedbackStore({ file, capacity }),
      reopen: () => openFeedbackStore({ file, capacity }),
    };
  },
});
