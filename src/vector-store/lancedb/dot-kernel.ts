/**
 * Dot products of one query with many rows of a vector matrix, for the memory index's exact scan:
 * a WebAssembly SIMD kernel (four float lanes per instruction; measured ~3–4× a plain JavaScript
 * loop on the same data) when the runtime has WebAssembly SIMD and the dimensions are a multiple
 * of 4, a JavaScript loop otherwise.
 *
 * The kernel, as WebAssembly text (the bytes below are its hand-assembled binary form):
 *   (func (export "dots") (param $matrix i32) (param $query i32) (param $rows i32) (param $count i32)
 *                         (param $dims i32) (param $out i32)
 *     for i in [0, count): p = matrix + rows[i] * dims * 4
 *       four v128 accumulators over 16 floats per step, then 4 per step for the rest:
 *         acc_k += v128.load(p + j + 16k) * v128.load(query + j + 16k)
 *       out[i] = the sum of the lanes of acc_0 + acc_1 + acc_2 + acc_3)
 * with its memory exported as "memory".
 */

/** Dot products of `query` with the rows `order[start .. start + count)`, as a (reused) view. */
export type DotScanner = {
  readonly kind: "wasm-simd" | "javascript";
  scores(query: Float32Array, start: number, count: number): Float32Array;
};

const local = { get: (index: number) => [0x20, index], set: (index: number) => [0x21, index] };
const i32 = { const: (value: number) => [0x41, ...signedLeb128(value)], shl: 0x74, add: 0x6a, mul: 0x6c, geU: 0x4f };
const i32And = 0x71;
const lane = (index: number) => [0xfd, 0x1f, index];
const f32Add = 0x92;

const v128LoadAt = (offset: number) => [0xfd, 0x00, 0x00, offset];
const f32x4MulAdd = [0xfd, 0xe6, 0x01, 0xfd, 0xe4, 0x01];
const f32x4Add = [0xfd, 0xe4, 0x01];
const zeroV128 = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
/** acc(local) += v128.load(p + j + offset) * v128.load(query + j + offset) */
const accumulate = (accumulator: number, offset: number) => [
  ...local.get(accumulator),
  ...local.get(7),
  ...local.get(8),
  i32.add,
  ...v128LoadAt(offset),
  ...local.get(1),
  ...local.get(8),
  i32.add,
  ...v128LoadAt(offset),
  ...f32x4MulAdd,
  ...local.set(accumulator),
];

/**
 * Function body. Locals 6–10 are i32 (i, p, j, rowBytes, rowBytes rounded down to 64), 11–14 the
 * v128 accumulators: the main loop takes 16 floats per step into four independent accumulators
 * (so additions do not wait on each other), a tail loop takes the last groups of 4.
 */
const KERNEL_BODY = [
  [0x02, 0x05, 0x7f, 0x04, 0x7b],
  [...local.get(4), ...i32.const(2), i32.shl, ...local.set(9)],
  [...local.get(9), ...i32.const(-64), i32And, ...local.set(10)],
  [...i32.const(0), ...local.set(6)],
  [0x02, 0x40, 0x03, 0x40],
  [...local.get(6), ...local.get(3), i32.geU, 0x0d, 0x01],
  [...local.get(0), ...local.get(2), ...local.get(6), ...i32.const(2), i32.shl, i32.add, 0x28, 0x02, 0x00],
  [...local.get(9), i32.mul, i32.add, ...local.set(7)],
  [...zeroV128, ...local.set(11), ...zeroV128, ...local.set(12)],
  [...zeroV128, ...local.set(13), ...zeroV128, ...local.set(14)],
  [...i32.const(0), ...local.set(8)],
  [0x02, 0x40, 0x03, 0x40],
  [...local.get(8), ...local.get(10), i32.geU, 0x0d, 0x01],
  [...accumulate(11, 0), ...accumulate(12, 16), ...accumulate(13, 32), ...accumulate(14, 48)],
  [...local.get(8), ...i32.const(64), i32.add, ...local.set(8)],
  [0x0c, 0x00, 0x0b, 0x0b],
  [0x02, 0x40, 0x03, 0x40],
  [...local.get(8), ...local.get(9), i32.geU, 0x0d, 0x01],
  [...accumulate(11, 0)],
  [...local.get(8), ...i32.const(16), i32.add, ...local.set(8)],
  [0x0c, 0x00, 0x0b, 0x0b],
  [...local.get(11), ...local.get(12), ...f32x4Add, ...local.get(13), ...f32x4Add, ...local.get(14), ...f32x4Add],
  [...local.set(11)],
  [...local.get(5), ...local.get(6), ...i32.const(2), i32.shl, i32.add],
  [...local.get(11), ...lane(0), ...local.get(11), ...lane(1), f32Add],
  [...local.get(11), ...lane(2), f32Add, ...local.get(11), ...lane(3), f32Add],
  [0x38, 0x02, 0x00],
  [...local.get(6), ...i32.const(1), i32.add, ...local.set(6)],
  [0x0c, 0x00, 0x0b, 0x0b],
  [0x0b],
].flat();

