import { describe, expect, it } from "vitest";
import { definedOnly } from "./index.js";

describe("definedOnly", () => {
  it("drops undefined properties and keeps every other value, null, 0, false and '' included", () => {
    const value = { a: undefined, b: null, c: 0, d: false, e: "", f: "x" };
    const result = definedOnly(value);
    expect(result).toEqual({ b: null, c: 0, d: false, e: "", f: "x" });
    expect(Object.hasOwn(result, "a")).toBe(false);
  });

  it("spread over defaults, keeps the default of an option left undefined", () => {
    const defaults = { k: 3, mode: "hybrid" };
    const overrides: { k?: number | undefined; mode?: string | undefined } = { k: undefined, mode: "dense" };
    expect({ ...defaults, ...definedOnly(overrides) }).toEqual({ k: 3, mode: "dense" });
  });

  it("returns a copy: the given object is not changed", () => {
    const value = { a: undefined, b: 1 };
    definedOnly(value);
    expect(value).toEqual({ a: undefined, b: 1 });
  });
});
