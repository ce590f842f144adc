import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { FORCED_EXIT_CODE, handleShutdownSignals } from "./shutdown-signals.js";

function harness(options: { exitWhenDone?: boolean; graceMs?: number; shutdown: () => Promise<void> | void }) {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const lines: string[] = [];
  let exited: (code: number) => void = () => {};
  const nextExit = () => new Promise<number>((resolve) => (exited = resolve));
  const detach = handleShutdownSignals({
    name: "test",
    shutdown: options.shutdown,
    ...(options.exitWhenDone === undefined ? {} : { exitWhenDone: options.exitWhenDone }),
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    emitter: emitter as unknown as Pick<NodeJS.Process, "on" | "off">,
    exit: (code) => {
      exits.push(code);
      exited(code);
    },
    log: (line) => lines.push(line),
  });
  return { emitter, exits, lines, detach, nextExit };
}

describe("handleShutdownSignals", () => {
  it("shuts down once on the first signal, then exits 0", async () => {
    let calls = 0;
    const test = harness({
      shutdown: async () => {
        calls += 1;
      },
    });
    const exit = test.nextExit();
    test.emitter.emit("SIGTERM", "SIGTERM");
    expect(await exit).toBe(0);
    expect(calls).toBe(1);
    expect(test.lines[0]).toMatch(/received SIGTERM, shutting down; SIGTERM again to exit at once/);
  });

  it("exits at once with 130 on a second signal while the shutdown runs", async () => {
    const test = harness({ shutdown: () => new Promise<void>(() => {}) });
    test.emitter.emit("SIGINT", "SIGINT");
    const exit = test.nextExit();
    test.emitter.emit("SIGINT", "SIGINT");
    expect(await exit).toBe(FORCED_EXIT_CODE);
    expect(test.lines.at(-1)).toBe("SIGINT again: exiting now");
  });

  it("exits 1 when the shutdown misses its deadline or fails", async () => {
    const slow = harness({ graceMs: 20, shutdown: () => new Promise<void>(() => {}) });
    const slowExit = slow.nextExit();
    slow.emitter.emit("SIGTERM", "SIGTERM");
    expect(await slowExit).toBe(1);
    expect(slow.lines.at(-1)).toMatch(/did not finish within 20 ms/);

    const failing = harness({ shutdown: () => Promise.reject(new Error("store busy")) });
    const failingExit = failing.nextExit();
    failing.emitter.emit("SIGTERM", "SIGTERM");
    expect(await failingExit).toBe(1);
    expect(failing.lines.at(-1)).toBe("shutdown failed: store busy");
  });

  it("lets commands that end by themselves return, and detaches its handlers", async () => {
    let aborted = false;
    const test = harness({
      exitWhenDone: false,
      shutdown: () => {
        aborted = true;
      },
    });
    test.emitter.emit("SIGINT", "SIGINT");
    await new Promise((resolve) => setImmediate(resolve));
    expect(aborted).toBe(true);
    expect(test.exits).toEqual([]);
    test.detach();
    expect(test.emitter.listenerCount("SIGINT")).toBe(0);
    expect(test.emitter.listenerCount("SIGTERM")).toBe(0);
  });
});
