/** An engine request run to its end, as the engine tests compare it: token ids, text, finish reason. */
import type { EngineEvent, EngineRequest, LlamaCppEngine } from "../llm/llama-cpp/engine.js";

export type EngineOutput = { tokens: number[]; text: string; reason: string };

export async function runToEnd(engine: LlamaCppEngine, request: EngineRequest): Promise<EngineOutput> {
  const events: EngineEvent[] = [];
  for await (const event of engine.run(request)) events.push(event);
  const done = events.at(-1);
  if (done?.type !== "done") throw new Error("no done event");
  return {
    tokens: events.flatMap((event) => (event.type === "token" ? [event.id] : [])),
    text: done.generatedText,
    reason: done.finishReason,
  };
}
