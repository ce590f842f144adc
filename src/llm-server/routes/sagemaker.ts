/**
 * SageMaker's inference container contract, as the Hugging Face TGI container implements it:
 * GET /ping (200 once the model serves), POST /invocations with TGI's payload
 * (`{"inputs", "parameters", "stream"}`) answering `[{"generated_text": ...}]`, or TGI's SSE
 * stream when `stream` is true (InvokeEndpointWithResponseStream).
 */
import type { FastifyInstance } from "fastify";
import type { ModelHolder } from "../model-holder.js";
import { parseTgiRequest } from "../schemas-tgi.js";
import { generateTgi, streamTgi } from "./tgi.js";

export function registerSageMakerRoutes(app: FastifyInstance, options: { holder: ModelHolder }): void {
  const { holder } = options;
  app.get("/ping", async (_request, reply) => {
    holder.require();
    return reply.code(200).send();
  });
  app.post("/invocations", async (request, reply) => {
    const engine = holder.require();
    const parsed = parseTgiRequest(request.body);
    if (parsed.stream) {
      await streamTgi(engine, parsed, request, reply);
      return reply;
    }
    return reply.send([await generateTgi(engine, parsed, request, reply)]);
  });
}
