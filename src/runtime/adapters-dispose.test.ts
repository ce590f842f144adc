/** Real adapters of every port release through the one verb, `[Symbol.asyncDispose]`, in a resource stack. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTgiLanguageModel } from "../llm/clients/tgi-client.js";
import { createTracer } from "../observability/tracing/tracer.js";
import { openVectorStore } from "../vector-store/open.js";
import { createResourceStack } from "./resource-stack.js";

const folder = mkdtempSync(join(tmpdir(), "llm-twin-dispose-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("port adapters", () => {
  it("a LanceDB store, an LLM client and a tracer release through [Symbol.asyncDispose]", async () => {
    const store = await openVectorStore(`lancedb:${join(folder, "store")}`);
    const llm = createTgiLanguageModel({ url: "http://127.0.0.1:9" });
    let sinkClosed = 0;
    const tracer = createTracer([
      {
        record: () => {},
        [Symbol.asyncDispose]: async () => {
          sinkClosed += 1;
        },
      },
    ]);
    for (const adapter of [store, llm, tracer]) expect(typeof adapter[Symbol.asyncDispose]).toBe("function");
    const stack = createResourceStack();
    stack.use("store", store);
    stack.use("llm", llm);
    stack.use("tracer", tracer);
    await stack.disposeAsync();
    expect(sinkClosed).toBe(1);
    expect(stack.held).toEqual([]);
  });
});
