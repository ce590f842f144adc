/** `llm-twin artifacts list|show`: the versioned dataset artifacts written by `llm-twin ingest`. */
import type { Command } from "commander";
import { jsonOutputSetting, parseSettingValues, type Setting, schemas } from "../../config/settings.js";
import type { DatasetManifest } from "../../datasets/index.js";
import type { ArtifactListing } from "../../ingestion/index.js";
import { addSettingOptions } from "../settings-options.js";
import { table } from "../table.js";
import { DEFAULT_ARTIFACTS_DIR } from "./ingest.js";

type Options = { artifacts: string; json?: boolean };

/** `artifacts list` and `artifacts show` settings (src/config/settings.ts); `json` says what is printed. */
function artifactsSettings(json: string) {
  return [
    {
      key: "artifacts",
      flag: "--artifacts <dir>",
      env: "LLM_TWIN_ARTIFACTS_DIR",
      schema: schemas.text,
      default: DEFAULT_ARTIFACTS_DIR,
      help: "folder of dataset artifacts",
    },
    jsonOutputSetting(json),
  ] as const satisfies readonly Setting[];
}
export const ARTIFACTS_LIST_SETTINGS = artifactsSettings("print a JSON array on stdout");
export const ARTIFACTS_SHOW_SETTINGS = artifactsSettings("print the manifest as JSON on stdout");

