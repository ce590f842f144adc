/**
 * Shared request parsing: zod validation whose failures become one 422 message naming each field,
 * and `logit_bias` in the shapes clients send (OpenAI's object, llama-server's pair list).
 */
import { z } from "zod";
import { AppError } from "../errors/index.js";

export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  if (body === undefined || body === null) {
    throw new AppError("validation_error", "Input validation error: the request body is empty");
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new AppError("validation_error", validationMessage(result.error.issues), {
    details: paramDetails(result.error.issues),
  });
}

/** Whether a JSON body is an object with this field (routes that take several body shapes). */
export function bodyHasField(body: unknown, field: string): boolean {
  return typeof body === "object" && body !== null && !Array.isArray(body) && field in body;
}

/** `{param}`: the first field at fault (OpenAI's `error.param`), dotted; none for the body itself. */
export function paramDetails(issues: readonly ValidationIssue[]): { param?: string } {
  const first = issues[0];
  if (first === undefined) return {};
  const key = first.code === "unrecognized_keys" ? first.keys?.[0] : undefined;
  const path = [...first.path.map(String), ...(key === undefined ? [] : [key])];
  return path.length === 0 ? {} : { param: path.join(".") };
}

/** What a validation problem looks like here, from zod directly or through the route's schema. */
export type ValidationIssue = {
  path: readonly PropertyKey[];
  code: string;
  message: string;
  keys?: readonly string[];
  /** invalid_union: each alternative's issues, their paths relative to the union's. */
  errors?: readonly (readonly ValidationIssue[])[];
  /** invalid_value: the values allowed. */
  values?: readonly unknown[];
  /** invalid_type: the type expected. */
  expected?: string;
};

/** One 422 message naming each field (and each unknown parameter), the same for both paths. */
export function validationMessage(issues: readonly ValidationIssue[]): string {
  const problems = issues
    .flatMap((issue) => resolveUnion(issue, []))
    .map((issue) => {
      const path = issue.path.map(String);
      const field = path.length > 0 ? `\`${path.join(".")}\`` : "body";
      if (issue.code === "unrecognized_keys" && issue.keys !== undefined) {
        return `unknown parameter(s) ${issue.keys.map((key) => `\`${[...path, key].join(".")}\``).join(", ")}`;
      }
      return `${field}: ${issue.message}`;
    });
  return `Input validation error: ${problems.join("; ")}`;
}

/** An alternative the value does not even have the shape of: wrong type, or another literal (`type`). */
function isShapeMismatch(issue: ValidationIssue): boolean {
  return (
    (issue.code === "invalid_type" && issue.path.length === 0) ||
    (issue.code === "invalid_value" && issue.path.length <= 1)
  );
}

/**
 * zod reports a field with alternatives (`stop`: a string or a list; `response_format`: one of
 * three objects) as "Invalid input". Instead: the problems of the alternative whose shape the value
 * has, or, when it has none's, what the alternatives expect.
 */
function resolveUnion(issue: ValidationIssue, prefix: readonly PropertyKey[]): ValidationIssue[] {
  const path = [...prefix, ...issue.path];
  const branches = issue.code === "invalid_union" ? (issue.errors ?? []) : [];
  if (branches.length === 0) return [{ ...issue, path }];
  const shaped = branches.find((branch) => branch.length > 0 && !branch.some(isShapeMismatch));
  if (shaped !== undefined) return shaped.flatMap((inner) => resolveUnion(inner, path));
  // None fits: what the alternatives expect, at the deepest place one of them got to.
  const mismatches = branches.flatMap((branch) => branch.filter(isShapeMismatch));
  const depth = Math.max(...mismatches.map((inner) => inner.path.length));
  const deepest = mismatches.filter((inner) => inner.path.length === depth);
  const values = [...new Set(deepest.flatMap((inner) => (inner.values ?? []).map((value) => JSON.stringify(value))))];
  const types = [...new Set(deepest.flatMap((inner) => (inner.expected === undefined ? [] : [inner.expected])))];
  const received = deepest.map((inner) => /received (\w+)/.exec(inner.message)?.[1]).find((word) => word !== undefined);
  const parts = [
    ...(values.length === 0 ? [] : [values.length === 1 ? values[0] : `one of ${values.join(", ")}`]),
    ...types,
  ];
  const message = `expected ${parts.join(" or ")}${received === undefined ? "" : `, received ${received}`}`;
  return [{ path: [...path, ...(deepest[0]?.path ?? [])], code: "invalid_union", message }];
}

export const logitBiasSchema = z.union([
  z.record(z.string().regex(/^\d+$/, "token ids must be integers"), z.number()),
  z.array(z.tuple([z.int().nonnegative(), z.union([z.number(), z.literal(false)])])),
]);

/** Token id → logit bias; `false` (llama-server) and -100 or less (OpenAI) ban the token. */
export function normalizeLogitBias(
  bias: z.output<typeof logitBiasSchema> | null | undefined,
): Record<number, number> | undefined {
  if (bias === undefined || bias === null) return undefined;
  const result: Record<number, number> = {};
  if (Array.isArray(bias)) {
    for (const [token, value] of bias) result[token] = value === false ? Number.NEGATIVE_INFINITY : value;
  } else {
    for (const [token, value] of Object.entries(bias)) result[Number(token)] = value;
  }
  return result;
}

/** `stop` as a string or a list of strings. */
export const stopSchema = z.union([z.string(), z.array(z.string()).max(16)]);

export function normalizeStop(stop: z.output<typeof stopSchema> | null | undefined): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  return typeof stop === "string" ? [stop] : stop;
}

export function unsupported(field: string, detail: string): AppError {
  return new AppError("validation_error", `Input validation error: \`${field}\` ${detail}`, {
    details: { param: field },
  });
}

/**
 * Objects and arrays nested at most this deep in a JSON schema (grammar, response_format, tools):
 * the schema converter and llama.cpp's grammar parser recurse, and 20,000 levels overflowed the
 * stack (a 500). Real schemas nest a few levels; like the 128 tools and 16 stop sequences, a fixed
 * bound of the API.
 */
export const MAX_SCHEMA_DEPTH = 128;

/** 422 when `value` nests objects/arrays deeper than MAX_SCHEMA_DEPTH (checked without recursion). */
export function assertSchemaDepth(value: unknown, field: string): void {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [current, depth] = next;
    if (current === null || typeof current !== "object") continue;
    if (depth > MAX_SCHEMA_DEPTH) throw unsupported(field, `is nested deeper than ${MAX_SCHEMA_DEPTH} levels`);
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
}
