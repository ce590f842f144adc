/**
 * The chat page plugin: `/` (the page), `/assets/<version>/<file>` (its scripts and styles, read
 * once when the app is built) and `GET /authors` (the authors in the store, for the selector).
 * The page and its assets are public; `/authors` is an API route (it needs the key when keys are
 * configured, like `/rag`).
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Author } from "../domain/index.js";
import { AppError } from "../errors/index.js";
import { type ChatPageAssets, loadChatPageAssets } from "./assets.js";

export type ChatPageOptions = {
  /** The store's authors; without it `GET /authors` is not registered (the page then offers "any author"). */
  listAuthors?: (signal: AbortSignal) => Promise<Author[]>;
  /** Where the assets are (default: found beside this module, or under src/web/assets). */
  assetsDirectory?: string;
};

/** Only same-origin scripts, styles and requests; the page needs nothing else. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const authorsSchema = {
  summary: "The authors in the store (for the chat page's author selector)",
  tags: ["rag"],
  response: {
    200: {
      type: "array",
      items: {
        type: "object",
        required: ["id", "fullName"],
        properties: { id: { type: "string" }, fullName: { type: "string" } },
      },
    },
  },
} as const;

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply.header("x-content-type-options", "nosniff").header("referrer-policy", "no-referrer");
}

function registerAssetRoutes(app: FastifyInstance, assets: ChatPageAssets): void {
  app.get("/", { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    securityHeaders(reply)
      .header("content-security-policy", CONTENT_SECURITY_POLICY)
      .header("cache-control", "no-cache")
      .header("etag", assets.page.etag);
    if (request.headers["if-none-match"] === assets.page.etag) return reply.status(304).send();
    return reply.type(assets.page.contentType).send(assets.page.body);
  });

  app.get<{ Params: { version: string; file: string } }>(
    "/assets/:version/:file",
    { config: { public: true }, schema: { hide: true } },
    async (request, reply) => {
      const asset = assets.files.get(request.params.file);
      if (asset === undefined) throw new AppError("not_found", `no asset '${request.params.file}'`);
      // Versioned URLs never change content: cache them for good. An old version still gets the
      // current file, but briefly cached, so a page that outlives a deploy keeps working.
      const current = request.params.version === assets.version;
      securityHeaders(reply)
        .header("cache-control", current ? "public, max-age=31536000, immutable" : "no-cache")
        .header("etag", asset.etag);
      if (request.headers["if-none-match"] === asset.etag) return reply.status(304).send();
      return reply.type(asset.contentType).send(asset.body);
    },
  );
}

export async function registerChatPage(app: FastifyInstance, options: ChatPageOptions = {}): Promise<void> {
  const assets = await loadChatPageAssets(options.assetsDirectory);
  registerAssetRoutes(app, assets);

  const listAuthors = options.listAuthors;
  if (listAuthors !== undefined) {
    app.get("/authors", { schema: authorsSchema }, async (request) => {
      const controller = new AbortController();
      request.raw.once("close", () => controller.abort());
      const authors = await listAuthors(controller.signal);
      return authors
        .map((author) => ({ id: author.id, fullName: author.fullName }))
        .sort((left, right) => left.fullName.localeCompare(right.fullName));
    });
  }
}
