/**
 * Whether every rule of a GBNF grammar can finish: a rule that derives no finite text (a recursive
 * `$ref` that is always required, such as an object whose required property is that object again)
 * would let a sampler start a document it can never close. The converter refuses such schemas.
 * Reads the subset of GBNF the converter writes: literals, classes, rule names, groups,
 * alternatives and the quantifiers `* + ? {m} {m,} {m,n}`.
 */

type Element = { kind: "terminal" } | { kind: "rule"; name: string } | { kind: "group"; alternatives: Element[][] };
type Quantified = { element: Element; optional: boolean };

function parseAlternatives(text: string, start: number): { alternatives: Quantified[][]; end: number } {
  const alternatives: Quantified[][] = [[]];
  let position = start;
  const push = (element: Element) => {
    const rest = text.slice(position);
    const quantifier = /^\s*(\*|\+|\?|\{(\d+)(,\d*)?\})/.exec(rest);
    let optional = false;
    if (quantifier !== null) {
      position += quantifier[0].length;
      optional = quantifier[1] === "*" || quantifier[1] === "?" || quantifier[2] === "0";
    }
    (alternatives[alternatives.length - 1] as Quantified[]).push({ element, optional });
  };
  while (position < text.length) {
    const character = text[position] as string;
    if (/\s/.test(character)) position++;
    else if (character === "|") {
      alternatives.push([]);
      position++;
    } else if (character === ")") return { alternatives, end: position + 1 };
    else if (character === "(") {
      const inner = parseAlternatives(text, position + 1);
      position = inner.end;
      push({ kind: "group", alternatives: inner.alternatives.map((sequence) => sequence.map(wrap)) });
    } else if (character === '"' || character === "[") {
      const close = character === '"' ? '"' : "]";
      position++;
      while (position < text.length && text[position] !== close) position += text[position] === "\\" ? 2 : 1;
      position++;
      push({ kind: "terminal" });
    } else {
      const name = /^[a-zA-Z0-9_-]+/.exec(text.slice(position));
      if (name === null) throw new Error(`unexpected ${JSON.stringify(character)} in grammar`);
      position += name[0].length;
      push({ kind: "rule", name: name[0] });
    }
  }
  return { alternatives, end: position };
}

/** A quantified element as a group, so optionality is kept when nested. */
function wrap(item: Quantified): Element {
  return item.optional ? { kind: "group", alternatives: [[], [item.element]] } : item.element;
}

/** Names of the rules that derive no finite text (rules not in the map are taken to finish). */
export function nonTerminatingRules(rules: ReadonlyMap<string, string>): string[] {
  const parsed = new Map<string, Element[][]>();
  for (const [name, body] of rules) {
    parsed.set(
      name,
      parseAlternatives(body, 0).alternatives.map((sequence) => sequence.map(wrap)),
    );
  }
  const finishes = new Set<string>();
  const elementFinishes = (element: Element): boolean =>
    element.kind === "terminal" ||
    (element.kind === "rule"
      ? finishes.has(element.name) || !parsed.has(element.name)
      : element.alternatives.some(sequenceFinishes));
  const sequenceFinishes = (sequence: Element[]): boolean => sequence.every(elementFinishes);
  let changed = true;
  while (changed) {
    changed = false;
    for (const [name, alternatives] of parsed) {
      if (!finishes.has(name) && alternatives.some(sequenceFinishes)) {
        finishes.add(name);
        changed = true;
      }
    }
  }
  return [...parsed.keys()].filter((name) => !finishes.has(name));
}
