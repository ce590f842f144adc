/**
 * `required` that is not a list of names is refused like every other malformed keyword, instead of
 * being read character by character (`"required": "ab"` meant properties "a" and "b").
 */
import { describe, expect, it } from "vitest";
import { jsonSchemaToGbnf } from "./json-schema-gbnf.js";

describe("jsonSchemaToGbnf: required", () => {
  it("refuses a required that is not an array of property names", () => {
    const properties = { a: { type: "integer" }, b: { type: "integer" } };
    for (const required of ["ab", "a", 5, [1], { a: true }]) {
      expect(() => jsonSchemaToGbnf({ type: "object", properties, required }), JSON.stringify(required)).toThrow(
        /`required` .*it must be an array of property names/,
      );
    }
    expect(() => jsonSchemaToGbnf({ type: "object", properties, required: ["a"] })).not.toThrow();
  });
});
