/**
 * What scraped blog pages wrap around an article: the page chrome of Substack, Medium and
 * personal (Quarto-style) blogs, and the share / subscribe / follow boilerplate authors append.
 * Found by reading the 76 articles of the LLM Twin corpus; see docs/preprocessing.md.
 */
import type { HeadingRole } from "./markdown.js";

/** Cuts the page chrome before and after the article body. Unknown layouts are returned as is. */
export function trimPageChrome(text: string): string {
  if (isSubstackPage(text)) return trimSubstack(text);
  if (isMediumPage(text)) return trimMedium(text);
  if (isNavigationHeaderPage(text)) return trimNavigationHeader(text);
  return text;
}

const SUBSTACK_MARKER = "\nSubscribeSign in\n";
const SUBSTACK_FOOTER_TEXT = "Discussion about this post";

function isSubstackPage(text: string): boolean {
  const position = text.indexOf(SUBSTACK_MARKER);
  return position >= 0 && position < 2_000;
}

/**
 * Substack: the header (blog name, share widget, title, author, date, like count, a second share
 * widget) ends at the first line that is exactly "Share"; the footer starts at the last
 * "Share this post" widget before the discussion section.
 */
function trimSubstack(text: string): string {
  const lines = text.split("\n");
  const headerEnd = lines.indexOf("Share");
  let start = headerEnd >= 0 && headerEnd < 120 ? headerEnd + 1 : 0;
  const footerLine = lines.findIndex((line) => line.startsWith("#") && line.includes(SUBSTACK_FOOTER_TEXT));
  let end = lines.length;
  if (footerLine >= 0) {
    end = footerLine;
    for (let index = footerLine; index > start; index--) {
      if (lines[index] === "Share this post") {
        end = index;
        break;
      }
    }
  } else {
    const lastShare = lines.lastIndexOf("Share this post");
    if (lastShare > start) end = lastShare;
  }
  // Like and comment counters left just before the footer widget.
  while (end > start && /^\s*(?:\d[\d.,]*[KkMm]?)?\s*$/.test(lines[end - 1] ?? "")) end--;
  while (start < end && (lines[start] ?? "").trim() === "") start++;
  return lines.slice(start, end).join("\n");
}

const MEDIUM_HEADER_END = "ListenShare";
const MEDIUM_FOOTER_MARKERS = [
  "Sign up to discover human stories",
  "Sign up for freeMembership",
  "FollowWritten by",
  "To make Medium work, we log user data",
];
const MEDIUM_GLUED_SENTENCE = /([\p{Ll}\p{N})”’"][.!?:])(?=[\p{Lu}“‘"(])/gu;

const MEDIUM_NEWSLETTER_PITCH = /(?:Have you enjoyed this article\?|Enjoyed This Article\?)/i;
const MEDIUM_CAPTION = /\[?\b(?:Image|Figure) (?:by|from) (?:the )?(?:Author|DALL-E(?: \d)?)\]?/gi;
/** A lower-case letter glued to a common sentence-starting word: "free courseWhat is" → "free course What is". */
const MEDIUM_GLUED_WORDS =
  /(?<=\p{Ll})(?:The|This|These|That|What|Why|How|When|Where|Who|Which|You|Your|We|Our|Along|Also|But|Then|Now|Let|Here|Conclusion|References|Join|Level|Prerequisites|Check|Note|Step|Lesson|Audience|Before|After|Finally|First|Next|Ultimately|Enjoyed|Have|See|Thus|Therefore|However|Because|Each|Every|Its|Using|To|As|At|By|Unlike|Instead)\b/gu;

const MEDIUM_GLUED_PARENTHESIS = /\)(?=\p{Ll}{2})/gu;

function isMediumPage(text: string): boolean {
  const head = text.slice(0, 3_000);
  return head.includes("Open in appSign up") || (head.includes(MEDIUM_HEADER_END) && head.includes("min read"));
}

/**
 * Medium (scraped as one text without line breaks): the header ends at "ListenShare" and the
 * footer starts at the membership pitch. Sentences glued together by the scraper ("...below.The
 * next") get their space back.
 */
