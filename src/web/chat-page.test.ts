import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { registerErrorHandling } from "../observability/http/index.js";
import { loadChatPageAssets, registerChatPage } from "./index.js";

describe("chat page assets", () => {
  it("loads the committed assets with a content version substituted into the page", async () => {
    const assets = await loadChatPageAssets();
    expect(assets.version).toMatch(/^[0-9a-f]{12}$/);
    const page = assets.page.body.toString("utf8");
    expect(page).not.toContain("__ASSETS_VERSION__");
    expect(page).toContain(`/assets/${assets.version}/app.js`);
    expect(assets.files.get("app.js")?.contentType).toBe("text/javascript; charset=utf-8");
    expect(assets.files.get("style.css")?.contentType).toBe("text/css; charset=utf-8");
    expect(assets.files.has("index.html")).toBe(false);
  });

  it("fails with a configuration error naming the folder when the assets are missing", async () => {
    const directory = await mkdtemp(join(tmpdir(), "llm-twin-web-"));
    try {
      await writeFile(join(directory, "app.js"), "export {};\n");
      await expect(loadChatPageAssets(directory)).rejects.toMatchObject({ code: "configuration_error" });
      await expect(loadChatPageAssets(join(directory, "absent"))).rejects.toMatchObject({
        code: "configuration_error",
        message: expect.stringContaining("absent"),
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("chat page routes", () => {
  async function app(listAuthors?: () => Promise<{ id: string; fullName: string }[]>) {
    const instance = Fastify();
    registerErrorHandling(instance);
    await instance.register(registerChatPage, listAuthors === undefined ? {} : { listAuthors });
    return instance;
  }

  it("serves the page and its versioned assets with caching headers and conditional requests", async () => {
    const instance = await app();
    const page = await instance.inject({ url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(String(page.headers["content-security-policy"])).toContain("script-src 'self'");
    const script = page.body.match(/\/assets\/[0-9a-f]{12}\/app\.js/)?.[0] ?? "";
    const asset = await instance.inject({ url: script });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    const again = await instance.inject({ url: script, headers: { "if-none-match": String(asset.headers.etag) } });
    expect(again.statusCode).toBe(304);
    const stale = await instance.inject({ url: "/assets/000000000000/app.js" });
    expect(stale.statusCode).toBe(200);
    expect(stale.headers["cache-control"]).toBe("no-cache");
    expect((await instance.inject({ url: "/assets/x/missing.js" })).statusCode).toBe(404);
    expect((await instance.inject({ url: "/assets/x/index.html" })).statusCode).toBe(404);
    expect((await instance.inject({ url: "/authors" })).statusCode).toBe(404);
    await instance.close();
  });

  it("lists the store's authors as {id, fullName}, sorted by name", async () => {
    const instance = await app(async () => [
      { id: "b", fullName: "Paul Iusztin" },
      { id: "a", fullName: "Maxime Labonne" },
    ]);
    const response = await instance.inject({ url: "/authors" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([
      { id: "a", fullName: "Maxime Labonne" },
      { id: "b", fullName: "Paul Iusztin" },
    ]);
    await instance.close();
  });
});
