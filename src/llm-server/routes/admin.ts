/**
 * POST /admin/reload: re-resolves the registry references the service was started with and swaps
 * in what changed (src/llm-server/reload.ts). Behind the API keys; with none configured it is
 * refused (anyone reaching the port could otherwise make the service load models).
 */
import type { FastifyInstance } from "fastify";
import { AppError } from "../../errors/index.js";
import type { ReloadResult } from "../reload.js";

export type AdminRouteOptions = {
  apiKeys: readonly string[];
  reload: () => Promise<ReloadResult | unknown>;
  /** How the command names its API-key setting, for the refusal message. */
  apiKeysSetting?: string;
};

export function registerAdminRoutes(app: FastifyInstance, options: AdminRouteOptions): void {
  const setting = options.apiKeysSetting ?? "--api-keys <key> (or LLM_TWIN_API_KEYS)";
  app.post(
    "/admin/reload",
    {
      schema: {
        tags: ["Admin"],
        summary: "Re-resolve the registry references; promoted versions serve without a restart",
      },
    },
    async () => {
      if (options.apiKeys.length === 0)
        throw new AppError(
          "forbidden",
          `POST /admin/reload needs API keys: restart with ${setting} and call it with 'Authorization: Bearer <key>'`,
        );
      return options.reload();
    },
  );
}
