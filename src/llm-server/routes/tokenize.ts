/**
 * llama-server's tokenizer routes: POST /tokenize `{content, add_special?, parse_special?,
 * with_pieces?}` → `{tokens}` (ids, or `{id, piece}` with `with_pieces`), and POST /detokenize
 * `{tokens}` → `{content}`. Ids outside the vocabulary are 422. POST /tokenize also takes TGI's
 * body (`{inputs, parameters?}`) and then answers TGI's token list (tgi-tokenize.ts).
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import type { ModelHolder } from "../model-holder.js";
import { bodyHasField, parseBody } from "../request-parsing.js";
import { parseTgiRequest, tgiRequestSchema } from "../schemas-tgi.js";
import { tgiTokenize } from "./tgi-tokenize.js";

export const tokenizeRequestSchema = z.strictObject({
  content: z.string(),
  add_special: z.boolean().nullish(),
  parse_special: z.boolean().nullish(),
  with_pieces: z.boolean().nullish(),
});

export const detokenizeRequestSchema = z.strictObject({
  tokens: z.array(z.int().nonnegative()),
});

export function registerTokenizeRoutes(app: FastifyInstance, options: { holder: ModelHolder }): void {
  const { holder } = options;
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ["Tokenizer"];
  typed.post(
    "/tokenize",
    {
      schema: {
        tags,
        summary: "Text → token ids (llama-server's shape, or TGI's with a TGI body)",
        body: z.union([tokenizeRequestSchema, tgiRequestSchema]),
      },
      // Either body shape: validated by the handler's parsers.
      validatorCompiler: () => () => true,
    },
    async (request) => {
      const engine = holder.require();
      if (bodyHasField(request.body, "inputs")) return tgiTokenize(engine, parseTgiRequest(request.body).inputs);
      const body = parseBody(tokenizeRequestSchema, request.body);
      const tokens = engine.tokenize(body.content, {
        addSpecial: body.add_special === true,
        parseSpecial: body.parse_special !== false,
      });
      if (body.with_pieces !== true) return { tokens };
      const pieces = engine.pieces(tokens);
      return { tokens: tokens.map((id, index) => ({ id, piece: pieces[index] ?? "" })) };
    },
  );
  typed.post(
    "/detokenize",
    {
      schema: {
        tags,
        summary: "Token ids → text (llama-server's shape)",
        body: detokenizeRequestSchema,
      },
    },
    async (request) => {
      const engine = holder.require();
      const body = parseBody(detokenizeRequestSchema, request.body);
      const size = engine.info.vocabularySize;
      const outside = size === undefined ? undefined : body.tokens.find((token) => token >= size);
      if (outside !== undefined) {
        throw new AppError(
          "validation_error",
          `Input validation error: token id ${outside} is not in the vocabulary (size ${size})`,
        );
      }
      return { content: engine.detokenize(body.tokens, true) };
    },
  );
}
