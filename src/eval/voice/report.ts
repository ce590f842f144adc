/** Terminal and JSON forms of a voice validation (`llm-twin eval voice`). */
import type { VoiceModelOptions } from "./model.js";
import type { VoiceValidation } from "./validate.js";

export type VoiceValidationRun = {
  corpus: string;
  settings: Required<Omit<VoiceModelOptions, "temperature">>;
  validation: VoiceValidation;
  skipped: number;
  seconds: number;
};

export function formatVoiceValidation(run: VoiceValidationRun): string {
  const { validation, settings } = run;
  const width = Math.max(6, ...validation.authors.map((author) => author.length));
  const cell = Math.max(8, ...validation.authors.map((author) => author.length));
  const lines = [
    `voice model: ${settings.method}, ${settings.words} function words + ${settings.ngrams} character ${settings.ngramSize}-grams`,
    `corpus: ${run.corpus} (${validation.documents} documents${run.skipped > 0 ? `, ${run.skipped} skipped` : ""})`,
    `leave-one-document-out attribution: ${validation.correct}/${validation.documents} = accuracy ${validation.accuracy.toFixed(3)}`,
    "",
    `${"actual \\ predicted".padEnd(width)}  ${validation.authors.map((author) => author.padStart(cell)).join("  ")}  recall`,
  ];
  validation.authors.forEach((author, row) => {
    const counts = (validation.confusion[row] ?? []).map((count) => String(count).padStart(cell)).join("  ");
    const recall = validation.perAuthor[row]?.recall ?? 0;
    lines.push(`${author.padEnd(width)}  ${counts}  ${recall.toFixed(3)}`);
  });
  if (validation.passages !== undefined) {
    const passages = validation.passages;
    lines.push(
      "",
      `passages of ${passages.words} words from the held-out documents: ${passages.correct}/${passages.count} = accuracy ${passages.accuracy.toFixed(3)}`,
      ...passages.perAuthor.map(
        (entry) =>
          `  ${entry.author.padEnd(width)}  ${entry.correct}/${entry.count}${entry.count === 0 ? "" : ` = ${(entry.correct / entry.count).toFixed(3)}`}`,
      ),
    );
  }
  if (validation.errors.length > 0) {
    lines.push("", "misattributed:");
    for (const error of validation.errors) {
      lines.push(
        `  ${error.id}  ${error.author} -> ${error.predicted}${error.title === undefined ? "" : `  "${error.title}"`}`,
      );
    }
  }
  lines.push("", `(${run.seconds.toFixed(1)} s)`);
  return lines.join("\n");
}

export function voiceValidationJson(run: VoiceValidationRun) {
  return {
    corpus: run.corpus,
    settings: run.settings,
    documents: run.validation.documents,
    skipped: run.skipped,
    correct: run.validation.correct,
    accuracy: run.validation.accuracy,
    authors: run.validation.authors,
    confusion: run.validation.confusion,
    perAuthor: run.validation.perAuthor,
    errors: run.validation.errors,
    ...(run.validation.passages === undefined ? {} : { passages: run.validation.passages }),
    seconds: run.seconds,
  };
}
