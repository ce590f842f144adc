/**
 * `npm run bench -- online-eval [--json] [--requests N] [--rate 0.1] [--max-new-tokens N]`
 * What online evaluation costs the answers: two RAG services over the same LanceDB store (the LLM
 * Twin corpus, static embedder) and the same tiny generated in-process GGUF, one with
 * `--online-eval-rate 0` and one with `--online-eval-rate <rate>`, the voice model built from the
 * corpus and the scripted OpenAI-compatible judge of the tests on loopback. Requests alternate
 * between the two services, one at a time, so load drift hits both alike. Reports /rag p50 and p95
 * (client side) of each and the p50 ratio. Target: at 10 %, p50 ≤ 1.02 × without.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { tinyModelPath } from "../../src/gguf/index.js";
import { createLlamaCppLanguageModel } from "../../src/llm/llama-cpp/index.js";
import { inProcessPromptLimit, runRagService } from "../../src/rag/service/run.js";
import { defaultRagServiceSettings } from "../../src/rag/service/settings.js";
import { startScriptedJudge } from "../../src/testing/scripted-judge.js";
import { SHARED_DATASETS_MISSING, sharedDatasetPath } from "../../src/testing/shared-datasets.js";
import { disposeAll, ingestArticles, option, percentile, RAG_BENCH_QUERIES as QUERIES } from "../support/rag-bench.js";

export const name = "online-eval";
export const description = "RAG service: /rag p50 with online evaluation at 10 % (judge + voice) vs without";

async function ask(url: string, query: string, maxNewTokens: number): Promise<number> {
  const sent = performance.now();
  const response = await fetch(`${url}/rag`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, maxNewTokens, expandQueries: 1 }),
  });
  await response.json();
  if (!response.ok) throw new Error(`/rag answered ${response.status}`);
  return performance.now() - sent;
}

export async function run(args: string[]): Promise<void> {
  const articles = sharedDatasetPath("llm-twin", "articles.json");
  if (articles === undefined) {
    process.stderr.write(`${SHARED_DATASETS_MISSING}\n`);
    return;
  }
  process.env.LANCEDB_LOG ??= "error";
  const requests = Number(option(args, "--requests") ?? "200");
  const rate = Number(option(args, "--rate") ?? "0.1");
  const maxNewTokens = Number(option(args, "--max-new-tokens") ?? "16");
  const directory = await mkdtemp(join(tmpdir(), "llm-twin-bench-online-eval-"));
  const judge = await startScriptedJudge();
  try {
    const { storeUri, store, embedder } = await ingestArticles(directory, articles);
    const llm = await createLlamaCppLanguageModel({ modelPath: await tinyModelPath("chat"), threads: 1, parallel: 2 });
    const common = {
      port: 0,
      store: storeUri,
      logLevel: "silent",
      rateLimit: 0,
      feedbackFile: join(directory, "feedback.jsonl"),
    };
    const shared = { store, embedder, llm, ...inProcessPromptLimit(llm.engine), disposeResources: async () => {} };
    const plain = await runRagService({ settings: defaultRagServiceSettings(common), ...shared });
    const evaluated = await runRagService({
      settings: defaultRagServiceSettings({
        ...common,
        onlineEvalRate: rate,
        judgeUrl: judge.url,
        voiceCorpus: articles,
      }),
      ...shared,
    });
    for (let index = 0; index < 6; index++) {
      await ask(plain.url, QUERIES[index % QUERIES.length] as string, maxNewTokens);
      await ask(evaluated.url, QUERIES[index % QUERIES.length] as string, maxNewTokens);
    }
    const without: number[] = [];
    const withEval: number[] = [];
    for (let index = 0; index < requests; index++) {
      const query = QUERIES[index % QUERIES.length] as string;
      // alternate which goes first, so neither always follows the other's background work
      if (index % 2 === 0) {
        without.push(await ask(plain.url, query, maxNewTokens));
        withEval.push(await ask(evaluated.url, query, maxNewTokens));
      } else {
        withEval.push(await ask(evaluated.url, query, maxNewTokens));
        without.push(await ask(plain.url, query, maxNewTokens));
      }
    }
    const metrics = await (await fetch(`${evaluated.url}/metrics`)).text();
    const scored = /llm_twin_rag_online_eval_samples_total\{outcome="scored"\} (\d+)/.exec(metrics)?.[1] ?? "0";
    await plain.close();
    await evaluated.close();
    await disposeAll(llm, store, embedder);
    const report = {
      setup: {
        requests,
        rate,
        maxNewTokens,
        expandQueries: 1,
        llm: "tiny generated GGUF (chat preset), 1 thread",
        judge: "scripted, loopback",
      },
      without: { p50: percentile(without, 0.5), p95: percentile(without, 0.95) },
      withOnlineEval: {
        p50: percentile(withEval, 0.5),
        p95: percentile(withEval, 0.95),
        answersScored: Number(scored),
      },
      p50Ratio: percentile(withEval, 0.5) / percentile(without, 0.5),
    };
    if (args.includes("--json")) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const fixed = (value: number) => value.toFixed(2);
    process.stdout.write(
      `${[
        `${requests} requests per service, alternating, 1 at a time; rate ${rate}; maxNewTokens ${maxNewTokens}; expandQueries 1`,
        "",
        "| service | /rag p50 ms | /rag p95 ms | answers scored |",
        "|---|---:|---:|---:|",
        `| online eval off | ${fixed(report.without.p50)} | ${fixed(report.without.p95)} | – |`,
        `| online eval at ${rate} | ${fixed(report.withOnlineEval.p50)} | ${fixed(report.withOnlineEval.p95)} | ${scored} |`,
        "",
        `p50 ratio: ${report.p50Ratio.toFixed(3)} (target ≤ 1.02)`,
      ].join("\n")}\n`,
    );
  } finally {
    await judge.close();
    await rm(directory, { recursive: true, force: true });
  }
}
