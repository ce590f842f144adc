import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { acquire, createResourceStack } from "./resource-stack.js";

function fakeResource(name: string, released: string[], verb: "close" | "dispose" | "asyncDispose" = "dispose") {
  const release = async () => {
    released.push(name);
  };
  if (verb === "close") return { close: release };
  if (verb === "dispose") return { dispose: release };
  return { [Symbol.asyncDispose]: release };
}

describe("createResourceStack", () => {
  it("releases newest first, each exactly once, whatever its verb", async () => {
    const released: string[] = [];
    const stack = createResourceStack();
    stack.use("store", fakeResource("store", released, "close"));
    stack.use("embedder", fakeResource("embedder", released, "dispose"));
    stack.use("llm", fakeResource("llm", released, "asyncDispose"));
    stack.defer("timer", () => {
      released.push("timer");
    });
    expect(stack.held).toEqual(["store", "embedder", "llm", "timer"]);
    await Promise.all([stack.disposeAsync(), stack[Symbol.asyncDispose]()]);
    await stack.disposeAsync();
    expect(released).toEqual(["timer", "llm", "embedder", "store"]);
    expect(stack.disposed).toBe(true);
    expect(() => stack.use("late", fakeResource("late", released))).toThrow(/already released/);
  });

  it("runs every release when some fail, then reports them all", async () => {
    const released: string[] = [];
    const stack = createResourceStack();
    stack.use("store", fakeResource("store", released));
    stack.defer("embedder", () => Promise.reject(new Error("busy")));
    stack.defer("llm", () => Promise.reject(new Error("gone")));
    const failure = await stack.disposeAsync().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AggregateError);
    expect((failure as AggregateError).errors.map((error: Error) => error.message)).toEqual([
      "releasing llm failed: gone",
      "releasing embedder failed: busy",
    ]);
    expect(released).toEqual(["store"]);
  });
});

describe("acquire", () => {
  const STEPS = ["store", "embedder", "llm", "reranker"] as const;

  for (const [failingIndex, failing] of STEPS.entries()) {
    it(`start-up failing at ${failing} releases what was built before it, in reverse order`, async () => {
      const released: string[] = [];
      const failure = await acquire(async (stack) => {
        for (const step of STEPS) {
          if (step === failing) throw new Error(`${step} failed to load`);
          stack.use(step, fakeResource(step, released));
        }
      }).catch((error: unknown) => error);
      expect((failure as Error).message).toBe(`${failing} failed to load`);
      expect(released).toEqual(STEPS.slice(0, failingIndex).reverse());
    });
  }

  it("leaves no handle open when start-up fails after a real resource was taken", async () => {
    const before = process.getActiveResourcesInfo().filter((kind) => kind === "TCPServerWrap").length;
    const failure = await acquire(async (stack) => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      stack.defer("server", () => new Promise<void>((resolve) => server.close(() => resolve())));
      expect(process.getActiveResourcesInfo().filter((kind) => kind === "TCPServerWrap").length).toBe(before + 1);
      throw new Error("the model failed to load");
    }).catch((error: unknown) => error);
    expect((failure as Error).message).toBe("the model failed to load");
    await new Promise((resolve) => setTimeout(resolve, 0)); // the handle leaves the list after the close phase
    expect(process.getActiveResourcesInfo().filter((kind) => kind === "TCPServerWrap").length).toBe(before);
  });

  it("hands the stack over on success", async () => {
    const released: string[] = [];
    const { value, stack } = await acquire(async (resources) =>
      resources.use("store", fakeResource("store", released)),
    );
    expect(released).toEqual([]);
    await stack.disposeAsync();
    expect(released).toEqual(["store"]);
    expect(typeof value.dispose).toBe("function");
  });
});
