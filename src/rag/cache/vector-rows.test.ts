import { describe, expect, it } from "vitest";
import { createVectorRows } from "./vector-rows.js";

const axis = (index: number, dimensions = 4) => {
  const vector = new Float32Array(dimensions);
  vector[index % dimensions] = 1 + Math.floor(index / dimensions);
  return vector;
};

describe.each(["wasm-simd", "javascript"] as const)("vector rows (%s kernel)", (kernel) => {
  it("scores every row; removing a row moves the last one into its place", () => {
    const rows = createVectorRows<string>(4, { kernel });
    expect(Array.from(rows.scores(axis(0)))).toEqual([]);
    for (const [index, id] of ["a", "b", "c"].entries()) expect(rows.push(id, axis(index))).toBe(index);
    expect(Array.from(rows.scores(axis(1)))).toEqual([0, 1, 0]);
    expect(rows.remove(0)).toBe("c");
    expect([rows.size, rows.item(0), rows.item(1)]).toEqual([2, "c", "b"]);
    expect(Array.from(rows.scores(axis(2)))).toEqual([1, 0]);
    expect(rows.remove(1)).toBeUndefined();
    rows.write(0, axis(3));
    expect(Array.from(rows.scores(axis(3)))).toEqual([1]);
  });

  it("grows past its first 64 rows, keeping them", () => {
    const rows = createVectorRows<number>(4, { kernel });
    for (let index = 0; index < 150; index++) rows.push(index, axis(index));
    const scores = rows.scores(axis(1));
    expect(scores.length).toBe(150);
    expect([scores[1], scores[5], scores[148], scores[149], rows.item(149)]).toEqual([1, 2, 0, 38, 149]);
  });

  it("does not grow past maxRows", () => {
    const rows = createVectorRows<number>(4, { kernel, maxRows: 2 });
    rows.push(0, axis(0));
    rows.push(1, axis(1));
    expect(() => rows.push(2, axis(2))).toThrow();
  });
});
