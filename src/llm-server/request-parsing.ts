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
  throw new AppError("validation_error", validationMessage(result.error.issues));
}

/** What a validation problem looks like here, from zod directly or through the route's schema. */
export type ValidationIssue = { path: readonly PropertyKey[]; code: string; message: string; keys?: readonly string[] };

/** One 422 message naming each field (and each unknown parameter), the same for both paths. */
export function validationMessage(issues: readonly ValidationIssue[]): string {
  const problems = issues.map((issue) => {
    const path = issue.path.map(String);
    const field = path.length > 0 ? `\`${path.join(".")}\`` : "body";
    if (issue.code === "unrecognized_keys" && issue.keys !== undefined) {
      return `unknown parameter(s) ${issue.keys.map((key) => `\`${[...path, key].join(".")}\``).join(", ")}`;
    }
    return `${field}: ${issue.message}`;
  });
  return `Input validation error: ${problems.join("; ")}`;
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
  return new AppError("validation_error", `Input validation error: \`${field}\` ${detail}`);
}
