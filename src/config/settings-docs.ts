/**
 * The settings tables in docs/, generated from the registry between markers:
 *   <!-- settings: eval-retrieval -->  …table…  <!-- /settings -->
 * `npm run docs:settings` rewrites them; test/docs/settings-tables.test.ts fails when one differs.
 */
import { type Setting, settingsTable } from "./settings.js";

export type SettingsDocTable = { name: string; doc: string; settings: () => Promise<readonly Setting[]> };

/** Every generated table: which doc holds it and which settings fill it. */
export const SETTINGS_DOC_TABLES: readonly SettingsDocTable[] = [
  {
    name: "eval-retrieval",
    doc: "docs/evaluation.md",
    settings: async () => (await import("../cli/commands/eval.js")).EVAL_RETRIEVAL_SETTINGS,
  },
  {
    name: "rag-service",
    doc: "docs/rag-service.md",
    settings: async () => (await import("../rag/service/options.js")).RAG_SERVICE_OPTIONS,
  },
  {
    name: "serve-rag",
    doc: "docs/rag-service.md",
    settings: async () => (await import("../cli/commands/serve-rag.js")).SERVE_RAG_SETTINGS,
  },
  {
    name: "serve",
    doc: "docs/rag-service.md",
    settings: async () => {
      const { SERVE_SETTINGS, SERVE_SWITCHES } = await import("../cli/commands/serve.js");
      return [...SERVE_SETTINGS, ...SERVE_SWITCHES];
    },
  },
  {
    name: "serve-llm",
    doc: "docs/llm-service.md",
    settings: async () => (await import("../llm-server/settings.js")).SERVE_LLM_SETTINGS,
  },
  {
    name: "deploy-sagemaker",
    doc: "docs/deploy-sagemaker.md",
    settings: async () => (await import("../deploy/sagemaker/options.js")).DEPLOY_OPTIONS,
  },
  {
    name: "ingest",
    doc: "docs/ingestion.md",
    settings: async () => (await import("../cli/commands/ingest-settings.js")).INGEST_SETTINGS,
  },
  {
    name: "traces",
    doc: "docs/rag-service.md",
    settings: async () => (await import("../cli/commands/traces.js")).TRACES_SETTINGS,
  },
  {
    name: "worker",
    doc: "docs/deploy.md",
    settings: async () => (await import("../cli/commands/worker.js")).WORKER_SETTINGS,
  },
  {
    name: "dataset-instruct",
    doc: "docs/datasets.md",
    settings: async () => (await import("../cli/commands/dataset-settings.js")).INSTRUCT_SETTINGS,
  },
  {
    name: "dataset-preferences",
    doc: "docs/datasets.md",
    settings: async () => (await import("../cli/commands/dataset-settings.js")).PREFERENCES_SETTINGS,
  },
  {
    name: "models-register",
    doc: "docs/models.md",
    settings: async () => (await import("../cli/commands/models-settings.js")).MODELS_REGISTER_SETTINGS,
  },
  {
    name: "eval-generation",
    doc: "docs/evaluation.md",
    settings: async () => (await import("../cli/commands/eval-generation-settings.js")).EVAL_GENERATION_SETTINGS,
  },
  {
    name: "eval-voice",
    doc: "docs/evaluation.md",
    settings: async () => (await import("../cli/commands/eval-voice-settings.js")).EVAL_VOICE_SETTINGS,
  },
  {
    name: "watermark-detect",
    doc: "docs/llm-service.md",
    settings: async () => (await import("../cli/commands/watermark-detect-settings.js")).WATERMARK_DETECT_SETTINGS,
  },
  {
    name: "vector-store",
    doc: "docs/vector-stores.md",
    settings: async () => (await import("../vector-store/settings.js")).VECTOR_STORE_SETTINGS,
  },
];

const block = (name: string) => new RegExp(`(<!-- settings: ${name} -->\\n)([\\s\\S]*?)\\n?<!-- /settings -->`);

/** The table currently in `markdown` under `name`, or undefined when the markers are missing. */
export function readSettingsTable(markdown: string, name: string): string | undefined {
  return block(name).exec(markdown)?.[2];
}

/** `markdown` with the table under `name` replaced by the registry's. */
export function writeSettingsTable(markdown: string, name: string, settings: readonly Setting[]): string {
  if (readSettingsTable(markdown, name) === undefined) throw new Error(`no <!-- settings: ${name} --> block`);
  return markdown.replace(
    block(name),
    (_match, open: string) => `${open}${settingsTable(settings)}\n<!-- /settings -->`,
  );
}
