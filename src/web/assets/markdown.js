// A small, safe Markdown renderer for the twin's answers: headings, paragraphs, emphasis, inline
// code, fenced code blocks, lists, blockquotes, rules and http(s) links. It builds DOM nodes and
// puts every piece of text in as a text node: raw HTML in the answer stays visible text, and a
// link is only made for an absolute http(s) URL. Unfinished input (a streaming answer) renders too.

const MAX_DEPTH = 12;
const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const BULLET = /^( {0,3})([-*+])(\s+)(.*)$/;
const ORDERED = /^( {0,3})(\d{1,9})([.)])(\s+)(.*)$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;

/** The answer as a fragment of DOM nodes (never HTML parsed from the text). */
export function renderMarkdown(source) {
  const fragment = document.createDocumentFragment();
  appendBlocks(
    fragment,
    String(source ?? "")
      .replace(/\r\n?/g, "\n")
      .split("\n"),
    0,
  );
  return fragment;
}

/** Only an absolute http(s) URL becomes a link target. */
export function httpUrl(text) {
  if (!/^https?:\/\//i.test(text)) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function node(tag, children = []) {
  const element = document.createElement(tag);
  element.append(...children);
  return element;
}

function listMarker(line) {
  const bullet = BULLET.exec(line);
  if (bullet)
    return { ordered: false, indent: bullet[1].length + 1 + bullet[3].length, rest: bullet[4], marker: bullet[2] };
  const ordered = ORDERED.exec(line);
  if (ordered) {
    const width = ordered[1].length + ordered[2].length + 1 + ordered[4].length;
    return { ordered: true, indent: width, rest: ordered[5], start: Number(ordered[2]), marker: ordered[3] };
  }
  return undefined;
}

function startsBlock(line) {
  return (
    FENCE.test(line) || HEADING.test(line) || QUOTE.test(line) || RULE.test(line) || listMarker(line) !== undefined
  );
}

function appendBlocks(parent, lines, depth) {
  if (depth > MAX_DEPTH) {
    parent.append(node("p", [lines.join("\n")]));
    return;
  }
  let index = 0;
  while (index < lines.length) {
    const line = lines[index];
    if (line.trim() === "") {
      index += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      index = appendFence(parent, lines, index, fence);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      parent.append(node(`h${heading[1].length}`, inline(heading[2] ?? "", 0)));
      index += 1;
      continue;
    }
    if (RULE.test(line)) {
      parent.append(document.createElement("hr"));
      index += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      const inner = [];
      while (index < lines.length && QUOTE.test(lines[index])) {
        inner.push(QUOTE.exec(lines[index])[1]);
        index += 1;
      }
      const quote = document.createElement("blockquote");
      appendBlocks(quote, inner, depth + 1);
      parent.append(quote);
      continue;
    }
    if (listMarker(line)) {
      index = appendList(parent, lines, index, depth);
      continue;
    }
    const paragraph = [line.trim()];
    index += 1;
    while (index < lines.length && lines[index].trim() !== "" && !startsBlock(lines[index])) {
      paragraph.push(lines[index].trim());
      index += 1;
    }
    const p = document.createElement("p");
    paragraph.forEach((text, position) => {
      if (position > 0) p.append(document.createElement("br"));
      p.append(...inline(text, 0));
    });
    parent.append(p);
  }
}

/** A fenced code block; an unclosed fence (still streaming) runs to the end. Returns the next line. */
function appendFence(parent, lines, start, fence) {
  const marker = fence[1];
  const body = [];
  let index = start + 1;
  while (index < lines.length) {
    const trimmed = lines[index].trim();
    if (trimmed.length >= marker.length && trimmed === marker[0].repeat(trimmed.length)) {
      index += 1;
      break;
    }
    body.push(lines[index]);
    index += 1;
  }
  const code = node("code", [body.join("\n")]);
  if (fence[2]) code.dataset.language = fence[2];
  parent.append(node("pre", [code]));
  return index;
}

/** A list (bullets or numbers) and its items, each rendered as blocks. Returns the next line. */
function appendList(parent, lines, start, depth) {
  const first = listMarker(lines[start]);
  const list = document.createElement(first.ordered ? "ol" : "ul");
  if (first.ordered && first.start !== 1) list.start = first.start;
  let index = start;
  while (index < lines.length) {
    const marker = listMarker(lines[index]);
    if (!marker || marker.ordered !== first.ordered || marker.marker !== first.marker) break;
    const item = [marker.rest];
    index += 1;
    while (index < lines.length) {
      const line = lines[index];
      if (line.trim() === "") {
        const next = lines.slice(index + 1).find((candidate) => candidate.trim() !== "");
        if (next === undefined || !/^\s{2,}/.test(next)) break;
        item.push("");
        index += 1;
        continue;
      }
      const indent = line.length - line.trimStart().length;
      if (indent >= 2) item.push(line.slice(Math.min(indent, marker.indent)));
      else if (!startsBlock(line) && item.at(-1) !== "") item.push(line);
      else break;
      index += 1;
    }
    const li = document.createElement("li");
    appendBlocks(li, item, depth + 1);
    list.append(li);
    while (index < lines.length && lines[index].trim() === "") {
      const next = lines.slice(index).find((candidate) => candidate.trim() !== "");
      const nextMarker = next === undefined ? undefined : listMarker(next);
      if (!nextMarker || nextMarker.ordered !== first.ordered || nextMarker.marker !== first.marker) break;
      index += 1;
    }
  }
  parent.append(list);
  return index;
}

const EMPHASIS = [
  ["**", "strong"],
  ["__", "strong"],
  ["~~", "del"],
  ["*", "em"],
  ["_", "em"],
];

/** Inline Markdown as nodes: code spans, links, bare http(s) URLs, emphasis, backslash escapes. */
function inline(text, depth) {
  const nodes = [];
  let plain = "";
  const flush = () => {
    if (plain !== "") nodes.push(document.createTextNode(plain));
    plain = "";
  };
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === "\\" && index + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[index + 1])) {
      plain += text[index + 1];
      index += 2;
      continue;
    }
    if (char === "`") {
      const run = /^`+/.exec(text.slice(index))[0];
      const close = text.indexOf(run, index + run.length);
      if (close !== -1) {
        flush();
        nodes.push(node("code", [text.slice(index + run.length, close)]));
        index = close + run.length;
        continue;
      }
      plain += run;
      index += run.length;
      continue;
    }
    if (char === "[" && depth < MAX_DEPTH) {
      const link = /^\[([^\]]*)\]\(\s*<?([^\s()<>]*)>?(?:\s+"[^"]*")?\s*\)/.exec(text.slice(index));
      if (link) {
        flush();
        const href = httpUrl(link[2]);
        const label = inline(link[1] === "" ? link[2] : link[1], depth + 1);
        if (href) {
          const anchor = node("a", label);
          anchor.href = href;
          anchor.target = "_blank";
          anchor.rel = "noopener noreferrer nofollow";
          nodes.push(anchor);
        } else {
          nodes.push(...label);
        }
        index += link[0].length;
        continue;
      }
    }
    if ((char === "h" || char === "H") && /^https?:\/\//i.test(text.slice(index, index + 8))) {
      const bare = /^https?:\/\/[^\s<>"'`]+/i.exec(text.slice(index))[0].replace(/[.,;:!?)\]]+$/, "");
      const href = httpUrl(bare);
      if (href) {
        flush();
        const anchor = node("a", [bare]);
        anchor.href = href;
        anchor.target = "_blank";
        anchor.rel = "noopener noreferrer nofollow";
        nodes.push(anchor);
        index += bare.length;
        continue;
      }
    }
    const emphasis = depth < MAX_DEPTH ? matchEmphasis(text, index) : undefined;
    if (emphasis) {
      flush();
      nodes.push(node(emphasis.tag, inline(emphasis.inner, depth + 1)));
      index = emphasis.end;
      continue;
    }
    plain += char;
    index += 1;
  }
  flush();
  return nodes;
}

function matchEmphasis(text, index) {
  for (const [delimiter, tag] of EMPHASIS) {
    if (!text.startsWith(delimiter, index)) continue;
    const after = text[index + delimiter.length];
    if (after === undefined || /\s/.test(after)) return undefined;
    // "_" inside a word (snake_case) is a letter, not emphasis.
    if (delimiter[0] === "_" && index > 0 && /[\p{L}\p{N}]/u.test(text[index - 1])) return undefined;
    let close = text.indexOf(delimiter, index + delimiter.length + 1);
    while (close !== -1) {
      const single = delimiter.length === 1 && text[close + 1] === delimiter;
      if (!/\s/.test(text[close - 1]) && !single) break;
      close = text.indexOf(delimiter, close + (single ? 2 : 1));
    }
    if (close === -1) return undefined;
    return { tag, inner: text.slice(index + delimiter.length, close), end: close + delimiter.length };
  }
  return undefined;
}
