/**
 * Store URIs: `lancedb:<directory>` (or a bare path) and `qdrant:<http(s) url>`.
 */
import { AppError } from "../errors/app-error.js";

/** Where the embedded store lives unless told otherwise. */
export const DEFAULT_STORE_URI = "lancedb:./.llm-twin/store";

export type StoreLocation = { kind: "lancedb"; directory: string } | { kind: "qdrant"; url: string };

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
const KNOWN_KINDS = "lancedb:<directory> or qdrant:<http(s) url>";

function badUri(uri: string, reason: string): AppError {
  return new AppError("configuration_error", `Invalid store URI "${uri}": ${reason} (expected ${KNOWN_KINDS}).`, {
    details: { uri },
  });
}

/** Parses a store URI; throws AppError("configuration_error") naming what is wrong. */
export function parseStoreUri(uri: string): StoreLocation {
  const trimmed = uri.trim();
  if (trimmed.length === 0) throw badUri(uri, "it is empty");
  const scheme = SCHEME.exec(trimmed)?.[1]?.toLowerCase();
  // A single letter followed by ":" is a Windows drive (C:\store), not a scheme.
  if (scheme === undefined || scheme.length === 1) return { kind: "lancedb", directory: trimmed };
  const rest = trimmed.slice(scheme.length + 1);
  switch (scheme) {
    case "lancedb": {
      const directory = rest.startsWith("//") ? rest.slice(2) : rest;
      if (directory.length === 0) throw badUri(uri, "the LanceDB directory is missing");
      return { kind: "lancedb", directory };
    }
    case "qdrant": {
      if (rest.length === 0) throw badUri(uri, "the Qdrant URL is missing");
      let url: URL;
      try {
        url = new URL(rest);
      } catch {
        throw badUri(uri, `"${rest}" is not a URL`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw badUri(uri, `the Qdrant URL must use http or https, not ${url.protocol.replace(/:$/, "")}`);
      }
      return { kind: "qdrant", url: rest.replace(/\/+$/, "") };
    }
    case "http":
    case "https":
      throw badUri(uri, `a bare URL is ambiguous; write "qdrant:${trimmed}" for a Qdrant server`);
    default:
      throw badUri(uri, `unknown store kind "${scheme}"`);
  }
}

/** The canonical text form of a location (for logs and `VectorStore.location`). */
export function formatStoreLocation(location: StoreLocation): string {
  return location.kind === "lancedb" ? `lancedb:${location.directory}` : `qdrant:${location.url}`;
}
