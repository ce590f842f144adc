/**
 * What the chat page's browser tests start together, in parallel: the corpus ingested, the tiny
 * generated chat model loaded and Chromium launched on a fresh profile. When one of them fails,
 * the others are released before the failure is thrown.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import { CHROMIUM_LAUNCH } from "../../src/testing/chromium.js";
import { type IngestedCorpus, ingestCorpus } from "../rag/support.js";

/** Where the page tests write their screenshots. */
export const ARTIFACTS = join(process.cwd(), "test-artifacts", "chat");

export type PageResources = {
  corpus: IngestedCorpus;
  llm: Awaited<ReturnType<typeof createLlamaCppLanguageModel>>;
  context: BrowserContext;
  /** Chromium's profile folder (remove it after closing the context). */
  profile: string;
};

type BrowserOptions = NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>;

export async function startPageResources(articles: string, browser: BrowserOptions): Promise<PageResources> {
  await mkdir(ARTIFACTS, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), "llm-twin-chromium-"));
  const started = await Promise.allSettled([
    ingestCorpus(articles),
    tinyModelPath("chat").then((modelPath) => createLlamaCppLanguageModel({ modelPath, threads: 1, parallel: 2 })),
    chromium.launchPersistentContext(profile, { ...CHROMIUM_LAUNCH, ...browser }),
  ]);
  const [ingested, loaded, launched] = started;
  if (ingested.status === "fulfilled" && loaded.status === "fulfilled" && launched.status === "fulfilled") {
    return { corpus: ingested.value, llm: loaded.value, context: launched.value, profile };
  }
  if (launched.status === "fulfilled") await launched.value.close();
  if (loaded.status === "fulfilled") await loaded.value[Symbol.asyncDispose]();
  if (ingested.status === "fulfilled") await ingested.value.cleanup();
  await rm(profile, { recursive: true, force: true, maxRetries: 5 });
  throw started.find((result) => result.status === "rejected")?.reason;
}
