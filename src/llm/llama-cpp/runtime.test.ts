import type { Llama } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { defaultThreads, defaultThreadsBatch, describeForLog, describeRuntime } from "./runtime.js";

const local = { buildType: "localBuild" } as Llama;
const prebuilt = { buildType: "prebuilt" } as Llama;

describe("llama.cpp runtime", () => {
  it("tells a local OpenMP build from the portable prebuilt binary", () => {
    const withOpenMp = "7f00-7f01 r-xp 00000000 08:01 42 /usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0\n";
    expect(describeRuntime(local, withOpenMp)).toEqual({ build: "local", openmp: true });
    expect(describeRuntime(prebuilt, "7f00-7f01 r-xp 0 08:01 7 /usr/lib/libc.so.6\n")).toEqual({
      build: "prebuilt",
      openmp: false,
    });
  });

  it("uses every core with an OpenMP team and leaves one free without", () => {
    expect(defaultThreads({ build: "local", openmp: true }, 2)).toBe(2);
    expect(defaultThreads({ build: "prebuilt", openmp: false }, 2)).toBe(1);
    expect(defaultThreads({ build: "prebuilt", openmp: false }, 1)).toBe(1);
    expect(defaultThreads({ build: "local", openmp: false }, 8)).toBe(7);
  });

  it("gives batches the threads chosen for generation, or every core when none were chosen", () => {
    expect(defaultThreadsBatch(undefined, 2)).toBe(2);
    expect(defaultThreadsBatch(3, 8)).toBe(3);
  });

  it("suggests building for this CPU only when running the prebuilt binary", () => {
    expect(describeForLog({ build: "prebuilt", openmp: false })).toContain("npm run build:llama");
    expect(describeForLog({ build: "local", openmp: true })).not.toContain("npm run build:llama");
  });
});
