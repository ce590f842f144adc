import { describe, expect, it } from "vitest";
import { AppError } from "../errors/app-error.js";
import { DEFAULT_STORE_URI, formatStoreLocation, parseStoreUri } from "./uri.js";

function parseError(uri: string): AppError {
  try {
    parseStoreUri(uri);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error(`expected ${uri} to be rejected`);
}

describe("parseStoreUri", () => {
  it("reads lancedb URIs and bare paths as LanceDB directories", () => {
    expect(parseStoreUri(DEFAULT_STORE_URI)).toEqual({ kind: "lancedb", directory: "./.llm-twin/store" });
    expect(parseStoreUri("lancedb:/var/lib/store")).toEqual({ kind: "lancedb", directory: "/var/lib/store" });
    expect(parseStoreUri("LanceDB://relative/dir")).toEqual({ kind: "lancedb", directory: "relative/dir" });
    expect(parseStoreUri("./my-store")).toEqual({ kind: "lancedb", directory: "./my-store" });
    expect(parseStoreUri("/abs/store")).toEqual({ kind: "lancedb", directory: "/abs/store" });
    expect(parseStoreUri("C:\\stores\\twin")).toEqual({ kind: "lancedb", directory: "C:\\stores\\twin" });
  });

  it("reads qdrant URIs with an http or https URL", () => {
    expect(parseStoreUri("qdrant:http://localhost:6333")).toEqual({ kind: "qdrant", url: "http://localhost:6333" });
    expect(parseStoreUri("qdrant:https://cluster.example.com:6333/")).toEqual({
      kind: "qdrant",
      url: "https://cluster.example.com:6333",
    });
  });

  it("rejects bad URIs with a configuration_error naming the problem", () => {
    expect(parseError("").message).toMatch(/empty/);
    expect(parseError("lancedb:").message).toMatch(/directory is missing/);
    expect(parseError("qdrant:").message).toMatch(/URL is missing/);
    expect(parseError("qdrant:localhost:6333").message).toMatch(/http or https/);
    expect(parseError("qdrant:not a url").message).toMatch(/not a URL/);
    expect(parseError("http://localhost:6333").message).toMatch(/qdrant:http:\/\/localhost:6333/);
    expect(parseError("postgres://db").message).toMatch(/unknown store kind "postgres"/);
    expect(parseError("postgres://db").code).toBe("configuration_error");
  });

  it("formats a location back into its URI", () => {
    for (const uri of ["lancedb:./store", "qdrant:http://localhost:6333"]) {
      expect(formatStoreLocation(parseStoreUri(uri))).toBe(uri);
    }
  });
});
