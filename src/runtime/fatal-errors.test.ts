import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { handleFatalErrors } from "./fatal-errors.js";

function harness(shutdown: () => Promise<void> | void, deadlineMs = 60_000) {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const lines: string[] = [];
  let exited: (code: number) => void = () => {};
  const nextExit = () => new Promise<number>((resolve) => (exited = resolve));
  const detach = handleFatalErrors({
    name: "test",
    shutdown,
    deadlineMs,
    emitter: emitter as unknown as Pick<NodeJS.Process, "on" | "off">,
    exit: (code) => {
      exits.push(code);
      exited(code);
    },
    log: (line) => lines.push(line),
  });
  return { emitter, exits, lines, detach, nextExit };
}

describe("handleFatalErrors", () => {
  it("an unhandled rejection: one line, the graceful shutdown, then exit 1", async () => {
    let shutdowns = 0;
    const test = harness(() => {
      shutdowns += 1;
    });
    const exit = test.nextExit();
    test.emitter.emit("unhandledRejection", new Error("Failed to accept token\nin sampler"));
    expect(await exit).toBe(1);
    expect(shutdowns).toBe(1);
    expect(test.lines).toEqual([
      "internal error (unhandled rejection): Failed to accept token in sampler; shutting down (at most 60 s) and exiting with 1",
    ]);
  });

  it("an uncaught exception during a shutdown that hangs: exits at once; the deadline also ends a hung shutdown", async () => {
    const test = harness(() => new Promise<void>(() => {}));
    test.emitter.emit("uncaughtException", new Error("first"));
    const exit = test.nextExit();
    test.emitter.emit("uncaughtException", new Error("second"));
    expect(await exit).toBe(1);
    expect(test.lines.at(-1)).toBe("internal error (uncaught exception): second; exiting now");

    const bounded = harness(() => new Promise<void>(() => {}), 10);
    const boundedExit = bounded.nextExit();
    bounded.emitter.emit("unhandledRejection", "a string reason");
    expect(await boundedExit).toBe(1);
  });

  it("a failed shutdown still exits 1; detached, nothing is handled", async () => {
    const test = harness(() => Promise.reject(new Error("close failed")));
    const exit = test.nextExit();
    test.emitter.emit("unhandledRejection", new Error("boom"));
    expect(await exit).toBe(1);
    expect(test.lines.at(-1)).toBe("shutdown failed: close failed");
    test.detach();
    expect(test.emitter.listenerCount("unhandledRejection")).toBe(0);
    expect(test.emitter.listenerCount("uncaughtException")).toBe(0);
  });
});
