/**
 * The chat page end to end in headless Chromium (playwright-core + Debian's chromium): the real
 * RAG service in one process over the real LLM Twin corpus, with a tiny generated GGUF model.
 * One browser and one server for every scenario; screenshots go to test-artifacts/chat/.
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors/index.js";
import type { GenerateRequest, LanguageModel, StreamPart } from "../../src/llm/index.js";
import { inProcessPromptLimit, type RunningRagService, runRagService } from "../../src/rag/service/run.js";
import { defaultRagServiceSettings } from "../../src/rag/service/settings.js";
import { CHROMIUM } from "../../src/testing/chromium.js";
import { ARTICLES, type IngestedCorpus, spyLanguageModel } from "../rag/support.js";
import { ARTIFACTS, startPageResources } from "./page-resources.js";

const MAXIME = "Maxime Labonne";
const SCRIPT_BUDGET_BYTES = 100 * 1024;
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`skipping the chat page tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** The LLM with a switch that makes it fail like an unreachable LLM service. */
function switchableModel(inner: LanguageModel) {
  const control = { down: false };
  const model: LanguageModel = {
    id: inner.id,
    generate: (request) => inner.generate(request),
    async *stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
      if (control.down) throw new AppError("upstream_unavailable", "the LLM service is unreachable (test switch)");
      yield* inner.stream(request);
    },
    health: (options) => inner.health(options),
    [Symbol.asyncDispose]: () => inner[Symbol.asyncDispose](),
  };
  return { model, control };
}

