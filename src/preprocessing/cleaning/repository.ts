/**
 * Repository snapshots: source files kept verbatim (code is the content), each prefixed with its
 * path; binaries, lockfiles, vendored/build directories, generated and oversized files dropped.
 */
import type { RepositoryCleaningParameters } from "../parameters.js";

/** Header line that starts every file in a cleaned repository (the `head`/`tail` convention). */
export function repositoryFileHeader(path: string): string {
  return `==> ${path} <==`;
}

export const REPOSITORY_FILE_HEADER = /^==> (.+) <==$/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting binary content is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000E-\u001F\uFFFD]/g;
const TRAILING_SPACES = /[ \t]+$/gm;
const EXTRA_BLANK_LINES = /\n{3,}/g;

export function cleanRepositoryFiles(
  files: Readonly<Record<string, string>>,
  parameters: RepositoryCleaningParameters,
): string {
  const paths = Object.keys(files).sort();
  const sections: string[] = [];
  for (const rawPath of paths) {
    const path = rawPath.replace(/\\/g, "/").replace(/^\.?\/+/, "");
    const content = files[rawPath];
    if (content === undefined || isIgnoredPath(path, parameters)) continue;
    if (Buffer.byteLength(content, "utf8") > parameters.maxFileBytes) continue;
    if (looksBinaryOrGenerated(content)) continue;
    const text = content.replace(/\r\n?/g, "\n").replace(TRAILING_SPACES, "").replace(EXTRA_BLANK_LINES, "\n\n").trim();
    if (text === "") continue;
    sections.push(`${repositoryFileHeader(path)}\n${text}`);
  }
  return sections.join("\n\n");
}

export function isIgnoredPath(path: string, parameters: RepositoryCleaningParameters): boolean {
  const lower = path.toLowerCase();
  const segments = lower.split("/");
  const fileName = segments[segments.length - 1] ?? lower;
  if (parameters.ignoredFileNames.includes(fileName)) return true;
  for (const suffix of parameters.ignoredSuffixes) if (fileName.endsWith(suffix)) return true;
  for (let index = 0; index < segments.length - 1; index++) {
    if (parameters.ignoredDirectories.includes(segments[index] ?? "")) return true;
  }
  return false;
}

/** NUL bytes or many control/replacement characters: a binary read as text; very long lines: minified. */
function looksBinaryOrGenerated(content: string): boolean {
  if (content.includes("\u0000")) return true;
  const sample = content.length > 8_192 ? content.slice(0, 8_192) : content;
  const controls = sample.match(CONTROL_CHARACTERS)?.length ?? 0;
  if (controls > 0 && controls / sample.length > 0.01) return true;
  const lineCount = (content.match(/\n/g)?.length ?? 0) + 1;
  return content.length > 5_000 && content.length / lineCount > 1_000;
}