export function registerArtifactsCommand(program: Command): void {
  const artifacts = program
    .command("artifacts")
    .description("List and inspect the versioned dataset artifacts written by ingest");
  addSettingOptions(artifacts.command("list"), ARTIFACTS_LIST_SETTINGS)
    .description("every artifact, oldest first (the latest is marked)")
    .action(async (raw: Record<string, unknown>) => {
      const options: Options = parseSettingValues(ARTIFACTS_LIST_SETTINGS, raw);
      const { listArtifacts } = await import("../../ingestion/artifacts/index.js");
      const { listDatasetArtifacts } = await import("../../datasets/index.js");
      const listings = await listArtifacts(options.artifacts);
      const datasets = await listDatasetArtifacts(options.artifacts);
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify([...listings.map(toListEntry), ...datasets.map((dataset) => toDatasetEntry(dataset.manifest, dataset.path))])}\n`,
        );
        return;
      }
      if (listings.length === 0 && datasets.length === 0) {
        process.stdout.write(`no dataset artifacts in ${options.artifacts}\n`);
        return;
      }
      const rows = listings.map((listing) => [
        `${listing.manifest.version}${listing.latest ? " *" : ""}`,
        listing.manifest.createdAt,
        String(listing.manifest.documents.count),
        listing.manifest.parent ?? "-",
        listing.manifest.fingerprint.embedder.id,
      ]);
      if (rows.length > 0) {
        process.stdout.write(table(["version", "created", "documents", "parent", "embedder"], rows));
        process.stdout.write("(* = latest)\n");
      }
      if (datasets.length > 0) {
        const datasetRows = datasets.map(({ manifest }) => [
          manifest.version,
          manifest.kind,
          manifest.createdAt,
          String((manifest.counts.train ?? 0) + (manifest.counts.test ?? 0) || (manifest.counts.pairs ?? 0)),
          manifest.parent ?? datasetSource(manifest),
          manifest.generator.model ?? "-",
        ]);
        process.stdout.write(
          `${rows.length > 0 ? "\n" : ""}${table(["dataset", "kind", "created", "records", "parent", "generator"], datasetRows)}`,
        );
      }
    });
  addSettingOptions(artifacts.command("show"), ARTIFACTS_SHOW_SETTINGS)
    .description("one artifact's manifest")
    .argument("<version>", 'a version (or a unique prefix of one), or "latest"')
    .action(async (version: string, raw: Record<string, unknown>) => {
      const options: Options = parseSettingValues(ARTIFACTS_SHOW_SETTINGS, raw);
      const { showArtifact } = await import("../../ingestion/artifacts/index.js");
      const { listDatasetArtifacts } = await import("../../datasets/index.js");
      const datasets = (await listDatasetArtifacts(options.artifacts)).filter(
        (dataset) => version !== "latest" && dataset.manifest.version.startsWith(version),
      );
      const [dataset] = datasets;
      if (dataset !== undefined && datasets.length === 1) {
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ ...dataset.manifest, path: dataset.path })}\n`
            : describeDataset(dataset.manifest, dataset.path),
        );
        return;
      }
      const listing = await showArtifact(options.artifacts, version);
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ ...listing.manifest, path: listing.path, latest: listing.latest })}\n`,
        );
        return;
      }
      process.stdout.write(describe(listing));
    });
}

function toListEntry(listing: ArtifactListing) {
  const { manifest } = listing;
  return {
    version: manifest.version,
    createdAt: manifest.createdAt,
    parent: manifest.parent,
    documents: manifest.documents.count,
    byCategory: manifest.documents.byCategory,
    byAuthor: manifest.documents.byAuthor,
    fingerprint: manifest.fingerprint.hash,
    embedder: manifest.fingerprint.embedder.id,
    path: listing.path,
    latest: listing.latest,
  };
}

function toDatasetEntry(manifest: DatasetManifest, path: string) {
  return {
    version: manifest.version,
    kind: manifest.kind,
    createdAt: manifest.createdAt,
    parent: manifest.parent,
    lineage: manifest.lineage,
    counts: manifest.counts,
    generator: manifest.generator.model,
    promptTemplateVersion: manifest.generator.promptTemplateVersion,
    path,
  };
}

/** Where a dataset without a parent artifact came from: its traces file and/or feedback store. */
function datasetSource(manifest: DatasetManifest): string {
  const { traces, feedback } = manifest.lineage;
  const parts = [
    ...(traces === null ? [] : [`traces ${traces.file}`]),
    ...(feedback === undefined ? [] : [`feedback ${feedback.store}`]),
  ];
  return parts.length === 0 ? "-" : parts.join(" + ");
}

function describeDataset(manifest: DatasetManifest, path: string): string {
  const { traces, feedback } = manifest.lineage;
  const lines = [
    `version       ${manifest.version} (${manifest.kind} dataset)`,
    `path          ${path}`,
    `created       ${manifest.createdAt}`,
    `parent        ${manifest.lineage.documents === null ? "-" : `document artifact ${manifest.lineage.documents}`}`,
    ...(traces === null
      ? []
      : [
          `traces        ${traces.file} (sha256 ${traces.sha256.slice(0, 16)}${traces.since === null ? "" : `, since ${traces.since}`})`,
        ]),
    ...(feedback === undefined
      ? []
      : [
          `feedback      ${feedback.store} (${feedback.entries} entries, sha256 ${feedback.sha256.slice(0, 16)}${feedback.since === null ? "" : `, since ${feedback.since}`})`,
        ]),
    `generator     ${manifest.generator.model ?? "-"}, prompt template ${manifest.generator.promptTemplateVersion}`,
    `  parameters  ${JSON.stringify(manifest.generator.parameters)}`,
    `counts        ${Object.entries(manifest.counts)
      .map(([key, value]) => `${key} ${value}`)
      .join(", ")}`,
    "files",
    ...manifest.files.map((file) => `  ${file.name}  ${file.records} records  sha256 ${file.sha256.slice(0, 16)}`),
  ];
  return `${lines.join("\n")}\n`;
}

function describe(listing: ArtifactListing): string {
  const { manifest } = listing;
  const lines = [
    `version       ${manifest.version}${listing.latest ? " (latest)" : ""}`,
    `path          ${listing.path}`,
    `created       ${manifest.createdAt}`,
    `parent        ${manifest.parent ?? "-"}`,
    `content hash  ${manifest.contentHash}`,
    `documents     ${manifest.documents.count} in ${manifest.documents.file} (${manifest.documents.skipped} skipped records)`,
    `  by category ${Object.entries(manifest.documents.byCategory)
      .map(([key, value]) => `${key} ${value}`)
      .join(", ")}`,
    `  by author   ${Object.entries(manifest.documents.byAuthor)
      .map(([key, value]) => `${key} ${value}`)
      .join(", ")}`,
    `fingerprint   ${manifest.fingerprint.hash}`,
    `  preprocessing ${manifest.fingerprint.preprocessingVersion}, embedder ${manifest.fingerprint.embedder.id} (${manifest.fingerprint.embedder.dimensions} dimensions, ${manifest.fingerprint.embedder.maxInputTokens} tokens max)`,
    "sources",
    ...manifest.sources.map((source) => `  ${source.file}  ${source.bytes} bytes  sha256 ${source.sha256}`),
  ];
  return `${lines.join("\n")}\n`;
}
