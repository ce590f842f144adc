/**
 * The chat page as a conversation, in headless Chromium (playwright-core + Debian's chromium): the
 * real RAG service over the real LLM Twin corpus with a tiny generated GGUF model. Follow-ups send
 * the earlier turns as `history` (read from the request the browser sends), several conversations
 * are kept in localStorage (new, rename, delete, restored on reload; corrupt entries ignored),
 * Regenerate and Copy work on answers, and answers are rendered as Markdown without ever letting
 * model output in as HTML (scripted answers served in place of /rag for that part).
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { BrowserContext, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessPromptLimit, type RunningRagService, runRagService } from "../../src/rag/service/run.js";
import { defaultRagServiceSettings } from "../../src/rag/service/settings.js";
import { CHROMIUM } from "../../src/testing/chromium.js";
import { ARTICLES, type IngestedCorpus, spyLanguageModel } from "../rag/support.js";
import { ARTIFACTS, startPageResources } from "./page-resources.js";

const MAX_HISTORY_TURNS = 3;
const MAX_HISTORY_CHARS = 3000;
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`skipping the conversation tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

type Turn = { role: string; content: string };
type RagBody = { query: string; history?: Turn[]; stream?: boolean; cache?: boolean };
type StoredTurn = { question: string; answer: string; status: string };
type Stored = { id: string; title: string; turns: StoredTurn[] };

/** An SSE body like POST /rag's: sources, the answer in small tokens, done. */
function scriptedAnswer(answer: string): string {
  const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  const source = {
    title: "A scripted source",
    link: "https://example.com/source",
    author: { fullName: "Maxime Labonne" },
    category: "articles",
    score: 0.5,
    text: "Scripted text of the source.",
  };
  const tokens = answer.match(/[\s\S]{1,5}/g) ?? [];
  return [
    frame("sources", { sources: [source], author: null, queries: ["q"] }),
    ...tokens.map((text) => frame("token", { text })),
    frame("done", { usage: { completionTokens: tokens.length }, timings: { totalMs: 5 }, finishReason: "stop" }),
  ].join("");
}

