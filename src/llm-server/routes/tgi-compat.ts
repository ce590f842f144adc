/**
 * TGI's compatibility route: POST / takes `{inputs, parameters, stream?}` and answers like
 * /generate wrapped in a list (`[{"generated_text": ...}]`, as TGI does for the Inference API),
 * or like /generate_stream when `stream` is true.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { ModelHolder } from "../model-holder.js";
import { parseTgiRequest, tgiRequestSchema } from "../schemas-tgi.js";
import { generateTgi, streamTgi } from "./tgi.js";

export function registerTgiCompatRoute(app: FastifyInstance, options: { holder: ModelHolder }): void {
  const { holder } = options;
  app.withTypeProvider<ZodTypeProvider>().post(
    "/",
    {
      schema: {
        tags: ["TGI"],
        summary: "Generate text: as /generate (answer in a list), or as /generate_stream when `stream` is true",
        body: tgiRequestSchema,
      },
    },
    async (request, reply) => {
      const engine = holder.require();
      const parsed = parseTgiRequest(request.body);
      if (parsed.stream) {
        await streamTgi(engine, parsed, request, reply);
        return reply;
      }
      return reply.send([await generateTgi(engine, parsed, request, reply)]);
    },
  );
}
