import { describe, expect, it } from "vitest";
import { createProgress, formatDuration } from "./progress.js";

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 200, write: (text: string) => writes.push(text) } };
}

describe("createProgress", () => {
  it("redraws one line with a bar, counters, rate and ETA on a TTY", () => {
    const { writes, stream } = recorder(true);
    let time = 0;
    const progress = createProgress({ label: "ingest", unit: "documents", rateOf: "chunks", stream, now: () => time });
    time = 2000;
    progress.update({ completed: 10, total: 40, counters: { chunks: 300 } });
    expect(writes).toHaveLength(1);
    const line = writes[0] as string;
    expect(line.startsWith("\r")).toBe(true);
    expect(line).toContain("[######------------------]  25%");
    expect(line).toContain("10/40 documents | 300 chunks | 150 chunks/s | ETA 6.0s");
    time = 2050;
    progress.update({ completed: 11 });
    expect(writes).toHaveLength(1);
    progress.finish();
    expect(writes.at(-1)).toBe("\n");
    expect(writes.at(-2)).toContain("11/40 documents");
  });

  it("prints plain lines at most every interval when not a TTY", () => {
    const { writes, stream } = recorder(false);
    let time = 0;
    const progress = createProgress({ label: "ingest", unit: "documents", stream, intervalMs: 2000, now: () => time });
    time = 500;
    progress.update({ completed: 1 });
    expect(writes).toEqual([]);
    time = 2100;
    progress.update({ completed: 5, counters: { chunks: 20 } });
    expect(writes).toEqual(["ingest: 5 documents | 20 chunks | 2 documents/s | 2.1s elapsed\n"]);
    time = 3000;
    progress.update({ completed: 6 });
    expect(writes).toHaveLength(1);
    progress.finish("done");
    expect(writes.slice(1)).toEqual(["ingest: 6 documents | 20 chunks | 2 documents/s | 3.0s elapsed\n", "done\n"]);
  });

  it("stays quiet for a job shorter than one interval", () => {
    const { writes, stream } = recorder(false);
    let time = 0;
    const progress = createProgress({ label: "x", stream, now: () => time });
    time = 100;
    progress.update({ completed: 3 });
    progress.finish();
    expect(writes).toEqual([]);
  });

  it("formats durations", () => {
    expect(formatDuration(3.25)).toBe("3.3s");
    expect(formatDuration(75)).toBe("1m15s");
    expect(formatDuration(7300)).toBe("2h01m");
  });
});
