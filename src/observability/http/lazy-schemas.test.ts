import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { lazySchemaController } from "./lazy-schemas.js";

const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** The same routes, with Fastify's eager compilers (`lazy: false`) or the lazy ones. */
async function build(lazy: boolean, options: { strict?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(lazy ? { schemaController: lazySchemaController() } : {}),
    ...(options.strict ? { ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } } : {}),
  });
  apps.push(app);
  app.post(
    "/echo",
    {
      schema: {
        body: {
          type: "object",
          required: ["text"],
          properties: { text: { type: "string", maxLength: 5 }, count: { type: "integer", default: 1 } },
        },
        response: { 200: { type: "object", properties: { text: { type: "string" }, count: { type: "integer" } } } },
      },
    },
    async (request) => ({ ...(request.body as object), secret: "dropped by the serializer" }),
  );
  app.get(
    "/items/:id",
    {
      schema: {
        params: { type: "object", properties: { id: { type: "integer" } } },
        querystring: { type: "object", properties: { tags: { type: "array", items: { type: "string" } } } },
      },
    },
    async (request) => ({ params: request.params, query: request.query }),
  );
  await app.ready();
  return app;
}

const REQUESTS = [
  { method: "POST", url: "/echo", payload: { text: "hello" } },
  { method: "POST", url: "/echo", payload: { text: "hello", count: 3, extra: true } },
  { method: "POST", url: "/echo", payload: { text: "far too long" } },
  { method: "POST", url: "/echo", payload: { count: 2 } },
  { method: "POST", url: "/echo", payload: { text: "ok", count: "7" } },
  { method: "GET", url: "/items/42?tags=a" },
  { method: "GET", url: "/items/42?tags=a&tags=b" },
  { method: "GET", url: "/items/forty-two" },
] as const;

describe("lazySchemaController", () => {
  for (const strict of [false, true]) {
    it(`validates, coerces and serializes as Fastify's own compilers do (${strict ? "strict" : "default"} ajv options)`, async () => {
      const [eager, lazy] = await Promise.all([build(false, { strict }), build(true, { strict })]);
      for (const request of REQUESTS) {
        const [expected, actual] = await Promise.all([eager.inject(request), lazy.inject(request)]);
        expect({ request, status: actual.statusCode, body: actual.json() }).toEqual({
          request,
          status: expected.statusCode,
          body: expected.json(),
        });
      }
      // The cases above cover both outcomes.
      const statuses = await Promise.all(REQUESTS.map((request) => lazy.inject(request).then((r) => r.statusCode)));
      expect(new Set(statuses)).toEqual(new Set([200, 400]));
    });
  }

  it("compiles a route's schema when a request first needs it, not when the app starts", async () => {
    const app = Fastify({ schemaController: lazySchemaController() });
    apps.push(app);
    // A reference to a schema nobody added: Fastify's eager compilers fail at ready().
    app.post("/broken", { schema: { body: { $ref: "missing#" } } }, async () => ({}));
    await expect(app.ready()).resolves.toBeDefined();
    const response = await app.inject({ method: "POST", url: "/broken", payload: {} });
    expect(response.statusCode).toBe(500);
  });

  it("refuses a headers schema when the app starts (Fastify would no longer lower-case its names)", async () => {
    const app = Fastify({ schemaController: lazySchemaController() });
    apps.push(app);
    app.get(
      "/h",
      { schema: { headers: { type: "object", properties: { "X-Key": { type: "string" } } } } },
      async () => ({}),
    );
    await expect(app.ready()).rejects.toThrow(/headers schema is not supported/);
  });
});
