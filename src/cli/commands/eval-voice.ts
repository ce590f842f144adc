/**
 * `llm-twin eval voice`: validates the stylometric voice model on an author corpus by
 * leave-one-document-out attribution (accuracy and confusion matrix), and scores a text's voice.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { AppError } from "../../errors/index.js";
import { addSettingOptions } from "../settings-options.js";
import { EVAL_VOICE_SETTINGS, type EvalVoiceConfig, parseEvalVoiceConfig } from "./eval-voice-settings.js";

export {
  DEFAULT_VOICE_CORPUS,
  EVAL_VOICE_SETTINGS,
  type EvalVoiceConfig,
  parseEvalVoiceConfig,
} from "./eval-voice-settings.js";

export function registerEvalVoiceCommand(evalCommand: Command): void {
  const command = evalCommand
    .command("voice")
    .description(
      "Validate the stylometric voice model on an author corpus (leave-one-document-out attribution: accuracy and confusion matrix), or score a text's voice with --text",
    );
  addSettingOptions(command, EVAL_VOICE_SETTINGS).action(async (raw: Record<string, unknown>) => {
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
    method: config.method,
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
