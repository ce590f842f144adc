/** Test helpers: the fake Qdrant checked against the OpenAPI document of ../shared when present. */
import { requireSharedDataset } from "../../testing/shared-datasets.js";
import { createFakeQdrant, type FakeQdrant, type FakeQdrantOptions } from "./fake-qdrant.js";
import { loadOpenApiChecker, type OpenApiChecker } from "./openapi-check.js";

export const QDRANT_OPENAPI = ["qdrant", "openapi-v1.18.3.json"] as const;

let checker: OpenApiChecker | undefined | null = null;

/** Qdrant's OpenAPI checker, loaded once (undefined, after one message, when ../shared is absent). */
export function qdrantOpenApi(): OpenApiChecker | undefined {
  if (checker === null) {
    const path = requireSharedDataset(...QDRANT_OPENAPI);
    checker = path === undefined ? undefined : loadOpenApiChecker(path);
  }
  return checker;
}

/** A fake server that validates every request against the spec when it is available. */
export function checkedFakeQdrant(options: Omit<FakeQdrantOptions, "openApi"> = {}): FakeQdrant {
  const openApi = qdrantOpenApi();
  return createFakeQdrant({ ...options, ...(openApi === undefined ? {} : { openApi }) });
}
