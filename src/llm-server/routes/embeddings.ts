/**
 * OpenAI's POST /v1/embeddings, served when serve-llm has an embedding model (--embedding-model):
 * `input` as a string, a list of strings, a token-id list or a list of them; `encoding_format`
 * float (default) or base64 (little-endian float32, as OpenAI's); `dimensions` only if it is the
 * model's own size (no truncation); `usage` counts input tokens. Vectors are unit length.
 * Limits: inputs per request (--embedding-max-inputs) and tokens per input
 * (--embedding-max-input-tokens), both 422 beyond.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import { clientDisconnectSignal } from "../client-connection.js";
import type { EmbeddingHolder } from "../embedding-holder.js";
import { parseBody, unsupported } from "../request-parsing.js";

const tokenId = z.int().nonnegative();

export const embeddingsRequestSchema = z.strictObject({
  input: z.union([
    z.string(),
    z.array(z.string()).min(1, "cannot be an empty list"),
    z.array(tokenId).min(1, "cannot be an empty list"),
    z.array(z.array(tokenId)).min(1, "cannot be an empty list"),
  ]),
  model: z.string().nullish(),
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: z.int().positive().nullish(),
  user: z.string().nullish(),
});

type EmbeddingsRequest = z.output<typeof embeddingsRequestSchema>;

/** Texts or token lists, whichever shape `input` has. */
function inputsOf(input: EmbeddingsRequest["input"]): { texts: string[] } | { tokens: number[][] } {
  if (typeof input === "string") return { texts: [input] };
  if (input.every((item) => typeof item === "string")) return { texts: input as string[] };
  if (input.every((item) => typeof item === "number")) return { tokens: [input as number[]] };
  return { tokens: input as number[][] };
}

/** OpenAI's base64 encoding: the float32 values, little-endian, base64. */
export function vectorToBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [index, value] of vector.entries()) bytes.writeFloatLE(value, index * 4);
  return bytes.toString("base64");
}

export function registerEmbeddingsRoute(app: FastifyInstance, options: { embeddings: EmbeddingHolder }): void {
  const { embeddings } = options;
  app.withTypeProvider<ZodTypeProvider>().post(
    "/v1/embeddings",
    {
      schema: {
        tags: ["OpenAI"],
        summary: "Embeddings of texts or token lists (needs --embedding-model)",
        body: embeddingsRequestSchema,
      },
    },
    async (request, reply) => {
      const served = embeddings.require();
      const body = parseBody(embeddingsRequestSchema, request.body);
      const { embedder } = served;
      if (body.dimensions != null && body.dimensions !== embedder.dimensions) {
        throw unsupported(
          "dimensions",
          `must be the model's own size, ${embedder.dimensions} (vectors are not truncated). Given: ${body.dimensions}`,
        );
      }
      const inputs = inputsOf(body.input);
      const count = "texts" in inputs ? inputs.texts.length : inputs.tokens.length;
      if (count > served.maxInputs) {
        throw new AppError(
          "validation_error",
          `Input validation error: \`input\` has ${count} items; at most ${served.maxInputs} per request (serve-llm --embedding-max-inputs, LLM_TWIN_EMBEDDING_MAX_INPUTS)`,
          { details: { param: "input" } },
        );
      }
      const signal = clientDisconnectSignal(request, reply);
      let promptTokens = 0;
      let vectors: Float32Array[];
      if ("texts" in inputs) {
        for (const text of inputs.texts) promptTokens += embedder.countTokens(text);
        vectors = await embedder.embed(inputs.texts, { signal });
      } else {
        for (const tokens of inputs.tokens) promptTokens += tokens.length;
        vectors = await embedder.embedTokens(inputs.tokens, { signal });
      }
      const base64 = body.encoding_format === "base64";
      return reply.send({
        object: "list",
        data: vectors.map((vector, index) => ({
          object: "embedding",
          index,
          embedding: base64 ? vectorToBase64(vector) : Array.from(vector),
        })),
        model: served.name,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      });
    },
  );
}
