/**
 * Prompt templates shared by fine-tuning data and serving, so that the model sees at inference
 * exactly the shape it was trained on (the reference trained on Alpaca prompts and served a
 * different one).
 */

/** Version of the serving templates below: bumped with any change of their wording (recorded in every trace). */
export const PROMPT_TEMPLATES_VERSION = "prompt-v2";

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

export type ConversationTurn = { role: "user" | "assistant"; content: string };

/**
 * Earlier turns as text, for the one-prompt templates (Alpaca, custom): the chat template sends
 * them as messages instead. "" without turns, so a prompt without history is unchanged.
 */
export function formatHistory(turns: readonly ConversationTurn[]): string {
  if (turns.length === 0) return "";
  const lines = turns.map((turn) => `${turn.role === "user" ? "User" : "Assistant"}: ${turn.content}`);
  return `Conversation so far:\n${lines.join("\n")}\n\nCurrent request:\n`;
}

/**
 * Version of the condensing template below: bumped with any change of its wording (recorded in the
 * trace's condense step and in the prompt templates' fingerprint, ./fingerprint.ts).
 */
export const CONDENSE_PROMPT_VERSION = "condense-v1";

/**
 * The condensing prompt: the conversation and the follow-up question rewritten into one
 * standalone question for retrieval (the answer is that question alone, on one line).
 */
export function formatCondensePrompt(turns: readonly ConversationTurn[], question: string): string {
  const lines = turns.map((turn) => `${turn.role === "user" ? "User" : "Assistant"}: ${turn.content}`);
  return (
    "Rewrite the follow-up question as one standalone question that can be understood without the conversation: " +
    "replace pronouns with the names they refer to and keep the question's meaning. Answer with the question only.\n\n" +
    `Conversation:\n${lines.join("\n")}\n\nFollow-up question: ${question}\nStandalone question:`
  );
}
