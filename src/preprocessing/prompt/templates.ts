/**
 * Prompt templates shared by fine-tuning data and serving, so that the model sees at inference
 * exactly the shape it was trained on (the reference trained on Alpaca prompts and served a
 * different one).
 */

/** Version of the serving templates below: bumped with any change of their wording (recorded in every trace). */
export const PROMPT_TEMPLATES_VERSION = "prompt-v1";

/** Our system instruction (the role the twin plays). */
export const SYSTEM_PROMPT =
  "You write in the voice of the author whose writing is given as context. Answer the user's request as that author would, " +
  "relying on the context as your main source of facts; when the context does not cover something, say so rather than inventing it.";

/**
 * The Alpaca prompt without an input section, exactly as the instruction dataset was formatted
 * for fine-tuning: preamble, "### Instruction:", the instruction, "### Response:", and the model
 * continues after the final newline.
 */
export const ALPACA_PREAMBLE =
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.";

export function formatAlpaca(instruction: string, response = ""): string {
  return `${ALPACA_PREAMBLE}\n\n### Instruction:\n${instruction}\n\n### Response:\n${response}`;
}

/** The user turn (chat) or the instruction (Alpaca): the request, then the retrieved context. */
export function formatRequestWithContext(query: string, context: string): string {
  if (context.trim() === "") return query;
  return `${query}\n\nContext:\n${context}`;
}
