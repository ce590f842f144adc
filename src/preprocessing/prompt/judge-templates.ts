/**
 * Prompts and JSON schemas of the LLM judge that scores generated answers (`llm-twin eval
 * generation`). Versioned: a change of wording or schema bumps JUDGE_PROMPTS_VERSION, which every
 * report records, so scores from different prompt versions are never compared unknowingly.
 */

export const JUDGE_PROMPTS_VERSION = "judge-v1";

export type JudgeMetric = "faithfulness" | "answerRelevance" | "contextPrecision" | "contextRecall";
export const JUDGE_METRICS: readonly JudgeMetric[] = [
  "faithfulness",
  "answerRelevance",
  "contextPrecision",
  "contextRecall",
];

export type JudgeInput = {
  question: string;
  answer: string;
  /** Retrieved chunk texts, in rank order. */
  contexts: readonly string[];
  reference?: string;
  /** Earlier turns of the conversation, oldest first. */
  history?: readonly { role: "user" | "assistant"; content: string }[];
};

export type JudgePrompt = {
  messages: { role: "system" | "user"; content: string }[];
  /** JSON schema the judge's answer must follow (sent as response_format json_schema). */
  schema: { name: string; schema: Record<string, unknown> };
};

const JUDGE_SYSTEM =
  "You are a strict, impartial evaluator of answers produced by a retrieval-augmented assistant. " +
  "Judge only from the texts given; do not use outside knowledge. Reply with JSON that follows the schema, nothing else.";

function numberedContexts(contexts: readonly string[]): string {
  if (contexts.length === 0) return "(no context was retrieved)";
  return contexts.map((text, index) => `[${index + 1}] ${text}`).join("\n\n");
}

function conversation(history: JudgeInput["history"]): string {
  if (history === undefined || history.length === 0) return "";
  return `Earlier conversation:\n${history.map((turn) => `${turn.role}: ${turn.content}`).join("\n")}\n\n`;
}

const booleanList = (item: string, flag: string) => ({
  type: "object",
  additionalProperties: false,
  required: ["items"],
  properties: {
    items: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: [item, flag],
        properties: { [item]: { type: "string" }, [flag]: { type: "boolean" } },
      },
    },
  },
});

/** The judge prompt of one metric (contextRecall needs `reference`). */
export function buildJudgePrompt(metric: JudgeMetric, input: JudgeInput): JudgePrompt {
  const system = { role: "system" as const, content: JUDGE_SYSTEM };
  switch (metric) {
    case "faithfulness":
      return {
        messages: [
          system,
          {
            role: "user",
            content:
              "Split the ANSWER into its factual claims (short, self-contained statements). For each claim, say whether " +
              "the CONTEXT supports it (true) or not (false: contradicted or absent). Greetings and opinions without facts are not claims.\n\n" +
              `CONTEXT:\n${numberedContexts(input.contexts)}\n\nANSWER:\n${input.answer}`,
          },
        ],
        schema: { name: "faithfulness", schema: booleanList("claim", "supported") },
      };
    case "answerRelevance":
      return {
        messages: [
          system,
          {
            role: "user",
            content:
              "Rate how well the ANSWER addresses the QUESTION, from 1 (ignores it or is off-topic) to 5 (answers it directly " +
              "and completely), regardless of whether it is true. Give a one-sentence reason.\n\n" +
              `${conversation(input.history)}QUESTION:\n${input.question}\n\nANSWER:\n${input.answer}`,
          },
        ],
        schema: {
          name: "answer_relevance",
          schema: {
            type: "object",
            additionalProperties: false,
            required: ["score", "reason"],
            properties: { score: { type: "integer", minimum: 1, maximum: 5 }, reason: { type: "string" } },
          },
        },
      };
    case "contextPrecision":
      return {
        messages: [
          system,
          {
            role: "user",
            content:
              `For each numbered CONTEXT passage, in order, say whether it is useful to answer the QUESTION (true) or not (false). ` +
              `Give exactly ${input.contexts.length} items, the passage number as "passage".\n\n` +
              `${conversation(input.history)}QUESTION:\n${input.question}\n\nCONTEXT:\n${numberedContexts(input.contexts)}`,
          },
        ],
        schema: { name: "context_precision", schema: booleanList("passage", "useful") },
      };
    case "contextRecall":
      return {
        messages: [
          system,
          {
            role: "user",
            content:
              "Split the REFERENCE answer into its statements. For each, say whether it can be attributed to the CONTEXT " +
              "(true) or not (false).\n\n" +
              `CONTEXT:\n${numberedContexts(input.contexts)}\n\nREFERENCE:\n${input.reference ?? ""}`,
          },
        ],
        schema: { name: "context_recall", schema: booleanList("statement", "attributed") },
      };
  }
}
