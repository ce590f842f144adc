/**
 * `npm run bench -- chat-page [--json] [--requests N] [--loads N]`
 * The chat page's weight and speed: bytes of the page, its scripts and its styles as served; the
 * latency of `GET /` and of a script over loopback HTTP (the page plugin alone in a Fastify app,
 * N sequential requests); and, when /usr/bin/chromium exists, the page's load in headless
 * Chromium (navigation to `load`, fresh cache each time, N loads; `/authors` answers a fixed list)
 * and the cost of drawing a streamed answer as Markdown again on every token (the page's
 * markdown.js on a ~2,000-token answer of mixed Markdown, 4 characters per token).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Fastify from "fastify";
import { CHROMIUM, CHROMIUM_LAUNCH } from "../../src/testing/chromium.js";
import { loadChatPageAssets, registerChatPage } from "../../src/web/index.js";

export const name = "chat-page";
export const description =
  "Chat page: served bytes, GET / and script latency over loopback, load time in headless Chromium";

function option(args: string[], flag: string, fallback: number): number {
  const position = args.indexOf(flag);
  const value = position === -1 ? undefined : Number(args[position + 1]);
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

async function timeRequests(url: string, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const start = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    samples.push(performance.now() - start);
  }
  return samples;
}

/** A long answer with every construct the renderer knows, about 8,000 characters. */
function sampleAnswer(): string {
  const section = [
    "## A section heading",
    "",
    "Some **bold** text, some *emphasis*, `inline code` and [a link](https://example.com/page).",
    "A second line in the same paragraph, then a list:",
    "",
    "- first item with `code`",
    "- second item",
    "  - nested item",
    "",
    "1. one",
    "2. two",
    "",
    "> a quoted remark with **weight**",
    "",
    "```python",
    "def twin(query):",
    "    return retrieve(query)",
    "```",
    "",
  ].join("\n");
  return section.repeat(Math.ceil(8000 / section.length));
}

/** Renders `answer` growing 4 characters at a time, as the page does on each token; ms per render. */
async function markdownRenders(page: import("playwright-core").Page, url: string): Promise<number[]> {
  const script = `${url}${await page.evaluate<string>("document.querySelector('script[type=module]').getAttribute('src').replace('app.js', 'markdown.js').slice(1)")}`;
  // A string, not a function: this project compiles without the DOM library.
  return page.evaluate<number[]>(`(async () => {
    const { renderMarkdown } = await import(${JSON.stringify(script)});
    const answer = ${JSON.stringify(sampleAnswer())};
    const box = document.createElement("div");
    document.body.append(box);
    const samples = [];
    for (let end = 4; end < answer.length + 4; end += 4) {
      const start = performance.now();
      box.replaceChildren(renderMarkdown(answer.slice(0, end)));
      samples.push(performance.now() - start);
    }
    box.remove();
    return samples;
  })()`);
}

async function browserLoads(url: string, count: number): Promise<{ loads: number[]; renders: number[] }> {
  const { chromium } = await import("playwright-core");
  const profile = await mkdtemp(join(tmpdir(), "llm-twin-bench-chromium-"));
  const context = await chromium.launchPersistentContext(profile, CHROMIUM_LAUNCH);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const session = await context.newCDPSession(page);
    await session.send("Network.setCacheDisabled", { cacheDisabled: true });
    const samples: number[] = [];
    for (let index = 0; index < count; index += 1) {
      await page.goto(url, { waitUntil: "load" });
      await page.waitForFunction("document.querySelectorAll('#author option').length > 1");
      samples.push(await page.evaluate<number>("performance.getEntriesByType('navigation')[0].loadEventEnd"));
    }
    return { loads: samples, renders: await markdownRenders(page, url) };
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  const requests = option(args, "--requests", 300);
  const loads = option(args, "--loads", 5);
  const assets = await loadChatPageAssets();
  const bytesOf = (extension: string) =>
    [...assets.files.entries()]
      .filter(([file]) => file.endsWith(extension))
      .reduce((sum, [, asset]) => sum + asset.body.byteLength, 0);
  const app = Fastify();
  await app.register(registerChatPage, {
    listAuthors: async () => [
      { id: "1", fullName: "Maxime Labonne" },
      { id: "2", fullName: "Paul Iusztin" },
    ],
  });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const page = await timeRequests(`${address}/`, requests);
    const script = await timeRequests(`${address}/assets/${assets.version}/app.js`, requests);
    const measured = existsSync(CHROMIUM) ? await browserLoads(`${address}/`, loads) : { loads: [], renders: [] };
    const browser = measured.loads;
    const renders = measured.renders;
    const result = {
      load1m: loadavg()[0] ?? 0,
      bytes: { page: assets.page.body.byteLength, scripts: bytesOf(".js"), styles: bytesOf(".css") },
      scriptFiles: [...assets.files.keys()].filter((file) => file.endsWith(".js")).length,
      pageMs: { p50: percentile(page, 0.5), p95: percentile(page, 0.95) },
      scriptMs: { p50: percentile(script, 0.5), p95: percentile(script, 0.95) },
      browserLoadMs: browser.length === 0 ? null : { p50: percentile(browser, 0.5), max: Math.max(...browser) },
      markdownRenderMs:
        renders.length === 0
          ? null
          : {
              renders: renders.length,
              p50: percentile(renders, 0.5),
              p95: percentile(renders, 0.95),
              last: renders.at(-1) ?? Number.NaN,
              total: renders.reduce((sum, value) => sum + value, 0),
            },
    };
    if (args.includes("--json")) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const lines = [
      `load average (1 min): ${result.load1m.toFixed(1)}`,
      `bytes: page ${result.bytes.page}, scripts ${result.bytes.scripts} (${result.scriptFiles} modules), styles ${result.bytes.styles}`,
      `GET / over loopback (${requests} requests): p50 ${result.pageMs.p50.toFixed(2)} ms, p95 ${result.pageMs.p95.toFixed(2)} ms`,
      `GET app.js over loopback: p50 ${result.scriptMs.p50.toFixed(2)} ms, p95 ${result.scriptMs.p95.toFixed(2)} ms`,
      result.browserLoadMs === null
        ? "headless Chromium: skipped (no /usr/bin/chromium)"
        : `headless Chromium, no cache (${loads} loads): load event p50 ${result.browserLoadMs.p50.toFixed(0)} ms, max ${result.browserLoadMs.max.toFixed(0)} ms`,
      result.markdownRenderMs === null
        ? "Markdown re-render: skipped (no /usr/bin/chromium)"
        : `Markdown re-render per token (${result.markdownRenderMs.renders} renders up to ${sampleAnswer().length} chars): p50 ${result.markdownRenderMs.p50.toFixed(2)} ms, p95 ${result.markdownRenderMs.p95.toFixed(2)} ms, last ${result.markdownRenderMs.last.toFixed(2)} ms, total ${result.markdownRenderMs.total.toFixed(0)} ms`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await app.close();
  }
}
