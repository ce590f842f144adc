/**
 * The chat page served by the RAG service at `/` (issue 6 replaces this placeholder with the real
 * page). Routes registered here are public (no API key) through `config: { public: true }`; the
 * page itself calls the API routes, which do need the key when keys are configured.
 */
import type { FastifyInstance } from "fastify";

const PLACEHOLDER = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>LLM Twin</title></head>
<body>
<h1>LLM Twin</h1>
<p>The chat page is not built yet. The API is up: see <a href="/docs">/docs</a>, or
<code>curl -X POST localhost:3000/rag -H 'content-type: application/json' -d '{"query":"..."}'</code>.</p>
</body>
</html>
`;

export async function registerChatPage(app: FastifyInstance): Promise<void> {
  app.get("/", { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    return reply.type("text/html; charset=utf-8").send(PLACEHOLDER);
  });
}