function trimMedium(text: string): string {
  const headerEnd = text.indexOf(MEDIUM_HEADER_END);
  let body = headerEnd >= 0 && headerEnd < 3_000 ? text.slice(headerEnd + MEDIUM_HEADER_END.length) : text;
  let end = body.length;
  for (const marker of MEDIUM_FOOTER_MARKERS) {
    const position = body.indexOf(marker);
    if (position >= 0 && position < end) end = position;
  }
  body = body.slice(0, end);
  const pitch = MEDIUM_NEWSLETTER_PITCH.exec(body);
  if (pitch !== null) {
    const references = body.indexOf("References", pitch.index);
    body = body.slice(0, pitch.index) + (references >= 0 ? `\n\n${body.slice(references)}` : "");
  }
  return body
    .replace(MEDIUM_CAPTION, " ")
    .replace(MEDIUM_GLUED_SENTENCE, "$1 ")
    .replace(MEDIUM_GLUED_WORDS, " $&")
    .replace(MEDIUM_GLUED_PARENTHESIS, ") ");
}

const NAVIGATION_LIST_ITEM = /^\s{2,}\* __/;
const SECTIONS_HEADING = /^#{1,6}\s+\**\s*(?:Sections|Contents|Table of contents)\s*\**\s*$/i;
const LIST_LINE = /^\s*(?:[*+-]|\d{1,3}\.)\s/;
const FIRST_HEADING = /^#\s+\S/;

function isNavigationHeaderPage(text: string): boolean {
  const head = text.slice(0, 600).split("\n");
  return head.slice(0, 12).some((line) => NAVIGATION_LIST_ITEM.test(line));
}

/**
 * Personal blogs (Quarto-style): a navigation menu, breadcrumbs, a sidebar listing every post and
 * a "Sections" table of contents precede the body; the body starts after that table of contents
 * (or after the first level-1 heading when there is none).
 */
function trimNavigationHeader(text: string): string {
  const lines = text.split("\n");
  let start = lines.findIndex((line) => SECTIONS_HEADING.test(line));
  if (start >= 0) {
    start++;
    while (start < lines.length && (LIST_LINE.test(lines[start] ?? "") || (lines[start] ?? "").trim() === "")) start++;
  } else {
    start = lines.findIndex((line) => FIRST_HEADING.test(line));
    if (start < 0) start = 0;
  }
  return lines.slice(start).join("\n");
}

