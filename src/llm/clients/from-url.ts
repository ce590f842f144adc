/**
 * Builds a LanguageModel client from a URL, the way `serve-rag --llm-url` takes it:
 *   http://host:8080                 TGI API (this project's serve-llm, Hugging Face TGI) — the default
 *   tgi:http://host:8080             the same, explicitly
 *   openai:http://host:8000          OpenAI-compatible server (vLLM, llama-server, Ollama); also
 *                                    chosen for plain URLs by `api: "openai"` (`--llm-api openai`)
 *   sagemaker:<endpoint-name>        a SageMaker endpoint running a TGI-compatible container
 *   url1,url2,...                    several replicas behind the least-outstanding-requests balancer
 */
import { AppError } from "../../errors/index.js";
import { definedOnly } from "../../util/index.js";
import { createLoadBalancedLanguageModel, type LoadBalancerOptions } from "../load-balancer/index.js";
import type { LanguageModel } from "../port.js";
import { createOpenAiLanguageModel } from "./openai-client.js";
import { createSageMakerLanguageModel } from "./sagemaker-client.js";
import { createTgiLanguageModel } from "./tgi-client.js";

export type LanguageModelApi = "tgi" | "openai";

export type LanguageModelFromUrlOptions = {
  /** API spoken by plain http(s) URLs. Default "tgi". */
  api?: LanguageModelApi;
  /** OpenAI-compatible: model name (default: the first one the server lists). */
  model?: string;
  /** OpenAI-compatible: bearer token. */
  apiKey?: string;
  /** Extra HTTP headers (TGI and OpenAI-compatible). */
  headers?: Record<string, string>;
  /** Deadline of one call in ms (default 120000). */
  timeoutMs?: number;
  /** Retries on retryable errors (default 2 for one URL, 0 per replica behind the balancer, which fails over instead). */
  retries?: number;
  healthTimeoutMs?: number;
  /** SageMaker: AWS region (default: the SDK's chain, e.g. AWS_REGION). */
  region?: string;
  /** Options of the balancer used when several URLs are given. */
  loadBalancer?: Omit<LoadBalancerOptions, "id">;
  fetch?: typeof fetch;
};

function createOne(url: string, options: LanguageModelFromUrlOptions, retries: number | undefined): LanguageModel {
  const common = definedOnly({
    timeoutMs: options.timeoutMs,
    retries,
    healthTimeoutMs: options.healthTimeoutMs,
    headers: options.headers,
    fetch: options.fetch,
  });
  if (url.startsWith("sagemaker:")) {
    const endpointName = url.slice("sagemaker:".length);
    if (endpointName === "") throw new AppError("configuration_error", "sagemaker: URLs need an endpoint name");
    return createSageMakerLanguageModel({
      endpointName,
      ...definedOnly({
        region: options.region,
        timeoutMs: options.timeoutMs,
        retries,
        healthTimeoutMs: options.healthTimeoutMs,
      }),
    });
  }
  if (url.startsWith("openai:")) {
    const target = url.slice("openai:".length);
    return createOpenAiLanguageModel({
      url: target,
      ...common,
      ...definedOnly({ model: options.model, apiKey: options.apiKey }),
    });
  }
  if (url.startsWith("tgi:")) return createTgiLanguageModel({ url: url.slice("tgi:".length), ...common });
  if (!/^https?:\/\//.test(url)) {
    throw new AppError(
      "configuration_error",
      `Unsupported LLM URL ${JSON.stringify(url)}: use http(s)://…, tgi:http(s)://…, openai:http(s)://… or sagemaker:<endpoint>`,
    );
  }
  if ((options.api ?? "tgi") === "openai") {
    return createOpenAiLanguageModel({
      url,
      ...common,
      ...definedOnly({ model: options.model, apiKey: options.apiKey }),
    });
  }
  return createTgiLanguageModel({ url, ...common });
}

export function createLanguageModelFromUrl(url: string, options: LanguageModelFromUrlOptions = {}): LanguageModel {
  const urls = url
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (urls.length === 0) throw new AppError("configuration_error", "No LLM URL given");
  if (urls.length === 1) return createOne(urls[0] as string, options, options.retries);
  if (new Set(urls).size !== urls.length) throw new AppError("configuration_error", "The LLM URLs contain duplicates");
  const replicas = urls.map((entry) => ({ id: entry, model: createOne(entry, options, options.retries ?? 0) }));
  return createLoadBalancedLanguageModel(replicas, { ...options.loadBalancer, id: urls.join(",") });
}
