/**
 * A small matcher for the GBNF the JSON-schema converter writes (literals, classes with ranges and
 * `\xHH` escapes, rule names, groups, alternatives, `* + ? {m} {m,} {m,n}`), for tests that check
 * exactly which strings a grammar admits, without sampling. Not a general GBNF implementation.
 */

type Element =
  | { kind: "literal"; text: string }
  | { kind: "class"; ranges: [number, number][]; negated: boolean }
  | { kind: "rule"; name: string }
  | { kind: "group"; alternatives: Sequence[] };
type Item = { element: Element; min: number; max: number };
type Sequence = Item[];

const ESCAPES: Record<string, string> = {
  n: "\n",
  r: "\r",
  t: "\t",
  "\\": "\\",
  '"': '"',
  "[": "[",
  "]": "]",
  "-": "-",
};

class GrammarParser {
  private position = 0;
  constructor(private readonly text: string) {}

  alternatives(): Sequence[] {
    const result: Sequence[] = [[]];
    for (;;) {
      const character = this.text[this.position];
      if (character === undefined || character === ")") return result;
      if (/\s/.test(character)) this.position++;
      else if (character === "|") {
        result.push([]);
        this.position++;
      } else (result[result.length - 1] as Sequence).push(this.quantified(this.element()));
    }
  }

  private character(): string {
    const character = this.text[this.position++] as string;
    if (character !== "\\") return character;
    const next = this.text[this.position++] as string;
    if (next === "x") {
      const code = Number.parseInt(this.text.slice(this.position, this.position + 2), 16);
      this.position += 2;
      return String.fromCharCode(code);
    }
    return ESCAPES[next] ?? next;
  }

  private element(): Element {
    const character = this.text[this.position] as string;
    if (character === "(") {
      this.position++;
      const alternatives = this.alternatives();
      this.position++;
      return { kind: "group", alternatives };
    }
    if (character === '"') {
      this.position++;
      let text = "";
      while (this.text[this.position] !== '"') text += this.character();
      this.position++;
      return { kind: "literal", text };
    }
    if (character === "[") {
      this.position++;
      const negated = this.text[this.position] === "^";
      if (negated) this.position++;
      const ranges: [number, number][] = [];
      while (this.text[this.position] !== "]") {
        const from = this.character().charCodeAt(0);
        if (this.text[this.position] === "-" && this.text[this.position + 1] !== "]") {
          this.position++;
          ranges.push([from, this.character().charCodeAt(0)]);
        } else ranges.push([from, from]);
      }
      this.position++;
      return { kind: "class", ranges, negated };
    }
    const name = /^[a-zA-Z0-9_-]+/.exec(this.text.slice(this.position));
    if (name === null) throw new Error(`unexpected ${JSON.stringify(character)} at ${this.position}`);
    this.position += name[0].length;
    return { kind: "rule", name: name[0] };
  }

  private quantified(element: Element): Item {
    const quantifier = /^(\*|\+|\?|\{(\d+)(,(\d*))?\})/.exec(this.text.slice(this.position));
    if (quantifier === null) return { element, min: 1, max: 1 };
    this.position += quantifier[0].length;
    if (quantifier[1] === "*") return { element, min: 0, max: Infinity };
    if (quantifier[1] === "+") return { element, min: 1, max: Infinity };
    if (quantifier[1] === "?") return { element, min: 0, max: 1 };
    const min = Number(quantifier[2]);
    const max = quantifier[3] === undefined ? min : quantifier[4] === "" ? Infinity : Number(quantifier[4]);
    return { element, min, max };
  }
}

function parseRules(grammar: string): Map<string, Sequence[]> {
  const rules = new Map<string, Sequence[]>();
  for (const line of grammar.replace(/\[\n\]\*/g, "").split(/\n(?=[a-zA-Z0-9_-]+ ::= )/)) {
    const match = /^([a-zA-Z0-9_-]+) ::= ([\s\S]*)$/.exec(line.trim());
    if (match !== null) rules.set(match[1] as string, new GrammarParser(match[2] as string).alternatives());
  }
  return rules;
}

