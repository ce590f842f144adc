/**
 * `npm run bench -- llm-clients [--requests 2000] [--streams 200] [--tokens 256] [--concurrency 16] [--json]`:
 * the cost of the HTTP LanguageModel clients themselves, against an in-process fake TGI server that
 * answers at once (so what is measured is the client: fetch, schema validation, SSE parsing,
 * retries bookkeeping, signals): mean time per non-streamed request through the TGI client vs a
 * bare fetch + JSON.parse, streamed tokens/s through the client's SSE parser vs reading the bytes,
 * and requests/s at a concurrency through one client vs the load balancer over two servers.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createTgiLanguageModel } from "../../src/llm/clients/index.js";
import { createLoadBalancedLanguageModel } from "../../src/llm/load-balancer/index.js";
import type { LanguageModel } from "../../src/llm/port.js";
import { parseBenchOptions, positiveInteger, switchOn } from "../support/bench-options.js";

export const name = "llm-clients";
export const description =
  "HTTP LLM client overhead (TGI client vs bare fetch), SSE parsing tokens/s, load balancer req/s";

type Options = { requests: number; streams: number; tokens: number; concurrency: number; json: boolean };

function parseOptions(args: string[]): Options {
  const options: Options = { requests: 2000, streams: 200, tokens: 256, concurrency: 16, json: false };
  return parseBenchOptions(args, options, {
    "--requests": ["requests", positiveInteger],
    "--streams": ["streams", positiveInteger],
    "--tokens": ["tokens", positiveInteger],
    "--concurrency": ["concurrency", positiveInteger],
    "--json": ["json", switchOn],
  });
}

async function startFakeTgi(tokens: number): Promise<{ url: string; server: Server }> {
  const generated = JSON.stringify({
    generated_text: " hello world",
    details: { finish_reason: "length", generated_tokens: 2, seed: null, input_length: 5, prefill: [], tokens: [] },
  });
  const events: string[] = [];
  for (let index = 0; index < tokens; index++) {
    const last = index === tokens - 1;
    events.push(
      `data:${JSON.stringify({
        index,
        token: { id: 300 + (index % 100), text: " tok", logprob: -1, special: false },
        generated_text: last ? " tok".repeat(tokens) : null,
        details: last ? { finish_reason: "length", generated_tokens: tokens, seed: null, input_length: 5 } : null,
      })}\n\n`,
    );
  }
  const stream = events.join("");
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      if (request.url === "/generate_stream") {
        response.writeHead(200, { "content-type": "text/event-stream" });
        // Several writes, as a server emitting tokens does.
        for (let offset = 0; offset < stream.length; offset += 4096)
          response.write(stream.slice(offset, offset + 4096));
        response.end();
      } else {
        response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(generated) });
        response.end(generated);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function timeIt(iterations: number, operation: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < iterations; index++) await operation();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function throughput(concurrency: number, total: number, operation: () => Promise<unknown>): Promise<number> {
  let remaining = total;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (remaining > 0) {
        remaining--;
        await operation();
      }
    }),
  );
  return total / (Number(process.hrtime.bigint() - started) / 1e9);
}

export async function run(args: string[]): Promise<void> {
  const options = parseOptions(args);
  const first = await startFakeTgi(options.tokens);
  const second = await startFakeTgi(options.tokens);
  const client = createTgiLanguageModel({ url: first.url, retries: 0 });
  const body = JSON.stringify({ inputs: "Hello", parameters: { max_new_tokens: 2, details: true } });
  const bareGenerate = async () => {
    const response = await fetch(`${first.url}/generate`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    return JSON.parse(await response.text());
  };
  const clientGenerate = () => client.generate({ prompt: "Hello", maxNewTokens: 2 });
  // Warm-up (JIT, connection pool).
  await timeIt(200, bareGenerate);
  await timeIt(200, clientGenerate);
  // Alternate the two in rounds so a change in machine load hits both alike.
  let bareMs = 0;
  let clientMs = 0;
  const rounds = 10;
  for (let round = 0; round < rounds; round++) {
    bareMs += await timeIt(options.requests / rounds, bareGenerate);
    clientMs += await timeIt(options.requests / rounds, clientGenerate);
  }

  const bareStream = async () => {
    const response = await fetch(`${first.url}/generate_stream`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    let bytes = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
    return bytes;
  };
  const clientStream = async (model: LanguageModel) => {
    let tokens = 0;
    for await (const part of model.stream({ prompt: "Hello" })) if (part.type === "token") tokens++;
    return tokens;
  };
  await timeIt(20, bareStream);
  await timeIt(20, () => clientStream(client));
  let bareStreamMs = 0;
  let clientStreamMs = 0;
  for (let round = 0; round < rounds; round++) {
    bareStreamMs += await timeIt(options.streams / rounds, bareStream);
    clientStreamMs += await timeIt(options.streams / rounds, () => clientStream(client));
  }

  const balancer = createLoadBalancedLanguageModel(
    [
      { id: "first", model: createTgiLanguageModel({ url: first.url, retries: 0 }) },
      { id: "second", model: createTgiLanguageModel({ url: second.url, retries: 0 }) },
    ],
    { healthIntervalMs: 0 },
  );
  let singleSeconds = 0;
  let balancedSeconds = 0;
  for (let round = 0; round < rounds; round++) {
    singleSeconds +=
      options.requests / rounds / (await throughput(options.concurrency, options.requests / rounds, clientGenerate));
    balancedSeconds +=
      options.requests /
      rounds /
      (await throughput(options.concurrency, options.requests / rounds, () =>
        balancer.generate({ prompt: "Hello", maxNewTokens: 2 }),
      ));
  }
  const singleRps = options.requests / singleSeconds;
  const balancedRps = options.requests / balancedSeconds;

  const result = {
    requests: options.requests,
    generate: {
      bareFetchMeanMicros: Math.round((bareMs * 1000) / options.requests),
      tgiClientMeanMicros: Math.round((clientMs * 1000) / options.requests),
      clientOverheadMicros: Math.round(((clientMs - bareMs) * 1000) / options.requests),
    },
    stream: {
      tokensPerStream: options.tokens,
      bareBytesTokensPerSecond: Math.round((options.streams * options.tokens) / (bareStreamMs / 1000)),
      tgiClientTokensPerSecond: Math.round((options.streams * options.tokens) / (clientStreamMs / 1000)),
    },
    concurrency: options.concurrency,
    singleClientRequestsPerSecond: Math.round(singleRps),
    loadBalancerTwoReplicasRequestsPerSecond: Math.round(balancedRps),
    loadBalancerStats: balancer.stats().map((stats) => ({ id: stats.id, requests: stats.requests })),
  };
  await client[Symbol.asyncDispose]();
  await balancer[Symbol.asyncDispose]();
  first.server.closeAllConnections();
  second.server.closeAllConnections();
  first.server.close();
  second.server.close();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(
    [
      `non-streamed request, mean: bare fetch ${result.generate.bareFetchMeanMicros} µs, TGI client ${result.generate.tgiClientMeanMicros} µs (overhead ${result.generate.clientOverheadMicros} µs)`,
      `streamed tokens/s: bare byte reading ${result.stream.bareBytesTokensPerSecond}, TGI client (SSE + validation) ${result.stream.tgiClientTokensPerSecond}`,
      `req/s at concurrency ${options.concurrency}: one client ${result.singleClientRequestsPerSecond}, load balancer over 2 ${result.loadBalancerTwoReplicasRequestsPerSecond}`,
      "",
    ].join("\n"),
  );
}