describe.skipIf(ARTICLES === undefined || !hasChromium)("chat page conversations in a browser", () => {
  let corpus: IngestedCorpus;
  let service: RunningRagService;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let spy: ReturnType<typeof spyLanguageModel>;
  const sent: RagBody[] = [];

  beforeAll(async () => {
    const started = await startPageResources(ARTICLES as string, { viewport: { width: 1100, height: 900 } });
    ({ corpus, context, profile } = started);
    const llm = started.llm;
    // A small delay per token keeps a long answer running long enough to switch away from it.
    spy = spyLanguageModel(llm, { tokenDelayMs: 10 });
    service = await runRagService({
      settings: defaultRagServiceSettings({
        port: 0,
        store: corpus.storeUri,
        logLevel: "silent",
        rateLimit: 0,
        maxHistoryTurns: MAX_HISTORY_TURNS,
        maxHistoryChars: MAX_HISTORY_CHARS,
      }),
      store: corpus.store,
      embedder: corpus.embedder,
      llm: spy.model,
      ...inProcessPromptLimit(llm.engine),
      disposeResources: () => llm[Symbol.asyncDispose](),
    });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: service.url });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("request", (request: Request) => {
      if (request.method() === "POST" && new URL(request.url()).pathname === "/rag") {
        sent.push(request.postDataJSON() as RagBody);
      }
    });
    await page.goto(`${service.url}/`);
    // Short answers keep the tests quick; one query (no expansion).
    await page.locator("#settings summary").click();
    await page.locator("#maxNewTokens").fill("6");
    await page.locator("#expandQueries").fill("1");
    await page.locator("#settings summary").click();
  });

  afterAll(async () => {
    await context?.close();
    await service?.close();
    await corpus?.cleanup();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true, maxRetries: 5 });
  });

  /** Types a question, presses Enter and waits for the answer to finish; returns the twin turn. */
  async function ask(question: string) {
    const turns = page.locator(".turn-twin");
    const before = await turns.count();
    await page.locator("#question").fill(question);
    await page.locator("#question").press("Enter");
    await expect.poll(() => turns.count()).toBe(before + 1);
    const turn = turns.nth(before);
    await expect.poll(() => turn.getAttribute("class"), { timeout: 30_000 }).toMatch(/turn-(done|failed)/);
    expect(await turn.getAttribute("class")).toContain("turn-done");
    return turn;
  }

  const stored = () =>
    page.evaluate<Stored[]>(`Object.keys(localStorage)
      .filter((key) => key.startsWith("llm-twin.conversation.") && !/[.](broken|wrong|huge)$/.test(key))
      .map((key) => JSON.parse(localStorage.getItem(key)))`);
  const listTitles = () => page.locator("#conversation-list .conversation-open").allTextContents();
  const activeTitle = () => page.locator('#conversation-list [aria-current="true"]').textContent();

  it("sends the earlier turns as history on follow-ups, newest kept within the limits of GET /info", async () => {
    const info = (await (await fetch(`${service.url}/info`)).json()) as { limits: Record<string, number> };
    expect(info.limits).toMatchObject({ maxHistoryTurns: MAX_HISTORY_TURNS, maxHistoryChars: MAX_HISTORY_CHARS });

    await ask("Tell me about Maxime Labonne's articles on fine-tuning.");
    expect(sent.at(-1)?.history).toBeUndefined();
    await ask("What does he recommend before SFT?");
    const [first] = await stored();
    expect(first?.turns).toHaveLength(2);
    expect(sent.at(-1)?.query).toBe("What does he recommend before SFT?");
    expect(sent.at(-1)?.history).toEqual([
      { role: "user", content: "Tell me about Maxime Labonne's articles on fine-tuning." },
      { role: "assistant", content: first?.turns[0]?.answer },
    ]);
    await ask("And what about evaluation?");
    // Four earlier messages, the service takes three: the most recent ones, oldest dropped first.
    const history = sent.at(-1)?.history ?? [];
    expect(history).toHaveLength(MAX_HISTORY_TURNS);
    expect(history[0]).toEqual({ role: "assistant", content: (await stored())[0]?.turns[0]?.answer });
    expect(history.at(-2)).toEqual({ role: "user", content: "What does he recommend before SFT?" });
    expect(history.at(-1)?.role).toBe("assistant");
    expect(await page.locator("#error").isHidden()).toBe(true);

    // The character limit, in the page's own module: a long earlier answer is left out with all before it.
    const bounded = await page.evaluate(`(async () => {
      const script = document.querySelector('script[type="module"]').src.replace("app.js", "conversations.js");
      const { historyFor } = await import(script);
      const turns = [
        { question: "q1", answer: "a".repeat(2000), status: "done" },
        { question: "q2", answer: "", status: "failed" },
        { question: "q3", answer: "b".repeat(500), status: "stopped" },
      ];
      return historyFor(turns, { maxHistoryTurns: 10, maxHistoryChars: 600 });
    })()`);
    expect(bounded).toEqual([
      { role: "user", content: "q3" },
      { role: "assistant", content: "b".repeat(500) },
    ]);
  });

  it("keeps several conversations: new, rename, delete, restored on reload; bad entries are ignored", async () => {
    expect(await listTitles()).toEqual(["Tell me about Maxime Labonne's articles on fine-tuning."]);
    await page.locator("#new-conversation").click();
    expect(await page.locator("#conversation .turn").count()).toBe(0);
    expect(await activeTitle()).toBe("New conversation");
    expect(await page.evaluate<string | undefined>("document.activeElement?.id")).toBe("question");
    await ask("Draft a LinkedIn post about RAG systems.");
    expect(sent.at(-1)?.history).toBeUndefined();
    expect(await listTitles()).toEqual([
      "Draft a LinkedIn post about RAG systems.",
      "Tell me about Maxime Labonne's articles on fine-tuning.",
    ]);

    // Rename in place with the keyboard: Enter keeps the name, Escape cancels.
    await page.getByRole("button", { name: "Rename “Draft a LinkedIn post about RAG systems.”" }).click();
    const field = page.getByRole("textbox", { name: /^New name for/ });
    await field.fill("RAG post");
    await field.press("Enter");
    expect(await listTitles()).toContain("RAG post");
    await expect
      .poll(() => page.evaluate<string | undefined>("document.activeElement?.getAttribute('aria-label')"))
      .toBe("Rename “RAG post”");
    await page.keyboard.press("Enter");
    await page.getByRole("textbox", { name: /^New name for/ }).fill("Not kept");
    await page.getByRole("textbox", { name: /^New name for/ }).press("Escape");
    expect(await listTitles()).toContain("RAG post");

    // Switch back: the first conversation's turns are drawn again.
    await page
      .getByRole("button", { name: "Tell me about Maxime Labonne's articles on fine-tuning.", exact: true })
      .click();
    expect(await page.locator("#conversation .turn-twin").count()).toBe(3);
    const answers = await page.locator("#conversation .answer").allTextContents();

    // A corrupt entry, one that is not a conversation and an oversized one: ignored, not fatal.
    await page.evaluate(`{
      localStorage.setItem("llm-twin.conversation.broken", "{not json");
      localStorage.setItem("llm-twin.conversation.wrong", JSON.stringify({ id: "wrong", turns: "no" }));
      const huge = { id: "huge", title: "Huge", createdAt: 1, updatedAt: 1, turns: [{ question: "q", answer: "x".repeat(1100000), status: "done" }] };
      localStorage.setItem("llm-twin.conversation.huge", JSON.stringify(huge));
    }`);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.reload();
    await expect.poll(listTitles).toEqual(["RAG post", "Tell me about Maxime Labonne's articles on fine-tuning."]);
    expect(await activeTitle()).toBe("Tell me about Maxime Labonne's articles on fine-tuning.");
    expect(await page.locator("#conversation .answer").allTextContents()).toEqual(answers);
    expect(await page.locator("#conversation .turn-twin").first().locator(".source-card").count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "conversations-restored.png") });

    // Delete asks first: cancel keeps it, accept removes it (for good: also after a reload).
    page.once("dialog", (dialog) => dialog.dismiss());
    await page.getByRole("button", { name: "Delete “RAG post”" }).click();
    expect(await listTitles()).toContain("RAG post");
    page.once("dialog", (dialog) => dialog.accept());
    await page.getByRole("button", { name: "Delete “RAG post”" }).click();
    expect(await listTitles()).toEqual(["Tell me about Maxime Labonne's articles on fine-tuning."]);
    await page.reload();
    await expect.poll(listTitles).toEqual(["Tell me about Maxime Labonne's articles on fine-tuning."]);
    expect((await stored()).map((conversation) => conversation.title)).toEqual([
      "Tell me about Maxime Labonne's articles on fine-tuning.",
    ]);
  });

  it("regenerates the last answer: same question, the history before it, the answer replaced", async () => {
    const before = (await stored())[0];
    expect(before?.turns).toHaveLength(3);
    expect(await page.locator(".regenerate-answer").count()).toBe(1);
    const last = page.locator(".turn-twin").last();
    await last.getByRole("button", { name: "Regenerate the answer" }).click();
    await expect
      .poll(() => page.locator(".turn-twin").last().getAttribute("class"), { timeout: 30_000 })
      .toContain("turn-done");
    expect(sent.at(-1)?.query).toBe("And what about evaluation?");
    // A new answer, not the answer cache's copy of the one replaced.
    expect(sent.at(-1)?.cache).toBe(false);
    expect(sent.at(-2)?.cache).toBeUndefined();
    // The history before the last question (four messages, three kept), never the replaced answer.
    expect(sent.at(-1)?.history).toEqual([
      { role: "assistant", content: before?.turns[0]?.answer },
      { role: "user", content: "What does he recommend before SFT?" },
      { role: "assistant", content: before?.turns[1]?.answer },
    ]);
    expect(await page.locator(".turn-twin").count()).toBe(3);
    expect(await page.locator(".turn-user").count()).toBe(3);
    const after = (await stored())[0];
    expect(after?.turns).toHaveLength(3);
    expect(after?.turns[2]?.question).toBe("And what about evaluation?");
    expect(await page.locator(".regenerate-answer").count()).toBe(1);
  });

  it("copies an answer's raw Markdown and renders Markdown safely: no HTML, scripts or javascript: links", async () => {
    const answer = [
      "# Plan",
      "",
      "Some **bold**, *emphasis*, `inline <code>` and [a link](https://example.com/a?b=1).",
      "",
      "- one",
      "- two with `code`",
      "",
      "2. second",
      "3. third",
      "",
      "> quoted **text**",
      "",
      "```js",
      'const tag = "<b>not bold</b>";',
      "```",
      "",
      "<script>window.__pwned = 'script'</script>",
      '<img src="x" onerror="window.__pwned = \'img\'">',
      "[click me](javascript:window.__pwned='link') and [data](data:text/html,hi) and <a href=\"javascript:alert(1)\">raw</a>",
      "![image](https://example.com/i.png) visit https://example.com/bare.",
    ].join("\n");
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      dialog.dismiss().catch(() => {});
    });
    await page.route("**/rag", (route) =>
      route.fulfill({ status: 200, contentType: "text/event-stream", body: scriptedAnswer(answer) }),
    );
    await page.locator("#new-conversation").click();
    const turn = await ask("Show me Markdown.");
    await page.unroute("**/rag");
    const view = turn.locator(".answer");
    expect(await view.locator("h1").textContent()).toBe("Plan");
    expect(await view.locator("strong").first().textContent()).toBe("bold");
    expect(await view.locator("em").first().textContent()).toBe("emphasis");
    expect(await view.locator("p code").first().textContent()).toBe("inline <code>");
    const link = view.getByRole("link", { name: "a link" });
    expect(await link.getAttribute("href")).toBe("https://example.com/a?b=1");
    expect(await link.getAttribute("rel")).toContain("noopener");
    expect(await view.locator("ul > li").count()).toBe(2);
    expect(await view.locator("ol").getAttribute("start")).toBe("2");
    expect(await view.locator("ol > li").allTextContents()).toEqual(["second", "third"]);
    expect(await view.locator("blockquote strong").textContent()).toBe("text");
    expect(await view.locator("pre code").textContent()).toBe('const tag = "<b>not bold</b>";');
    expect(await view.locator("pre code").getAttribute("data-language")).toBe("js");
    expect(await view.getByRole("link", { name: "https://example.com/bare" }).getAttribute("href")).toBe(
      "https://example.com/bare",
    );
    // Nothing from the model became an element or ran: the HTML is shown as text.
    expect(await view.locator("script, img, iframe, b, [onerror]").count()).toBe(0);
    const hrefs = await view.locator("a").evaluateAll((links) => links.map((link) => link.getAttribute("href")));
    expect(hrefs.every((href) => href?.startsWith("https://"))).toBe(true);
    const text = (await view.textContent()) ?? "";
    expect(text).toContain("<script>window.__pwned = 'script'</script>");
    expect(text).toContain('<img src="x" onerror=');
    expect(text).toContain("click me");
    await view.getByText("click me").click();
    expect(await page.evaluate("window.__pwned")).toBeUndefined();
    expect(dialogs).toEqual([]);

    // Copy gives the answer exactly as written (Markdown), not the rendered text.
    await turn.getByRole("button", { name: "Copy the answer (Markdown)" }).click();
    await expect.poll(() => turn.locator(".action-status").textContent()).toBe("Copied.");
    expect(await page.evaluate<string>("navigator.clipboard.readText()")).toBe(answer);
    await page.screenshot({ path: join(ARTIFACTS, "markdown-answer.png"), fullPage: true });
  });

  it("renders unfinished and pathological Markdown (streaming, deep nesting, runs of delimiters) without throwing", async () => {
    const rendered = await page.evaluate<Record<string, string | number>>(`(async () => {
      const script = document.querySelector('script[type="module"]').src.replace("app.js", "markdown.js");
      const { renderMarkdown } = await import(script);
      const html = (text) => {
        const box = document.createElement("div");
        box.append(renderMarkdown(text));
        return box.innerHTML;
      };
      return {
        unclosedFence: html("\\u0060\\u0060\\u0060py\\nprint(1)"),
        partialBold: html("some **bol"),
        nested: html("- a\\n  - b\\n    - c"),
        snake: html("a_b_c and _em_ and 2 * 3 * 4"),
        heading: html("#hashtag\\n## Title ##"),
        deepQuote: html(">".repeat(5000) + " x").length,
        stars: html("*".repeat(5000)).length,
        brackets: html("[".repeat(3000) + "](").length,
        backticks: html("\\u0060".repeat(3001)).length,
      };
    })()`);
    expect(rendered.unclosedFence).toBe('<pre><code data-language="py">print(1)</code></pre>');
    expect(rendered.partialBold).toBe("<p>some **bol</p>");
    expect(rendered.nested).toBe("<ul><li><p>a</p><ul><li><p>b</p><ul><li><p>c</p></li></ul></li></ul></li></ul>");
    expect(rendered.snake).toBe("<p>a_b_c and <em>em</em> and 2 * 3 * 4</p>");
    expect(rendered.heading).toBe("<p>#hashtag</p><h2>Title</h2>");
    for (const name of ["deepQuote", "stars", "brackets", "backticks"]) expect(rendered[name], name).toBeGreaterThan(0);
  });

  it("switching conversations while an answer streams stops it, kept as stopped with Regenerate", async () => {
    await page.locator("#settings summary").click();
    await page.locator("#maxNewTokens").fill("400");
    await page.locator("#settings summary").click();
    await page.locator("#new-conversation").click();
    const streams = spy.streams.length;
    await page.locator("#question").fill("Write a long article about LLMOps.");
    await page.locator("#question").press("Enter");
    const answer = page.locator(".turn-twin .answer").last();
    await expect.poll(async () => (await answer.textContent())?.length ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
    await page.locator("#new-conversation").click();
    expect(await page.locator("#conversation .turn").count()).toBe(0);
    await expect.poll(() => spy.streams[streams]?.signal?.aborted, { timeout: 10_000 }).toBe(true);
    expect(await page.locator("#error").isHidden()).toBe(true);
    expect(await page.locator("#status").textContent()).not.toBe("Stopped.");
    expect(await page.locator("#send").isEnabled()).toBe(true);

    await page.getByRole("button", { name: "Write a long article about LLMOps.", exact: true }).click();
    const turn = page.locator(".turn-twin").last();
    expect(await turn.getAttribute("class")).toContain("turn-stopped");
    expect(await turn.locator(".turn-footer").textContent()).toMatch(/^Stopped after \d+ tokens/);
    expect(await turn.getByRole("button", { name: "Regenerate the answer" }).count()).toBe(1);
    const saved = (await stored()).find((conversation) => conversation.title === "Write a long article about LLMOps.");
    expect(saved?.turns.map((item) => item.status)).toEqual(["stopped"]);
  });
});
