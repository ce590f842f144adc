/**
 * BEIR documents with their title in the indexed text. Chunks carry the title as a field but only
 * the text is embedded and full-text indexed; in SciFact the title states the finding, so it is
 * put first in the content ("title\n\ntext"). The source hash changes with it, so a store built
 * from plain abstracts is re-ingested, never silently mixed.
 */
import { createHash } from "node:crypto";
import type { ReadResult } from "../../ingestion/readers/index.js";
import { type BeirCorpusOptions, readBeirCorpusResults } from "./corpus.js";

export const TITLE_IN_TEXT_VERSION = "title-in-text/1";

export async function* readBeirCorpusWithTitles(
  path: string,
  options: BeirCorpusOptions = {},
): AsyncIterable<ReadResult> {
  for await (const result of readBeirCorpusResults(path, options)) {
    if (!result.ok || result.document.category !== "articles") {
      yield result;
      continue;
    }
    const { document } = result;
    const title = document.title.trim();
    const content = title === "" ? document.content : `${title}\n\n${document.content}`;
    const sourceHash = createHash("sha256").update(`${TITLE_IN_TEXT_VERSION}\n${result.sourceHash}`).digest("hex");
    yield { ...result, document: { ...document, content }, sourceHash };
  }
}
