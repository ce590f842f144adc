/**
 * The LanguageModel port on the in-process engine: what the RAG service uses in one-process mode.
 */
import type { GenerateRequest, GenerateResult, LanguageModel, LanguageModelInput, StreamPart } from "../port.js";
import { createLlamaCppEngine, type EngineRequest, type LlamaCppEngine, type LlamaCppEngineOptions } from "./engine.js";

export type LlamaCppLanguageModel = LanguageModel & { readonly engine: LlamaCppEngine };

/** Loads the model and returns the port; `dispose()` frees the model. */
export async function createLlamaCppLanguageModel(options: LlamaCppEngineOptions): Promise<LlamaCppLanguageModel> {
  return languageModelFromEngine(await createLlamaCppEngine(options));
}

export function languageModelFromEngine(engine: LlamaCppEngine): LlamaCppLanguageModel {
  return {
    id: engine.modelId,
    engine,
    async generate(request) {
      let result: GenerateResult | undefined;
      for await (const event of engine.run(toEngineRequest(request))) {
        if (event.type === "done") {
          result = {
            text: event.generatedText,
            finishReason: event.finishReason,
            usage: { promptTokens: event.promptTokens, completionTokens: event.completionTokens },
          };
        }
      }
      if (result === undefined) throw new Error("generation ended without a result");
      return result;
    },
    async *stream(request): AsyncGenerator<StreamPart> {
      for await (const event of engine.run(toEngineRequest(request))) {
        if (event.type === "token") {
          if (event.text.length > 0) yield { type: "token", text: event.text, tokenId: event.id };
        } else if (event.type === "done") {
          yield {
            type: "done",
            finishReason: event.finishReason,
            usage: { promptTokens: event.promptTokens, completionTokens: event.completionTokens },
          };
        }
      }
    },
    async health() {
      return !engine.disposed;
    },
    async [Symbol.asyncDispose]() {
      return engine.dispose();
    },
  };
}

function toEngineRequest(request: GenerateRequest): EngineRequest {
  const { signal, ...rest } = request;
  const input: LanguageModelInput = "messages" in rest ? { messages: rest.messages } : { prompt: rest.prompt };
  const engineRequest: EngineRequest = { input, parameters: rest };
  if (signal !== undefined) engineRequest.signal = signal;
  return engineRequest;
}