describe.skipIf(ARTICLES === undefined || !hasChromium)("chat page in a browser (real corpus, tiny GGUF)", () => {
  let corpus: IngestedCorpus;
  let service: RunningRagService;
  let spy: ReturnType<typeof spyLanguageModel>;
  let llmSwitch: ReturnType<typeof switchableModel>["control"];
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const scriptBytes = new Map<string, number>();

  beforeAll(async () => {
    const started = await startPageResources(ARTICLES as string, {
      viewport: { width: 1100, height: 900 },
      colorScheme: "light",
    });
    ({ corpus, context, profile } = started);
    const llm = started.llm;
    // A small delay per token keeps long generations running long enough to be stopped.
    spy = spyLanguageModel(llm, { tokenDelayMs: 15 });
    const switchable = switchableModel(spy.model);
    llmSwitch = switchable.control;
    service = await runRagService({
      // The answer cache off: the page's repeated questions must reach the LLM (stop, errors, traces).
      settings: defaultRagServiceSettings({
        port: 0,
        store: corpus.storeUri,
        logLevel: "silent",
        rateLimit: 0,
        cache: "off",
      }),
      store: corpus.store,
      embedder: corpus.embedder,
      llm: switchable.model,
      ...inProcessPromptLimit(llm.engine),
      // The tiny generated model is what the offline demo serves: the page must say so.
      demoModel: true,
      disposeResources: () => llm[Symbol.asyncDispose](),
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("response", async (response) => {
      if (response.request().resourceType() !== "script") return;
      scriptBytes.set(response.url(), (await response.body()).byteLength);
    });
  });

  afterAll(async () => {
    await context?.close();
    await service?.close();
    await corpus?.cleanup();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true, maxRetries: 5 });
  });

  /** What the user sees: the viewport, scrolled to the end (the composer is sticky at the bottom). */
  const shot = async (name: string) => {
    await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)");
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  };

  async function setSetting(name: string, value: string) {
    if ((await page.locator("#settings").getAttribute("open")) === null) {
      await page.locator("#settings summary").click();
    }
    await page.locator(`#${name}`).fill(value);
  }

  /** Types a question and presses Enter; returns the new twin turn. */
  async function ask(question: string) {
    const turns = page.locator(".turn-twin");
    const before = await turns.count();
    await page.locator("#question").fill(question);
    await page.locator("#question").press("Enter");
    await expect.poll(() => turns.count()).toBe(before + 1);
    return turns.nth(before);
  }

  it("serves the page offline-ready: same-origin versioned assets with content types, caching, under 100 KB of script", async () => {
    const response = await fetch(`${service.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await response.text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const script = html.match(/src="(\/assets\/[0-9a-f]{12}\/app\.js)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${service.url}${script}`);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(asset.headers.get("content-encoding")).toBeNull();
    const etag = asset.headers.get("etag") ?? "";
    expect((await fetch(`${service.url}${script}`, { headers: { "if-none-match": etag } })).status).toBe(304);

    const offsite: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(service.url) && !request.url().startsWith("data:")) offsite.push(request.url());
    });
    await page.goto(`${service.url}/`);
    await expect.poll(() => page.locator("#author option").count()).toBeGreaterThan(1);
    const authors = await page.locator("#author option").allTextContents();
    expect(authors).toContain(MAXIME);
    // The offline demo model is answering: the page says so.
    await expect.poll(() => page.locator("#demo-banner").isVisible()).toBe(true);
    expect(await page.locator("#demo-banner").textContent()).toContain("demo model");
    expect(offsite).toEqual([]);
    const total = [...scriptBytes.values()].reduce((sum, bytes) => sum + bytes, 0);
    expect(scriptBytes.size).toBeGreaterThan(1);
    expect(total).toBeLessThan(SCRIPT_BUDGET_BYTES);
    console.info(`chat page: ${scriptBytes.size} scripts, ${total} bytes`);
    await expect.poll(() => page.evaluate<string | undefined>("document.activeElement?.id")).toBe("question");
    // Without a chosen theme the page follows the system's colour scheme.
    const background = () => page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    const light = await background();
    await page.emulateMedia({ colorScheme: "dark" });
    await expect.poll(background).not.toBe(light);
    expect(await page.locator("#theme-toggle").getAttribute("aria-pressed")).toBe("true");
    await page.emulateMedia({ colorScheme: "light" });
    await expect.poll(background).toBe(light);
  });

  it("shows the sources first, then streams the answer token by token (Shift+Enter adds a line)", async () => {
    await setSetting("expandQueries", "1");
    await setSetting("k", "3");
    await setSetting("maxNewTokens", "12");
    await page.locator("#question").fill("Draft a LinkedIn post");
    await page.locator("#question").press("Shift+Enter");
    await page.locator("#question").pressSequentially("about RAG systems.");
    expect(await page.locator("#question").inputValue()).toBe("Draft a LinkedIn post\nabout RAG systems.");
    expect(await page.locator(".turn-twin").count()).toBe(0);

    // Record, in the page, the order in which the sources and the tokens reach the DOM.
    await page.evaluate(`{
      const log = [];
      window.renderLog = log;
      new MutationObserver((mutations) => {
        for (const mutation of mutations) {
          // The answer is drawn again as Markdown on each token: its children change.
          if (mutation.target instanceof HTMLElement && mutation.target.classList.contains("answer")) log.push("token");
          for (const node of mutation.addedNodes) {
            if (node instanceof HTMLElement && node.querySelector(".source-card")) log.push("sources");
          }
        }
      }).observe(document.getElementById("conversation"), { subtree: true, childList: true });
    }`);
    await page.locator("#question").press("Enter");
    const turn = page.locator(".turn-twin").last();
    await expect.poll(() => turn.getAttribute("class"), { timeout: 30_000 }).toContain("turn-done");
    // The sources that reached the prompt (the tiny model's tokenizer makes articles long: 1 to 3).
    const cards = await turn.locator(".source-card").count();
    expect(cards).toBeGreaterThanOrEqual(1);
    expect(cards).toBeLessThanOrEqual(3);
    const card = turn.locator(".source-card").first();
    expect(await card.locator(".source-title a").getAttribute("href")).toMatch(/^https?:\/\//);
    expect(await card.locator(".source-meta").textContent()).toMatch(/score \d/);
    expect((await card.locator(".source-snippet").textContent())?.length).toBeGreaterThan(20);
    expect((await turn.locator(".answer").textContent())?.length).toBeGreaterThan(0);
    const log = await page.evaluate<string[]>("window.renderLog");
    expect(log[0]).toBe("sources");
    expect(log.filter((entry) => entry === "token").length).toBeGreaterThan(1);
    expect(await page.locator("#error").isHidden()).toBe(true);
    await shot("answer-light-desktop");
  });

  it("stops a generation, and the service cancels it", async () => {
    await setSetting("maxNewTokens", "600");
    const streamsBefore = spy.streams.length;
    const turn = await ask("Write a long article about fine-tuning LLMs.");
    await expect
      .poll(async () => (await turn.locator(".answer").textContent())?.length ?? 0, { timeout: 30_000 })
      .toBeGreaterThan(0);
    expect(await page.locator("#stop").isEnabled()).toBe(true);
    await page.locator("#stop").click();
    await expect.poll(() => turn.locator(".turn-footer").textContent()).toMatch(/^Stopped after \d+ tokens/);
    const stream = spy.streams[streamsBefore];
    await expect.poll(() => stream?.signal?.aborted, { timeout: 10_000 }).toBe(true);
    // The generation stops producing tokens: the count settles well below the 600 asked for.
    const settled = async () => {
      const count = stream?.tokens;
      await new Promise((resolve) => setTimeout(resolve, 300));
      return stream?.tokens === count;
    };
    await expect.poll(settled, { timeout: 10_000 }).toBe(true);
    expect(stream?.tokens).toBeLessThan(600);
    type Trace = { error?: { code: string }; spans: { name: string; status: string; error?: { code: string } }[] };
    const latest = async () =>
      ((await (await fetch(`${service.url}/traces?limit=1`)).json()) as { traces: Trace[] }).traces[0];
    await expect.poll(async () => (await latest())?.error?.code, { timeout: 10_000 }).toBe("aborted");
    const generation = (await latest())?.spans.find((span) => span.name === "generation");
    expect(generation?.status).toBe("error");
    expect(generation?.error?.code).toBe("aborted");
    expect(await page.locator("#send").isEnabled()).toBe(true);
    expect(await page.locator("#stop").isDisabled()).toBe(true);
  });

  it("keeps to the selected author's sources", async () => {
    await setSetting("maxNewTokens", "4");
    await setSetting("k", "6");
    await page.locator("#author").selectOption({ label: MAXIME });
    const turn = await ask("Draft a post about RAG systems and vector databases.");
    await expect.poll(() => turn.getAttribute("class"), { timeout: 30_000 }).toContain("turn-done");
    const authors = await turn
      .locator(".source-card")
      .evaluateAll((cards) => cards.map((card) => card.getAttribute("data-author")));
    expect(authors.length).toBeGreaterThan(0);
    expect(new Set(authors)).toEqual(new Set([MAXIME]));
  });

  it("says plainly when the LLM is down, overloaded, rejecting input or unreachable, and recovers", async () => {
    llmSwitch.down = true;
    const failed = await ask("Write about LLMOps.");
    await expect
      .poll(() => page.locator("#error").textContent(), { timeout: 30_000 })
      .toContain("language model is unavailable");
    expect(await failed.getAttribute("class")).toContain("turn-failed");
    await shot("error-llm-down");
    llmSwitch.down = false;
    const recovered = await ask("Write about LLMOps.");
    await expect.poll(() => recovered.getAttribute("class"), { timeout: 30_000 }).toContain("turn-done");
    expect(await page.locator("#error").isHidden()).toBe(true);

    const cases: [number | "network", string, string][] = [
      [429, "overloaded", "The service is overloaded"],
      [422, "validation_error", "The request was not accepted"],
      ["network", "", "Network lost"],
    ];
    for (const [status, code, message] of cases) {
      await page.route("**/rag", (route) =>
        status === "network"
          ? route.abort("internetdisconnected")
          : route.fulfill({
              status,
              contentType: "application/json",
              body: JSON.stringify({ error: { code, message: `simulated ${code}`, requestId: "req-1" } }),
            }),
      );
      await ask("Write about LLMOps.");
      await expect.poll(() => page.locator("#error").textContent()).toContain(message);
      await page.unroute("**/rag");
      expect(await page.locator("#send").isEnabled()).toBe(true);
    }
    const again = await ask("Write about LLMOps.");
    await expect.poll(() => again.getAttribute("class"), { timeout: 30_000 }).toContain("turn-done");
    expect(await page.locator("#error").isHidden()).toBe(true);
  });

  it("opens the traces view with steps, timings, author, queries and sources", async () => {
    await page.locator("#nav-traces").click();
    await expect.poll(() => page.locator(".trace").count()).toBeGreaterThan(3);
    expect(await page.locator("#chat-view").isHidden()).toBe(true);
    const withAuthor = page.locator(".trace", { has: page.locator(".trace-author", { hasText: MAXIME }) }).first();
    await withAuthor.locator("summary").first().click();
    const steps = await withAuthor.locator(".steps th[scope=row]").allTextContents();
    expect(steps).toEqual(expect.arrayContaining(["self-query", "query-expansion", "search", "rerank", "generation"]));
    expect(await withAuthor.locator(".trace-queries li").count()).toBeGreaterThan(0);
    expect(await withAuthor.locator(".trace-sources li").count()).toBeGreaterThan(0);
    expect(await withAuthor.locator(".trace-duration").textContent()).toMatch(/\d+(\.\d+)? m?s/);
    await page.screenshot({ path: join(ARTIFACTS, "traces-light-desktop.png") });
  });

  it("remembers settings and theme across reloads; works in dark and at phone width", async () => {
    await page.locator("#nav-chat").click();
    await page.locator("#theme-toggle").click();
    expect(await page.evaluate<string>("document.documentElement.dataset.theme")).toBe("dark");
    await page.reload();
    await expect.poll(() => page.locator("#author option").count()).toBeGreaterThan(1);
    await page.locator("#settings summary").click();
    expect(await page.locator("#maxNewTokens").inputValue()).toBe("4");
    expect(await page.locator("#k").inputValue()).toBe("6");
    expect(await page.locator("#expandQueries").inputValue()).toBe("1");
    expect(await page.locator("#author option:checked").textContent()).toBe(MAXIME);
    expect(await page.evaluate<string>("document.documentElement.dataset.theme")).toBe("dark");
    expect(await page.locator("#theme-toggle").getAttribute("aria-pressed")).toBe("true");

    await page.setViewportSize({ width: 375, height: 812 });
    const turn = await ask("Draft a LinkedIn post about RAG systems.");
    await expect.poll(() => turn.getAttribute("class"), { timeout: 30_000 }).toContain("turn-done");
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await shot("answer-dark-phone");
    await page.locator("#theme-toggle").click();
    await shot("answer-light-phone");
    await page.locator("#nav-traces").click();
    await expect.poll(() => page.locator(".trace").count()).toBeGreaterThan(0);
    await page.locator(".trace summary").first().click();
    await page.screenshot({ path: join(ARTIFACTS, "traces-light-phone.png") });
    await page.locator("#nav-chat").click();
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.locator("#theme-toggle").click();
    await shot("answer-dark-desktop");
  });

  it("asks for the API key when the service wants one and sends it as a bearer token", async () => {
    const seen: (string | undefined)[] = [];
    await page.route("**/authors", async (route) => {
      const authorization = route.request().headers().authorization;
      seen.push(authorization);
      if (authorization !== "Bearer test-key") {
        await route.fulfill({
          status: 401,
          contentType: "application/json",
          body: JSON.stringify({
            error: { code: "unauthorized", message: "this service needs an API key", requestId: "r" },
          }),
        });
      } else {
        await route.continue();
      }
    });
    await page.reload();
    await expect.poll(() => page.locator("#key-dialog").isVisible()).toBe(true);
    await page.locator("#api-key").fill("test-key");
    await page.locator("#api-key").press("Enter");
    await expect.poll(() => page.locator("#author option").count()).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe("Bearer test-key");
    await page.unroute("**/authors");
  });
});
