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
  /** With passages (`passageWords`): answer-sized pieces of the held-out documents, attributed one by one. */
  passages?: {
    words: number;
    count: number;
    correct: number;
    accuracy: number;
    perAuthor: { author: string; count: number; correct: number }[];
  };
  /** The documents attributed to the wrong author. */
  errors: { id: string; title?: string; author: string; predicted: string }[];
};

function closestAuthor(distances: Map<string, number>): string {
  let predicted = "";
  let closest = Number.POSITIVE_INFINITY;
  for (const [author, distance] of distances) {
    if (distance < closest) {
      closest = distance;
      predicted = author;
    }
  }
  return predicted;
}

/** `passageWords`: also attribute answer-sized passages of each held-out document (counted with them). */
export function validateVoiceModel(
  documents: readonly CountedDocument[],
  options: VoiceModelOptions = {},
  passageWords?: number,
): VoiceValidation {
  const authors = [...new Set(documents.map((document) => document.author))].sort();
  const index = new Map(authors.map((author, position) => [author, position]));
  const confusion = authors.map(() => authors.map(() => 0));
  const errors: VoiceValidation["errors"] = [];
  const titles = new Map(documents.map((document) => [document.id, document.title]));
  const passageTally = new Map(authors.map((author) => [author, { count: 0, correct: 0 }]));
  for (const heldOut of leaveOneOutDistances(documents, options)) {
    const predicted = closestAuthor(heldOut.distances);
    const tally = passageTally.get(heldOut.author);
    for (const passage of heldOut.passageDistances) {
      if (tally === undefined) break;
      tally.count++;
      if (closestAuthor(passage) === heldOut.author) tally.correct++;
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
  const passageCount = [...passageTally.values()].reduce((sum, entry) => sum + entry.count, 0);
  const passageCorrect = [...passageTally.values()].reduce((sum, entry) => sum + entry.correct, 0);
  return {
    ...(passageWords === undefined
      ? {}
      : {
          passages: {
            words: passageWords,
            count: passageCount,
            correct: passageCorrect,
            accuracy: passageCount === 0 ? 0 : passageCorrect / passageCount,
            perAuthor: authors.map((author) => ({ author, ...(passageTally.get(author) ?? { count: 0, correct: 0 }) })),
          },
        }),
    documents: heldOut,
    correct,
    accuracy: heldOut === 0 ? 0 : correct / heldOut,
    authors,
    confusion,
    perAuthor,
    errors,
  };
}
