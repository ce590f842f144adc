/**
 * `item{min,max}` in GBNF. llama.cpp refuses to parse a repetition whose minimum is much above
 * 2,000 (its MAX_REPETITION_THRESHOLD), so a large minimum is written in chunks of 1,000:
 * `(item{1000}){k}` then the rest.
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
  if (max === undefined) return min === 0 ? `${item}*` : min === 1 ? `${item}+` : `${item}{${min},}`;
  if (min === max) return min === 1 ? item : `${item}{${min}}`;
  return min === 0 && max === 1 ? `${item}?` : `${item}{${min},${max}}`;
}
