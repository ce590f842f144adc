/**
 * `llm-twin eval voice`: validates the stylometric voice model on an author corpus by
 * leave-one-document-out attribution (accuracy and confusion matrix), and scores a text's voice.
 */
import { readFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import { DEFAULT_VOICE_OPTIONS, VOICE_METHODS } from "../../eval/voice/model.js";
import { positive } from "../flag-schemas.js";

export const DEFAULT_VOICE_CORPUS = "../shared/datasets/llm-twin/articles.json";

const configSchema = z.object({
  corpus: z.string().trim().min(1, "--corpus must not be empty"),
  json: z.boolean(),
  method: z.enum(VOICE_METHODS as [string, ...string[]], { error: "--method must be delta or cosine-delta" }),
  words: z.coerce
    .number({ error: "--words must be a number" })
    .int("--words must be an integer")
    .min(0, "--words must be 0 or more"),
  ngrams: z.coerce
    .number({ error: "--ngrams must be a number" })
    .int("--ngrams must be an integer")
    .min(0, "--ngrams must be 0 or more"),
  ngramSize: positive("--ngram-size"),
  passageWords: positive("--passage-words").optional(),
  text: z.string().trim().min(1, "--text must not be empty").optional(),
  author: z.string().trim().min(1, "--author must not be empty").optional(),
});

export type EvalVoiceConfig = z.infer<typeof configSchema>;

export function parseEvalVoiceConfig(raw: Record<string, unknown>): EvalVoiceConfig {
  const parsed = configSchema.safeParse({ ...raw, json: raw.json === true });
  if (!parsed.success) {
    throw new AppError("configuration_error", parsed.error.issues.map((issue) => issue.message).join("; "));
  }
  if (parsed.data.words === 0 && parsed.data.ngrams === 0) {
    throw new AppError("configuration_error", "--words and --ngrams are both 0: the voice model needs some features");
  }
  if (parsed.data.author !== undefined && parsed.data.text === undefined) {
    throw new AppError("configuration_error", "--author needs --text <file> (the text whose voice is scored)");
  }
  return parsed.data;
}

export function registerEvalVoiceCommand(evalCommand: Command): void {
  evalCommand
    .command("voice")
    .description(
      "Validate the stylometric voice model on an author corpus (leave-one-document-out attribution: accuracy and confusion matrix), or score a text's voice with --text",
    )
    .option(
      "--corpus <file|folder>",
      "the authors' documents (ingestion formats), cleaned as ingestion does",
      DEFAULT_VOICE_CORPUS,
    )
    .option("--json", "print one JSON object on stdout")
    .addOption(
      new Option("--method <method>", "distance: Burrows' delta or cosine delta")
        .choices([...VOICE_METHODS])
        .default(DEFAULT_VOICE_OPTIONS.method),
    )
    .option("--words <n>", "function words in the profile (0: none)", String(DEFAULT_VOICE_OPTIONS.words))
    .option("--ngrams <n>", "character n-grams in the profile (0: none)", String(DEFAULT_VOICE_OPTIONS.ngrams))
    .option("--ngram-size <n>", "characters per n-gram", String(DEFAULT_VOICE_OPTIONS.ngramSize))
    .option(
      "--passage-words <n>",
      "also attribute the held-out documents cut into passages of n words (the size of an answer)",
    )
    .option("--text <file>", "score this text's voice against every author instead of validating")
    .option("--author <name>", "with --text: the author the text should sound like (score and margin)")
    .action(async (raw: Record<string, unknown>) => {
      await runEvalVoiceCommand(parseEvalVoiceConfig(raw));
    });
}

export async function runEvalVoiceCommand(config: EvalVoiceConfig): Promise<void> {
  // Loaded here, not at the top: `--help` must not pay for the corpus reader and the cleaning.
  const {
    buildFromCounted,
    countDocuments,
    formatVoiceValidation,
    readVoiceCorpus,
    resolveAuthor,
    scoreVoice,
    validateVoiceModel,
    voiceValidationJson,
  } = await import("../../eval/voice/index.js");
  const started = performance.now();
  const corpus = await readVoiceCorpus(config.corpus);
  const settings = {
    method: config.method as (typeof VOICE_METHODS)[number],
    words: config.words,
    ngrams: config.ngrams,
    ngramSize: config.ngramSize,
  };
  const counted = countDocuments(
    corpus.documents,
    settings.ngramSize,
    config.text === undefined ? config.passageWords : undefined,
  );
  if (config.text !== undefined) {
    const text = await readTextFile(config.text);
    const model = buildFromCounted(counted, settings);
    const requested = config.author === undefined ? undefined : resolveAuthor(model, config.author);
    const scored = scoreVoice(model, text);
    const own = scored.authors.find((entry) => entry.author === requested)?.score;
    const best = Math.max(...scored.authors.filter((entry) => entry.author !== requested).map((entry) => entry.score));
    const result = {
      text: config.text,
      closest: scored.author,
      authors: scored.authors,
      ...(requested === undefined || own === undefined ? {} : { author: requested, score: own, margin: own - best }),
    };
    if (config.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const lines = scored.authors.map(
        (entry) => `${entry.author.padEnd(24)} score ${entry.score.toFixed(3)}  distance ${entry.distance.toFixed(3)}`,
      );
      lines.push(`closest: ${scored.author}`);
      if (result.author !== undefined)
        lines.push(`voice of ${result.author}: ${result.score?.toFixed(3)} (margin ${result.margin?.toFixed(3)})`);
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return;
  }
  const validation = validateVoiceModel(counted, settings, config.passageWords);
  const run = {
    corpus: config.corpus,
    settings,
    validation,
    skipped: corpus.skipped.length,
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`${config.json ? JSON.stringify(voiceValidationJson(run)) : formatVoiceValidation(run)}\n`);
}

async function readTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new AppError("not_found", `cannot read --text ${path}: ${(error as Error).message}`, { cause: error });
  }
}