function signedLeb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function leb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

const section = (id: number, content: number[]) => [id, ...leb128(content.length), ...content];
const name = (text: string) => [text.length, ...new TextEncoder().encode(text)];

function kernelBytes(): Uint8Array {
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x01, 0x60, 0x06, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]),
    ...section(3, [0x01, 0x00]),
    ...section(5, [0x01, 0x00, 0x01]),
    ...section(7, [0x02, ...name("memory"), 0x02, 0x00, ...name("dots"), 0x00, 0x00]),
    ...section(10, [0x01, ...leb128(KERNEL_BODY.length), ...KERNEL_BODY]),
  ]);
}

/** The part of the WebAssembly API used here (the project's TypeScript lib has no DOM typings). */
type WasmModule = object;
type WasmMemory = { readonly buffer: ArrayBuffer; grow(pages: number): number };
type WasmApi = {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: Record<string, unknown> };
};

let compiled: WasmModule | null | undefined;

/** The compiled kernel, or null when this runtime has no WebAssembly SIMD. Compiled once, on first use. */
function kernelModule(): WasmModule | null {
  if (compiled === undefined) {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    const bytes = kernelBytes();
    compiled = wasm?.validate(bytes) === true ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/** The kernel when `prefer` and the dimensions allow it (a multiple of 4) and the runtime has WebAssembly SIMD. */
function kernelFor(dimensions: number, prefer: "wasm-simd" | "javascript"): WasmModule | null {
  return prefer === "wasm-simd" && dimensions % 4 === 0 ? kernelModule() : null;
}

const PAGE = 65_536;

/** A new instance of the kernel whose memory has room for `bytes`: its buffer and the `dots` function. */
function kernelInstance(
  module: WasmModule,
  bytes: number,
): { buffer: ArrayBuffer; dots: (...pointers: number[]) => void } {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly as WasmApi;
  const instance = new wasm.Instance(module);
  const memory = instance.exports.memory as WasmMemory;
  memory.grow(Math.ceil(bytes / PAGE));
  return { buffer: memory.buffer, dots: instance.exports.dots as (...pointers: number[]) => void };
}

/**
 * A scanner over `vectors` (rows × dimensions, row-major) visiting rows in the order given by
 * `order`. `prefer: "javascript"` skips WebAssembly (used to compare the two).
 */
export function createDotScanner(
  vectors: Float32Array,
  dimensions: number,
  order: Int32Array,
  prefer: "wasm-simd" | "javascript" = "wasm-simd",
): DotScanner {
  const module = kernelFor(dimensions, prefer);
  if (module === null) return javascriptScanner(vectors, dimensions, order);
  try {
    return wasmScanner(module, vectors, dimensions, order);
  } catch {
    // Past WebAssembly's 4 GiB memory, or out of memory: the JavaScript loop needs no copy.
    return javascriptScanner(vectors, dimensions, order);
  }
}

function wasmScanner(module: WasmModule, vectors: Float32Array, dimensions: number, order: Int32Array): DotScanner {
  const orderAt = vectors.length * 4;
  const queryAt = orderAt + order.length * 4;
  const outAt = queryAt + dimensions * 4;
  const { buffer, dots } = kernelInstance(module, outAt + order.length * 4);
  new Float32Array(buffer, 0, vectors.length).set(vectors);
  new Int32Array(buffer, orderAt, order.length).set(order);
  const query = new Float32Array(buffer, queryAt, dimensions);
  const out = new Float32Array(buffer, outAt, order.length);
  return {
    kind: "wasm-simd",
    scores(vector, start, count) {
      query.set(vector);
      dots(0, queryAt, orderAt + start * 4, count, dimensions, outAt);
      return out.subarray(0, count);
    },
  };
}

function javascriptScanner(vectors: Float32Array, dimensions: number, order: Int32Array): DotScanner {
  const out = new Float32Array(order.length);
  return {
    kind: "javascript",
    scores(query, start, count) {
      for (let position = 0; position < count; position++) {
        const offset = (order[start + position] as number) * dimensions;
        let lane0 = 0;
        let lane1 = 0;
        let lane2 = 0;
        let lane3 = 0;
        let axis = 0;
        for (; axis + 3 < dimensions; axis += 4) {
          lane0 += (vectors[offset + axis] as number) * (query[axis] as number);
          lane1 += (vectors[offset + axis + 1] as number) * (query[axis + 1] as number);
          lane2 += (vectors[offset + axis + 2] as number) * (query[axis + 2] as number);
          lane3 += (vectors[offset + axis + 3] as number) * (query[axis + 3] as number);
        }
        for (; axis < dimensions; axis++) lane0 += (vectors[offset + axis] as number) * (query[axis] as number);
        out[position] = lane0 + lane1 + lane2 + lane3;
      }
      return out.subarray(0, count);
    },
  };
}

/**
 * A fixed-capacity matrix whose rows are written in place (`rows`, capacity × dimensions,
 * row-major) and scanned from row 0: the answer cache's partitions (src/rag/cache), which add and
 * remove rows between scans. The WebAssembly variant keeps the rows inside the kernel's memory,
 * so a scan copies nothing but the query.
 */
export type DotMatrix = {
  readonly kind: "wasm-simd" | "javascript";
  readonly dimensions: number;
  readonly capacity: number;
  /** The rows, writable; row i is rows.subarray(i * dimensions, (i + 1) * dimensions). */
  readonly rows: Float32Array;
  /** Dot products of `query` with rows [0, count), as a (reused) view. */
  scores(query: Float32Array, count: number): Float32Array;
};

export function createDotMatrix(
  dimensions: number,
  capacity: number,
  prefer: "wasm-simd" | "javascript" = "wasm-simd",
): DotMatrix {
  const identity = Int32Array.from({ length: capacity }, (_, index) => index);
  const module = kernelFor(dimensions, prefer);
  if (module !== null) {
    try {
      return wasmMatrix(module, dimensions, capacity, identity);
    } catch {
      // out of WebAssembly memory: the JavaScript loop below
    }
  }
  const rows = new Float32Array(capacity * dimensions);
  const scanner = javascriptScanner(rows, dimensions, identity);
  return { kind: "javascript", dimensions, capacity, rows, scores: (query, count) => scanner.scores(query, 0, count) };
}

function wasmMatrix(module: WasmModule, dimensions: number, capacity: number, identity: Int32Array): DotMatrix {
  const orderAt = 0;
  const queryAt = orderAt + capacity * 4;
  const outAt = queryAt + dimensions * 4;
  const matrixAt = outAt + capacity * 4;
  const { buffer, dots } = kernelInstance(module, matrixAt + capacity * dimensions * 4);
  new Int32Array(buffer, orderAt, capacity).set(identity);
  const query = new Float32Array(buffer, queryAt, dimensions);
  const out = new Float32Array(buffer, outAt, capacity);
  const rows = new Float32Array(buffer, matrixAt, capacity * dimensions);
  return {
    kind: "wasm-simd",
    dimensions,
    capacity,
    rows,
    scores(vector, count) {
      query.set(vector);
      dots(matrixAt, queryAt, orderAt, count, dimensions, outAt);
      return out.subarray(0, count);
    },
  };
}
