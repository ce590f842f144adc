/**
 * Maps one input record to a RawDocument. Accepted shapes (docs/data-formats.md):
 * - article (the reference export): {_id, content: {Title, Subtitle, Content, language?}, platform, author_id, author_full_name, link}
 * - post: {_id, content: {text, title?, image?}, platform, author_id, author_full_name, link?, published_at?}
 * - repository: {_id, name, content: {"path/in/repo": "file text", ...}, platform, author_id, author_full_name, link}
 * An explicit `category` ("articles" | "posts" | "repositories") selects the shape; without it the
 * shape is recognised from its fields.
 */
import { DATA_CATEGORIES, type DataCategory, isDataCategory, type RawDocument } from "../../domain/index.js";

export type ParseOutcome = { ok: true; document: RawDocument } | { ok: false; reason: string };

type JsonObject = Record<string, unknown>;

export function parseRecord(value: unknown): ParseOutcome {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return fail(`record must be a JSON object, got ${describe(value)}`);
  }
  const record = value as JsonObject;
  const category = resolveCategory(record);
  if (typeof category !== "string" || !isDataCategory(category)) return fail(category.reason);
  const problems: string[] = [];
  const id = readId(record, problems);
  const authorId = readString(record, "author_id", problems);
  const authorName = readString(record, "author_full_name", problems);
  const platform = readString(record, "platform", problems);
  const content = record.content;
  if (content === null || typeof content !== "object" || Array.isArray(content)) {
    problems.push(`missing field content (an object), got ${describe(content)}`);
    return fail(problems.join("; "));
  }
  const body = content as JsonObject;
  const base = { id, author: { id: authorId, fullName: authorName }, platform };
  switch (category) {
    case "articles": {
      const title = readString(body, "Title", problems, "content.");
      const subtitle = readOptionalString(body, "Subtitle", problems, "content.") ?? "";
      const text = readString(body, "Content", problems, "content.");
      const language = readOptionalString(body, "language", problems, "content.");
      const link = readString(record, "link", problems);
      if (problems.length > 0) return fail(problems.join("; "));
      return ok({
        ...base,
        category,
        link,
        title,
        subtitle,
        content: text,
        ...(language === undefined ? {} : { language }),
      });
    }
    case "posts": {
      const text = readString(body, "text", problems, "content.");
      const title = readOptionalString(body, "title", problems, "content.");
      const link = readOptionalString(record, "link", problems) ?? "";
      const publishedAt = readOptionalString(record, "published_at", problems);
      if (problems.length > 0) return fail(problems.join("; "));
      return ok({
        ...base,
        category,
        link,
        content: text,
        ...(title === undefined ? {} : { title }),
        ...(publishedAt === undefined ? {} : { publishedAt }),
      });
    }
    case "repositories": {
      const name = readString(record, "name", problems);
      const link = readString(record, "link", problems);
      const files: Record<string, string> = {};
      for (const [path, text] of Object.entries(body)) {
        if (typeof text !== "string") {
          problems.push(`content["${path}"] must be the file's text (a string), got ${describe(text)}`);
          continue;
        }
        files[path] = text;
      }
      if (problems.length > 0) return fail(problems.join("; "));
      return ok({ ...base, category, link, name, files });
    }
  }
}

function resolveCategory(record: JsonObject): DataCategory | { reason: string } {
  const explicit = record.category;
  if (explicit !== undefined && explicit !== null) {
    if (isDataCategory(explicit)) return explicit;
    return {
      reason: `unknown category ${JSON.stringify(explicit)} (expected one of ${DATA_CATEGORIES.join(", ")})`,
    };
  }
  const content = record.content;
  if (content !== null && typeof content === "object" && !Array.isArray(content)) {
    const body = content as JsonObject;
    if ("Content" in body || "Title" in body) return "articles";
    if (typeof record.name === "string") return "repositories";
    if ("text" in body) return "posts";
  }
  if (content === undefined) return { reason: "missing field content" };
  return {
    reason:
      "cannot tell the category: expected content.Content (article), content.text (post) or name + content files (repository), or an explicit category field",
  };
}

function readId(record: JsonObject, problems: string[]): string {
  const value = record._id ?? record.id;
  if (typeof value === "string" && value.trim() !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  problems.push(
    value === undefined ? "missing field _id" : `field _id must be a non-empty string, got ${describe(value)}`,
  );
  return "";
}

function readString(object: JsonObject, key: string, problems: string[], prefix = ""): string {
  const value = object[key];
  if (typeof value === "string") return value;
  problems.push(
    value === undefined || value === null
      ? `missing field ${prefix}${key}`
      : `field ${prefix}${key} must be a string, got ${describe(value)}`,
  );
  return "";
}

function readOptionalString(object: JsonObject, key: string, problems: string[], prefix = ""): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  problems.push(`field ${prefix}${key} must be a string, got ${describe(value)}`);
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}

function ok(document: RawDocument): ParseOutcome {
  return { ok: true, document };
}

function fail(reason: string): ParseOutcome {
  return { ok: false, reason };
}