const DROPPED_PARAGRAPHS: readonly RegExp[] = [
  /^(?:Subscribe|SubscribeSign in|Sign in|Sign up|Share|Share this post|Copy link|Facebook|Email|Note|Other|PreviousNext|Previous|Next|Comments|Restacks|Top|Latest|Discussions|No posts|Ready for more\?|Listen|Follow|Top highlight)$/i,
  /^(?:Image|Images|Figure|Photo|Illustration|Picture)s?\s+(?:\w+\s+){0,3}?(?:by|from|with|via|generated|created|courtesy|credit|source)\b.{0,160}$/i,
  /^\[?(?:Image|Figure|Photo) by (?:the )?author\]?\.?$/i,
  /^If not otherwise stated, all images are created by the author\.?$/i,
  /^(?:Decoding ML Notes|Decoding ML Newsletter)$/i,
  /^Hello there, I am [\p{L} .'-]{2,40}$/iu,
  /^Within this newsletter, I will help you decode complex topics about ML & MLOps one week at a time\.?$/i,
  /^(?:That[’']s it for today|Have a fantastic weekend|See you next \w+(?: at [\d:.]+ ?[ap]\.?m\.? \w+)?|Thanks for reading|Thank you for reading)[.!]*$/i,
  /^(?:Copyright|©)\s.{0,80}$/i,
  /^(?:Substack is the home for great culture|Start WritingGet the app|Privacy ∙ Terms ∙ Collection notice)$/i,
  /^This site requires JavaScript to run correctly\..*$/i,
  /^To make Medium work, we log user data\..*$/i,
  /^[\w.-]+\.substack\.com$/i,
  /^\d+ (?:replies|reply|more comments?|comments?)(?: by [\p{L} .'-]+)?\.*$/iu,
  /^commentReplyShare$/i,
  /^Read full story$/i,
  /^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}(?:, \d{4})?$/,
];

/** Paragraphs that carry no content of the article (page chrome, captions, sign-offs). */
export function isBoilerplateParagraph(text: string, authorNames: readonly string[] = []): boolean {
  for (const pattern of DROPPED_PARAGRAPHS) if (pattern.test(text)) return true;
  // A sign-off made of the author's name alone ("Paul").
  if (text.length <= 40) {
    const bare = text.replace(/[.!,\s]+$/, "").toLowerCase();
    for (const name of authorNames) if (bare === name.toLowerCase()) return true;
  }
  return false;
}

const END_OF_CONTENT_HEADINGS =
  /^(?:Related articles|Whenever you[’']re ready, here is how I can help you:?|Discussion about this post|More from .{1,60}|Recommended from Medium|Ready for more\?)$/i;
const DROPPED_SECTION_HEADINGS =
  /^(?:Table of Contents:?|Contents:?|Sections|Previous Lessons:?|This week[’']s(?: ML & MLOps)? topics:?|Images)$/i;

export function headingRole(heading: string): HeadingRole {
  if (END_OF_CONTENT_HEADINGS.test(heading)) return "end-of-content";
  if (DROPPED_SECTION_HEADINGS.test(heading)) return "drop-section";
  if (isBoilerplateParagraph(heading)) return "drop";
  return "keep";
}

/** Sentences that only ask the reader to follow, subscribe, clap, share or buy. */
const PROMOTIONAL_SENTENCES: readonly RegExp[] = [
  /follow (?:me|us)\b(?: on\b)?/i,
  /\blet[’']s connect on\b/i,
  /\bsubscribe (?:to|for|now|here|below)\b/i,
  /\b(?:clap|claps|clapping)\b.{0,40}\b(?:article|story|post)\b/i,
  /\bmedium member\b|\breferral link\b|\bmembership fee\b/i,
  /\bsupport (?:my work|it|us|the course) with\b|\bsupport my work\b/i,
  /^Pre-order the\b/i,
  /^Check out the (?:code|course|\w+ course)\b.{0,80}\b(?:support|star)\b/i,
  /^Check out\b.{0,60}\bto learn more\b/i,
  /^(?:Join|Sign up for) (?:\d+k?\+ engineers in )?the\b.{0,60}\bnewsletter\b/i,
  /\bfeel free to share it\b/i,
];

const SENTENCE_SPLIT = /(?<=[.!?…])\s+(?=[\p{Lu}\p{N}“"‘(])/u;

const INLINE_CAPTION = / ?[[(](?:Image|Figure|Photo|Source)\b[^\])\n]{0,60}\b(?:author|DALL-E)[^\])\n]{0,80}[\])]/gi;
const CAPTION_HINT = /Image|Figure|Photo|Source/;
/** One scan that every promotional sentence matches (a cheap filter before the precise patterns). */
const PROMOTION_HINT =
  /[Ff]ollow (?:me|us)|[Cc]onnect on|[Ss]ubscribe (?:to|for|now|here|below)|[Cc]lap|[Mm]edium member|[Rr]eferral link|[Mm]embership fee|[Ss]upport (?:my work|it|us|the course)|[Pp]re-order the|[Cc]heck out|[Nn]ewsletter|[Ss]hare it/;

/**
 * Drops inline image captions ("[Image by the Author]") and promotional sentences from a
 * paragraph; the rest of the paragraph is kept verbatim.
 */
export function removePromotionalSentences(text: string): string {
  const paragraph = CAPTION_HINT.test(text) ? text.replace(INLINE_CAPTION, "") : text;
  if (!PROMOTION_HINT.test(paragraph) || !PROMOTIONAL_SENTENCES.some((pattern) => pattern.test(paragraph))) {
    return paragraph;
  }
  const sentences = paragraph.split(SENTENCE_SPLIT);
  return sentences.filter((sentence) => !PROMOTIONAL_SENTENCES.some((pattern) => pattern.test(sentence))).join(" ");
}
