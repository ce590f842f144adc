/**
 * Leave-one-document-out validation of the voice model: each document is attributed by a model
 * built from all the others (feature selection and z-scores included, so nothing leaks), and the
 * attributions give the accuracy and the confusion matrix.
 */
import { type CountedDocument, leaveOneOutDistances, type VoiceModelOptions } from "./model.js";

export type VoiceValidation = {
  /** Documents held out (an author's only document cannot be). */
  documents: number;
  correct: number;
  accuracy: number;
  /** Authors in matrix order. */
  authors: string[];
  /** confusion[actual][predicted]: document counts, rows and columns in `authors` order. */
  confusion: number[][];
  /** Per author: held-out documents and the share attributed to them correctly (recall). */
  perAuthor: { author: string; documents: number; correct: number; recall: number }[];
  /** The documents attributed to the wrong author. */
  errors: { id: string; title?: string; author: string; predicted: string }[];
};

export function validateVoiceModel(
  documents: readonly CountedDocument[],
  options: VoiceModelOptions = {},
): VoiceValidation {
  const authors = [...new Set(documents.map((document) => document.author))].sort();
  const index = new Map(authors.map((author, position) => [author, position]));
  const confusion = authors.map(() => authors.map(() => 0));
  const errors: VoiceValidation["errors"] = [];
  const titles = new Map(documents.map((document) => [document.id, document.title]));
  for (const heldOut of leaveOneOutDistances(documents, options)) {
    let predicted = "";
    let closest = Number.POSITIVE_INFINITY;
    for (const [author, distance] of heldOut.distances) {
      if (distance < closest) {
        closest = distance;
        predicted = author;
      }
    }
    const row = confusion[index.get(heldOut.author) ?? 0];
    const column = index.get(predicted) ?? 0;
    if (row !== undefined) row[column] = (row[column] ?? 0) + 1;
    if (predicted !== heldOut.author) {
      const title = titles.get(heldOut.id);
      errors.push({ id: heldOut.id, ...(title === undefined ? {} : { title }), author: heldOut.author, predicted });
    }
  }
  const heldOut = confusion.flat().reduce((sum, count) => sum + count, 0);
  const correct = heldOut - errors.length;
  const perAuthor = authors.map((author, position) => {
    const row = confusion[position] ?? [];
    const total = row.reduce((sum, count) => sum + count, 0);
    const hits = row[position] ?? 0;
    return { author, documents: total, correct: hits, recall: total === 0 ? 0 : hits / total };
  });
  return {
    documents: heldOut,
    correct,
    accuracy: heldOut === 0 ? 0 : correct / heldOut,
    authors,
    confusion,
    perAuthor,
    errors,
  };
}
