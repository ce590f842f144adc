/**
 * `npm run bench -- chat-page [--json] [--requests N] [--loads N]`
 * The chat page's weight and speed: bytes of the page, its scripts and its styles as served; the
 * latency of `GET /` and of a script over loopback HTTP (the page plugin alone in a Fastify app,
 * N sequential requests); and, when /usr/bin/chromium exists, the page's load in headless
 * Chromium (navigation to `load`, fresh cache each time, N loads; `/authors` answers a fixed list).
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

async function browserLoads(url: string, count: number): Promise<number[]> {
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
    return samples;
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
    const browser = existsSync(CHROMIUM) ? await browserLoads(`${address}/`, loads) : [];
    const result = {
      load1m: loadavg()[0] ?? 0,
      bytes: { page: assets.page.body.byteLength, scripts: bytesOf(".js"), styles: bytesOf(".css") },
      scriptFiles: [...assets.files.keys()].filter((file) => file.endsWith(".js")).length,
      pageMs: { p50: percentile(page, 0.5), p95: percentile(page, 0.95) },
      scriptMs: { p50: percentile(script, 0.5), p95: percentile(script, 0.95) },
      browserLoadMs: browser.length === 0 ? null : { p50: percentile(browser, 0.5), max: Math.max(...browser) },
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
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await app.close();
  }
}