/** Whether the grammar's `root` admits exactly `text` (the converter's trailing newlines aside). */
export function gbnfAccepts(grammar: string, text: string): boolean {
  const rules = parseRules(grammar);
  const memo = new Map<string, Set<number>>();
  const ends = (element: Element, start: number): Set<number> => {
    switch (element.kind) {
      case "literal":
        return text.startsWith(element.text, start) ? new Set([start + element.text.length]) : new Set();
      case "class": {
        const code = text.charCodeAt(start);
        if (Number.isNaN(code)) return new Set();
        const inside = element.ranges.some(([from, to]) => from <= code && code <= to);
        return inside !== element.negated ? new Set([start + 1]) : new Set();
      }
      case "rule": {
        const key = `${element.name}@${start}`;
        const known = memo.get(key);
        if (known !== undefined) return known;
        memo.set(key, new Set());
        const body = rules.get(element.name);
        if (body === undefined) throw new Error(`undefined rule ${element.name}`);
        const result = alternativesEnds(body, start);
        memo.set(key, result);
        return result;
      }
      case "group":
        return alternativesEnds(element.alternatives, start);
    }
  };
  const alternativesEnds = (alternatives: Sequence[], start: number): Set<number> => {
    const result = new Set<number>();
    for (const sequence of alternatives) {
      let positions = new Set([start]);
      for (const item of sequence) positions = itemEnds(item, positions);
      for (const position of positions) result.add(position);
    }
    return result;
  };
  const itemEnds = (item: Item, starts: Set<number>): Set<number> => {
    const result = new Set<number>(item.min === 0 ? starts : []);
    let frontier = starts;
    for (let count = 1; count <= item.max && frontier.size > 0; count++) {
      const next = new Set<number>();
      for (const position of frontier)
        for (const end of ends(item.element, position)) if (end > position || item.max !== Infinity) next.add(end);
      if (count >= item.min) for (const position of next) result.add(position);
      frontier = next;
    }
    return result;
  };
  return ends({ kind: "rule", name: "root" }, 0).has(text.length);
}

/**
 * A random string the grammar's `root` derives: alternatives and repeat counts drawn with
 * `random` (repeats at most 3 beyond their minimum); past a depth of 12 rules, the shortest
 * alternatives are taken so every derivation ends.
 */
export function gbnfSample(grammar: string, random: () => number): string {
  const rules = parseRules(grammar);
  // Shortest derivation length of each rule (a fixpoint, as for termination).
  const shortest = new Map<string, number>();
  const elementLength = (element: Element): number => {
    if (element.kind === "literal") return element.text.length;
    if (element.kind === "class") return 1;
    if (element.kind === "rule") return shortest.get(element.name) ?? Infinity;
    return Math.min(...element.alternatives.map(sequenceLength));
  };
  const sequenceLength = (sequence: Sequence): number =>
    sequence.reduce((total, item) => total + (item.min === 0 ? 0 : item.min * elementLength(item.element)), 0);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, alternatives] of rules) {
      const length = Math.min(...alternatives.map(sequenceLength));
      if (length < (shortest.get(name) ?? Infinity)) {
        shortest.set(name, length);
        changed = true;
      }
    }
  }
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  const classChar = (element: Extract<Element, { kind: "class" }>): string => {
    const codes: number[] = [];
    for (let code = 0x20; code <= 0x7e; code++) {
      const inside = element.ranges.some(([from, to]) => from <= code && code <= to);
      if (inside !== element.negated) codes.push(code);
    }
    if (!element.negated) for (const [from, to] of element.ranges) if (from < 0x20 || to > 0x7e) codes.push(from);
    return String.fromCharCode(pick(codes));
  };
  const expand = (element: Element, depth: number): string => {
    switch (element.kind) {
      case "literal":
        return element.text;
      case "class":
        return classChar(element);
      case "rule":
        return choose(rules.get(element.name) ?? [], depth + 1);
      case "group":
        return choose(element.alternatives, depth);
    }
  };
  const choose = (alternatives: Sequence[], depth: number): string => {
    const finite = alternatives.filter((sequence) => sequenceLength(sequence) < Infinity);
    const sequence =
      depth > 12 ? finite.reduce((a, b) => (sequenceLength(b) < sequenceLength(a) ? b : a)) : pick(finite);
    return sequence
      .map((item) => {
        const spare = depth > 12 ? 0 : Math.floor(random() * 4);
        const count = Math.min(item.max, item.min + spare);
        return Array.from({ length: count }, () => expand(item.element, depth)).join("");
      })
      .join("");
  };
  return choose(rules.get("root") ?? [], 0);
}
