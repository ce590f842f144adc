/** `eval voice`'s settings in the configuration registry (src/config/settings.ts) and their parsing. */
import { z } from "zod";
import { parseSettingValues, type Setting, type SettingsValues, schemas } from "../../config/settings.js";
import { AppError } from "../../errors/index.js";
import { DEFAULT_VOICE_OPTIONS, VOICE_METHODS } from "../../eval/voice/model.js";

export const DEFAULT_VOICE_CORPUS = "../shared/datasets/llm-twin/articles.json";

const { positiveInteger, text } = schemas;
const count = z.coerce.number({ error: "must be a number" }).int("must be an integer").min(0, "must be 0 or more");

export const EVAL_VOICE_SETTINGS = [
  {
    key: "corpus",
    flag: "--corpus <file|folder>",
    env: "LLM_TWIN_EVAL_VOICE_CORPUS",
    schema: text,
    default: DEFAULT_VOICE_CORPUS,
    help: "the authors' documents (ingestion formats, docs/data-formats.md), cleaned as ingestion does",
  },
  {
    key: "json",
    flag: "--json",
    env: "LLM_TWIN_EVAL_VOICE_JSON",
    schema: z.boolean().default(false),
    defaultText: "false",
    help: "print one JSON object on stdout: settings, documents, correct, accuracy, authors, confusion (rows: actual, columns: predicted, in authors order), perAuthor, errors",
  },
  {
    key: "method",
    flag: "--method <method>",
    env: "LLM_TWIN_EVAL_VOICE_METHOD",
    schema: z.enum(["delta", "cosine-delta"] satisfies typeof VOICE_METHODS, {
      error: "must be delta or cosine-delta",
    }),
    default: DEFAULT_VOICE_OPTIONS.method,
    choices: VOICE_METHODS,
    help: "distance: Burrows' delta or cosine delta",
  },
  {
    key: "words",
    flag: "--words <n>",
    env: "LLM_TWIN_EVAL_VOICE_WORDS",
    schema: count,
    default: String(DEFAULT_VOICE_OPTIONS.words),
    help: "function words in the profile (0: none)",
  },
  {
    key: "ngrams",
    flag: "--ngrams <n>",
    env: "LLM_TWIN_EVAL_VOICE_NGRAMS",
    schema: count,
    default: String(DEFAULT_VOICE_OPTIONS.ngrams),
    help: "character n-grams in the profile (0: none)",
  },
  {
    key: "ngramSize",
    flag: "--ngram-size <n>",
    env: "LLM_TWIN_EVAL_VOICE_NGRAM_SIZE",
    schema: positiveInteger,
    default: String(DEFAULT_VOICE_OPTIONS.ngramSize),
    help: "characters per n-gram",
  },
  {
    key: "passageWords",
    flag: "--passage-words <n>",
    env: "LLM_TWIN_EVAL_VOICE_PASSAGE_WORDS",
    schema: positiveInteger.optional(),
    help: "also attribute each held-out document cut into passages of n words (answer-sized texts), with the model built without that document: passages in JSON",
  },
  {
    key: "text",
    flag: "--text <file>",
    env: "LLM_TWIN_EVAL_VOICE_TEXT",
    schema: text.optional(),
    help: "score this text against every author instead of validating (closest, authors[].score, authors[].distance)",
  },
  {
    key: "author",
    flag: "--author <name>",
    env: "LLM_TWIN_EVAL_VOICE_AUTHOR",
    schema: text.optional(),
    help: "with --text: the requested author, adds score and margin",
  },
] as const satisfies readonly Setting[];

export type EvalVoiceConfig = SettingsValues<typeof EVAL_VOICE_SETTINGS>;

export function parseEvalVoiceConfig(raw: Record<string, unknown>): EvalVoiceConfig {
  const config = parseSettingValues(EVAL_VOICE_SETTINGS, raw);
  if (config.words === 0 && config.ngrams === 0) {
    throw new AppError("configuration_error", "--words and --ngrams are both 0: the voice model needs some features");
  }
  if (config.author !== undefined && config.text === undefined) {
    throw new AppError("configuration_error", "--author needs --text <file> (the text whose voice is scored)");
  }
  return config;
}
