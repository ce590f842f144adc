/**
 * Feedback through the chat page in headless Chromium: the real RAG service (sample data, tiny
 * generated GGUF) with its feedback file; the user rates an answer with a comment, the rating is
 * stored with the trace, counted in /metrics, and survives a restart of the store.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import { openFeedbackStore } from "../../src/rag/feedback/store.js";
import { inProcessPromptLimit, type RunningRagService, runRagService } from "../../src/rag/service/run.js";
import { defaultRagServiceSettings } from "../../src/rag/service/settings.js";
import { CHROMIUM, CHROMIUM_LAUNCH } from "../../src/testing/chromium.js";
import { projectRoot } from "../../src/testing/shared-datasets.js";
import { type IngestedCorpus, ingestCorpus } from "../rag/support.js";

const ARTIFACTS = join(process.cwd(), "test-artifacts", "chat");
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`skipping the feedback page test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)("feedback from the chat page", () => {
  let corpus: IngestedCorpus;
  let service: RunningRagService;
  let context: BrowserContext;
  let page: Page;
  let directory: string;
  let feedbackFile: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "llm-twin-feedback-page-"));
    feedbackFile = join(directory, "feedback.jsonl");
    corpus = await ingestCorpus(resolve(projectRoot, "sample-data"));
    const llm = await createLlamaCppLanguageModel({ modelPath: await tinyModelPath("chat"), threads: 1, parallel: 1 });
    service = await runRagService({
      settings: defaultRagServiceSettings({
        port: 0,
        store: corpus.storeUri,
        logLevel: "silent",
        rateLimit: 0,
        feedbackFile,
      }),
      store: corpus.store,
      embedder: corpus.embedder,
      llm,
      ...inProcessPromptLimit(llm.engine),
      disposeResources: () => llm[Symbol.asyncDispose](),
    });
    context = await chromium.launchPersistentContext(join(directory, "profile"), {
      ...CHROMIUM_LAUNCH,
      viewport: { width: 1000, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await service?.close();
    await corpus?.cleanup();
    await rm(directory, { recursive: true, force: true, maxRetries: 5 });
  });

  it("rates an answer with thumbs down and a comment, stored with its trace and counted", async () => {
    await page.goto(service.url);
    await page.locator("#question").fill("How big should chunks be?");
    await page.locator("#question").press("Enter");
    const turn = page.locator(".turn-twin").first();
    await turn.locator(".feedback").waitFor({ timeout: 60_000 });
    await turn.getByLabel("Comment on this answer (optional)").fill("not in my voice");
    await turn.getByRole("button", { name: "Bad answer" }).click();
    await expect.poll(() => turn.locator(".feedback-status").textContent()).toBe("Thanks, feedback recorded.");
    expect(await turn.getByRole("button", { name: "Bad answer" }).getAttribute("aria-pressed")).toBe("true");
    expect(await turn.getByRole("button", { name: "Good answer" }).isDisabled()).toBe(true);

    const listed = (await (await fetch(`${service.url}/feedback?rating=down`)).json()) as {
      feedback: { traceId: string; comment: string; trace: { attributes: { query: string } } }[];
    };
    expect(listed.feedback).toHaveLength(1);
    expect(listed.feedback[0]).toMatchObject({
      comment: "not in my voice",
      trace: { attributes: { query: "How big should chunks be?" } },
    });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain('llm_twin_rag_feedback_total{rating="down"} 1');

    const reopened = await openFeedbackStore({ file: feedbackFile, capacity: 10 });
    expect((await reopened.list({ rating: "down" })).map((entry) => entry.traceId)).toEqual([
      listed.feedback[0]?.traceId,
    ]);
  }, 120_000);

  it("draws the rated answer's trace as a waterfall with its prompt, sources and feedback", async () => {
    const [rated] = (
      (await (await fetch(`${service.url}/feedback?rating=down`)).json()) as { feedback: { traceId: string }[] }
    ).feedback;
    await page.goto(`${service.url}/#traces`);
    const trace = page.locator(`.trace[data-trace-id="${rated?.traceId}"]`);
    await trace.waitFor({ timeout: 10_000 });
    await trace.locator("summary").first().click();
    const steps = await trace.locator(".waterfall th[scope=row]").allTextContents();
    expect(steps).toEqual(expect.arrayContaining(["self-query", "embedding", "search", "rerank", "generation"]));
    // Bars sit on the trace's time axis: each later step starts at or right of the one before.
    const lefts = await trace
      .locator(".waterfall-bar")
      .evaluateAll((bars) =>
        bars.map((bar) => Number.parseFloat((bar as unknown as { style: { left: string } }).style.left)),
      );
    expect(lefts.every((left) => left >= 0 && left <= 100)).toBe(true);
    expect(lefts).toEqual([...lefts].sort((a, b) => a - b));
    const generation = trace.locator('tr[data-step="generation"]');
    expect(await generation.locator(".step-time").textContent()).toMatch(/first token/);
    expect(await generation.locator(".waterfall-ttft").count()).toBe(1);
    expect(await trace.locator('.trace-feedback li[data-rating="down"]').textContent()).toContain("not in my voice");
    expect(await trace.locator(".trace-sources li").count()).toBeGreaterThan(0);
    await trace.locator(".trace-prompt summary").click();
    expect(await trace.locator(".trace-prompt pre").textContent()).toContain("How big should chunks be?");
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "traces-waterfall.png"), fullPage: true });
  }, 60_000);
});
