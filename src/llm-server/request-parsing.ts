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
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? `\`${issue.path.join(".")}\`` : "body";
    if (issue.code === "unrecognized_keys") {
      return `unknown parameter(s) ${issue.keys.map((key) => `\`${[...issue.path, key].join(".")}\``).join(", ")}`;
    }
    return `${field}: ${issue.message}`;
  });
  throw new AppError("validation_error", `Input validation error: ${problems.join("; ")}`);
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
