/**
 * Repository chunking: file by file. Small files are packed together into one chunk; a file
 * larger than the window is cut into overlapping token windows, each starting with the file's
 * path header so that every chunk says where its code comes from.
 */

import { REPOSITORY_FILE_HEADER } from "../cleaning/repository.js";
import type { TokenChunkingParameters } from "../parameters.js";
import { chunkByTokens } from "./by-tokens.js";
import { type CountedText, splitToFit, type TokenCounter } from "./token-counter.js";

type Section = { header: string; body: string; text: string; tokenCount: number };

export function chunkRepository(
  content: string,
  parameters: TokenChunkingParameters,
  tokenizer: TokenCounter,
  tokenLimit: number,
): CountedText[] {
  const target = Math.max(1, Math.min(parameters.chunkTokens, tokenLimit));
  const overhead = Math.max(0, tokenizer.countTokens(""));
  const chunks: CountedText[] = [];
  let pending: Section[] = [];
  let pendingTokens = 0;
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.map((section) => section.text).join("\n\n");
    chunks.push(...splitToFit(text, tokenizer, target));
    pending = [];
    pendingTokens = 0;
  };
  for (const section of splitSections(content, tokenizer)) {
    if (section.tokenCount > target) {
      flush();
      chunks.push(...chunkLargeSection(section, parameters, tokenizer, target));
      continue;
    }
    const cost = section.tokenCount - overhead;
    if (pending.length > 0 && pendingTokens + cost > target) flush();
    if (pending.length === 0) pendingTokens = overhead;
    pending.push(section);
    pendingTokens += cost;
  }
  flush();
  return chunks;
}

function splitSections(content: string, tokenizer: TokenCounter): Section[] {
  const sections: Section[] = [];
  const lines = content.split("\n");
  let header = "";
  let body: string[] = [];
  const push = () => {
    const bodyText = body.join("\n").trim();
    if (header === "" && bodyText === "") return;
    const text = header === "" ? bodyText : bodyText === "" ? header : `${header}\n${bodyText}`;
    sections.push({ header, body: bodyText, text, tokenCount: tokenizer.countTokens(text) });
  };
  for (const line of lines) {
    if (REPOSITORY_FILE_HEADER.test(line)) {
      push();
      header = line;
      body = [];
    } else {
      body.push(line);
    }
  }
  push();
  return sections;
}

function chunkLargeSection(
  section: Section,
  parameters: TokenChunkingParameters,
  tokenizer: TokenCounter,
  target: number,
): CountedText[] {
  if (section.header === "") return chunkByTokens(section.body, parameters, tokenizer, target);
  const headerTokens = Math.max(0, tokenizer.countTokens(section.header) - Math.max(0, tokenizer.countTokens("")));
  const bodyTarget = Math.max(1, target - headerTokens - 1);
  const pieces = chunkByTokens(section.body, { ...parameters, chunkTokens: bodyTarget }, tokenizer, bodyTarget);
  const chunks: CountedText[] = [];
  for (const piece of pieces) {
    const text = `${section.header}\n${piece.text}`;
    chunks.push(...splitToFit(text, tokenizer, target));
  }
  return chunks;
}
