import { describe, expect, it } from "vitest";
import { toTgiParameters } from "./tgi-protocol.js";

describe("toTgiParameters: watermark", () => {
  it("sends watermark: true when asked, and nothing otherwise", () => {
    expect(toTgiParameters({ prompt: "Hi", watermark: true }).watermark).toBe(true);
    expect(toTgiParameters({ prompt: "Hi", watermark: false })).not.toHaveProperty("watermark");
    expect(toTgiParameters({ prompt: "Hi" })).not.toHaveProperty("watermark");
  });
});
