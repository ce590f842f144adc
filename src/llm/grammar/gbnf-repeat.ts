/**
 * `item{min,max}` in GBNF. llama.cpp refuses to parse a repetition whose minimum is above 2,000
 * (its MAX_REPETITION_THRESHOLD) and silently drops a maximum above 2,000 (the repeat becomes
 * unbounded), so large counts are written in chunks of 1,000: a large minimum as
 * `(item{1000}){k}` then the rest, a large optional part as `(item{1000} <the rest> | item{0,999})`.
 */
const CHUNK = 1000;

/** `item` repeated min..max times (max undefined: no upper bound); `item` must be an atom or a group. */
export function quantified(item: string, min: number, max: number | undefined): string {
  if (max === 0) return '""';
  if (min > CHUNK) {
    const chunks = Math.floor(min / CHUNK);
    const head = `(${item}{${CHUNK}}){${chunks}}`;
    const rest = min - chunks * CHUNK;
    const restMax = max === undefined ? undefined : max - chunks * CHUNK;
    return restMax === 0 ? head : `${head} ${quantified(item, rest, restMax)}`;
  }
  if (max !== undefined && max - min > CHUNK) {
    const optional = upTo(item, max - min);
    return min === 0 ? optional : `${quantified(item, min, min)} ${optional}`;
  }
  if (max === undefined) return min === 0 ? `${item}*` : min === 1 ? `${item}+` : `${item}{${min},}`;
  if (min === max) return min === 1 ? item : `${item}{${min}}`;
  return min === 0 && max === 1 ? `${item}?` : `${item}{${min},${max}}`;
}

/** `item` 0..count times, count above CHUNK: at least CHUNK of them then the rest, or fewer. */
function upTo(item: string, count: number): string {
  if (count <= CHUNK) return quantified(item, 0, count);
  return `(${item}{${CHUNK}} ${upTo(item, count - CHUNK)} | ${item}{0,${CHUNK - 1}})`;
}
