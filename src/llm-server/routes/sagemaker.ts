/**
 * SageMaker's inference container contract, as the Hugging Face TGI container implements it:
 * GET /ping (200 once the model serves), POST /invocations with TGI's payload
 * (`{"inputs", "parameters", "stream"}`) answering `[{"generated_text": ...}]`, or TGI's SSE
 * stream when `stream` is true (InvokeEndpointWithResponseStream). Like TGI's container, a body with
 * `messages` is an OpenAI chat request and gets the chat completion answer, and one with `prompt`
 * (and no `inputs`) an OpenAI completions request.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ModelHolder } from "../model-holder.js";
import { bodyHasField } from "../request-parsing.js";
import { chatRequestSchema, completionRequestSchema } from "../schemas-openai.js";
import { parseTgiRequest, tgiRequestSchema } from "../schemas-tgi.js";
import { respondToChat, respondToCompletion } from "./openai.js";
import { generateTgi, streamTgi } from "./tgi.js";

export function registerSageMakerRoutes(app: FastifyInstance, options: { holder: ModelHolder }): void {
  const { holder } = options;
  const tags = ["SageMaker"];
  app.get(
    "/ping",
    { config: { public: true }, schema: { tags, summary: "200 once the model serves" } },
    async (_request, reply) => {
      holder.require();
      return reply.code(200).send();
    },
  );
  // Any of the three body shapes (TGI's, OpenAI chat with `messages`, OpenAI completions with
  // `prompt`): validated by the handler's parsers.
  app.post(
    "/invocations",
    {
      schema: {
        tags,
        summary: "TGI payload (with `stream`), an OpenAI chat body or an OpenAI completions body",
        body: z.union([tgiRequestSchema, chatRequestSchema, completionRequestSchema]),
      },
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const engine = holder.require();
      if (bodyHasField(request.body, "messages")) return respondToChat(engine, request.body, request, reply);
      if (bodyHasField(request.body, "prompt") && !bodyHasField(request.body, "inputs")) {
        return respondToCompletion(engine, request.body, request, reply);
      }
      const parsed = parseTgiRequest(request.body);
      if (parsed.stream) {
        await streamTgi(engine, parsed, request, reply);
        return reply;
      }
      return reply.send([await generateTgi(engine, parsed, request, reply)]);
    },
  );
}
