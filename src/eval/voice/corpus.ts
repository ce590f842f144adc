/**
 * Reads an author corpus for the voice model: the same readers and the same cleaning as ingestion
 * (src/ingestion/readers, src/preprocessing), so the model sees the text the RAG service retrieves.
 */
import { existsSync } from "node:fs";
import { AppError } from "../../errors/index.js";
import { readRawDocuments } from "../../ingestion/readers/index.js";
import { cleanDocument } from "../../preprocessing/index.js";
import type { VoiceDocument } from "./model.js";

export type VoiceCorpus = { documents: VoiceDocument[]; skipped: { reason: string }[] };

/** `flag` names where the path came from, for the error messages. */
export async function readVoiceCorpus(path: string, flag = "--corpus"): Promise<VoiceCorpus> {
  if (!existsSync(path)) {
    throw new AppError(
      "not_found",
      `voice corpus not found: ${path} (give ${flag} <file or folder> with the authors' documents, e.g. ../shared/datasets/llm-twin/articles.json)`,
    );
  }
  const documents: VoiceDocument[] = [];
  const skipped: { reason: string }[] = [];
  for await (const result of readRawDocuments(path)) {
    if (!result.ok) {
      if (result.source.index < 0) {
        throw new AppError("bad_request", `cannot read the voice corpus ${path}: ${result.reason} (check ${flag})`);
      }
      skipped.push({ reason: `${result.source.file}#${result.source.index}: ${result.reason}` });
      continue;
    }
    const cleaned = cleanDocument(result.document);
    if (cleaned.content.trim() === "") {
      skipped.push({ reason: `${cleaned.id}: empty after cleaning` });
      continue;
    }
    documents.push({ id: cleaned.id, title: cleaned.title, author: cleaned.author.fullName, text: cleaned.content });
  }
  return { documents, skipped };
}
