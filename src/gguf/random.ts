/** Deterministic pseudo-random numbers and F32 → F16 conversion for generated model weights. */

/** mulberry32: a tiny, fast 32-bit PRNG. Returns a function yielding uniform numbers in [0, 1). */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a base seed with a stream number (e.g. a tensor index) into an independent seed. */
export function deriveSeed(seed: number, stream: number): number {
  let value = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  value = Math.imul(value ^ (value >>> 16), 0x85ebca6b) >>> 0;
  value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35) >>> 0;
  return (value ^ (value >>> 16)) >>> 0;
}

const conversionFloat = new Float32Array(1);
const conversionBits = new Uint32Array(conversionFloat.buffer);

/** IEEE 754 binary16 bits of `value` (round half up; overflow becomes infinity). */
export function float32ToFloat16Bits(value: number): number {
  conversionFloat[0] = value;
  const bits = conversionBits[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = bits & 0x7fffff;
  if (exponent >= 31) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    const shifted = (mantissa | 0x800000) >>> (1 - exponent);
    return sign | ((shifted + 0x1000) >>> 13);
  }
  const half = sign | (exponent << 10) | (mantissa >>> 13);
  return mantissa & 0x1000 ? half + 1 : half;
}
