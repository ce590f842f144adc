/**
 * Streamed chunks serialized without building and stringifying an object per token: the parts of a
 * chunk that stay the same for the whole response are serialized once, and each token only
 * JSON-escapes its own values. Every function here gives exactly JSON.stringify's output for the
 * object it stands for (sse-chunks.test.ts checks it on tricky text).
 */

/** Stands for the text in the document serialized once; never part of real output. */
const HOLE = "\u0000llm-twin-sse-hole\u0000";
const ENCODED_HOLE = JSON.stringify(HOLE);

/**
 * `render(text)` === JSON.stringify(build(text)) for every string: `build` is serialized once with
 * a placeholder for the text, then each call escapes only the text. Falls back to
 * JSON.stringify(build(text)) if the placeholder shows up anywhere else (it never should).
 */
export function jsonWithText(build: (text: string) => unknown): (text: string) => string {
  const parts = jsonTextParts(build);
  if (parts === undefined) return (text) => JSON.stringify(build(text));
  const { head, tail } = parts;
  return (text) => head + JSON.stringify(text) + tail;
}

/** JSON.stringify(build(text)) === head + JSON.stringify(text) + tail; undefined if it cannot be split. */
export function jsonTextParts(build: (text: string) => unknown): { head: string; tail: string } | undefined {
  const parts = JSON.stringify(build(HOLE)).split(ENCODED_HOLE);
  const [head, tail] = parts;
  return parts.length !== 2 || head === undefined || tail === undefined ? undefined : { head, tail };
}

/** A TGI stream token: `{id, text, logprob, special}`. */
export type TgiStreamToken = { id: number; text: string; logprob: number | null; special: boolean };

/**
 * JSON.stringify({index, token: {id, text, logprob, special}, generated_text: null, details: null}):
 * TGI's event for every token but the last, written field by field.
 */
export function tgiTokenEvent(index: number, token: TgiStreamToken): string {
  return `{"index":${JSON.stringify(index)},"token":{"id":${JSON.stringify(token.id)},"text":${JSON.stringify(token.text)},"logprob":${JSON.stringify(token.logprob)},"special":${token.special}},"generated_text":null,"details":null}`;
}
