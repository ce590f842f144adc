/**
 * Building the RAG app the first time loads, on the spot, what Fastify and its plugins require only
 * when used: the JSON-schema compiler (ajv, ~270 modules), the OpenAPI plugin's YAML support
 * (~230), pino, the static file server of /docs. `serve` builds a throwaway app of the same kind
 * while its model loads on llama.cpp's threads, so that the real build, which needs the model,
 * finds them loaded (docs/benchmarks.md, start-up). Nothing listens; the app is closed at once.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify from "fastify";
import { edgeLoggerOptions } from "../../observability/http/index.js";

const SCHEMA = { type: "object", properties: { text: { type: "string" } } } as const;

export async function warmUpRagApp(): Promise<void> {
  const app = Fastify({
    logger: edgeLoggerOptions("silent"),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  try {
    await app.register(swagger, { openapi: { info: { title: "warm-up", version: "0" } } });
    await app.register(swaggerUi, { routePrefix: "/docs" });
    app.post("/", { schema: { body: SCHEMA, response: { 200: SCHEMA } } }, async () => ({ text: "" }));
    await app.ready();
  } finally {
    await app.close();
  }
}
