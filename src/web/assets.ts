/**
 * Reads the chat page's hand-written assets (no build step) into memory once, with a content
 * hash: the page refers to `/assets/<version>/app.js`, so the files can be cached for good.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../errors/index.js";

export type ChatPageAsset = { body: Buffer; contentType: string; etag: string };

export type ChatPageAssets = {
  version: string;
  page: ChatPageAsset;
  /** By file name (the page's scripts and styles). */
  files: ReadonlyMap<string, ChatPageAsset>;
};

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

const PAGE_FILE = "index.html";
const VERSION_PLACEHOLDER = "__ASSETS_VERSION__";

/** Beside this module when running from source; from dist/web, the source folder (tsc copies no assets). */
export function defaultAssetsDirectory(): string {
  const beside = fileURLToPath(new URL("./assets/", import.meta.url));
  if (existsSync(join(beside, PAGE_FILE))) return beside;
  return fileURLToPath(new URL("../../src/web/assets/", import.meta.url));
}

function asset(body: Buffer, contentType: string): ChatPageAsset {
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, contentType, etag };
}

export async function loadChatPageAssets(directory = defaultAssetsDirectory()): Promise<ChatPageAssets> {
  let names: string[];
  try {
    names = (await readdir(directory)).sort();
  } catch (error) {
    throw new AppError("configuration_error", `the chat page's assets are missing: cannot read ${directory}`, {
      cause: error,
    });
  }
  const hash = createHash("sha256");
  const files = new Map<string, ChatPageAsset>();
  for (const name of names) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType === undefined) continue;
    const body = await readFile(join(directory, name));
    hash.update(name).update(body);
    files.set(name, asset(body, contentType));
  }
  const version = hash.digest("hex").slice(0, 12);
  const template = await readFile(join(directory, PAGE_FILE), "utf8").catch((error: unknown) => {
    throw new AppError("configuration_error", `the chat page is missing: ${join(directory, PAGE_FILE)}`, {
      cause: error,
    });
  });
  const page = asset(Buffer.from(template.replaceAll(VERSION_PLACEHOLDER, version)), "text/html; charset=utf-8");
  return { version, page, files };
}
