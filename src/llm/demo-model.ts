/**
 * The offline demo model: a tiny GGUF with random weights, generated on this machine. It lets
 * `llm-twin serve` run end to end where no model can be downloaded (retrieval, sources, streaming
 * and traces are real; the generated text is meaningless). Never chosen silently: callers warn.
 */
export const DEMO_MODEL = "demo";

export const DEMO_MODEL_WARNING =
  "serving the offline DEMO model: a tiny random-weight GGUF generated on this machine. Retrieval and " +
  "sources are real, the answer text is gibberish. Pass --model <path|url|hf:...> (or LLM_TWIN_MODEL) for a real model.";

export async function demoModelPath(): Promise<string> {
  const { tinyModelPath } = await import("../gguf/index.js");
  return tinyModelPath("chat");
}
