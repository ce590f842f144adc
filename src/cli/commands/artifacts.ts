/** `llm-twin artifacts list|show`: the versioned dataset artifacts written by `llm-twin ingest`. */
import { type Command, Option } from "commander";
import type { ArtifactListing } from "../../ingestion/index.js";
import { DEFAULT_ARTIFACTS_DIR } from "./ingest.js";

type Options = { artifacts: string; json?: boolean };

function directoryOption(): Option {
  return new Option("--artifacts <dir>", "folder of dataset artifacts")
    .env("LLM_TWIN_ARTIFACTS_DIR")
    .default(DEFAULT_ARTIFACTS_DIR);
}

export function registerArtifactsCommand(program: Command): void {
  const artifacts = program
    .command("artifacts")
    .description("List and inspect the versioned dataset artifacts written by ingest");
  artifacts
    .command("list")
    .description("every artifact, oldest first (the latest is marked)")
    .addOption(directoryOption())
    .addOption(new Option("--json", "print a JSON array on stdout").env("LLM_TWIN_JSON"))
    .action(async (options: Options) => {
      const { listArtifacts } = await import("../../ingestion/artifacts/index.js");
      const listings = await listArtifacts(options.artifacts);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(listings.map(toListEntry))}\n`);
        return;
      }
      if (listings.length === 0) {
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
      process.stdout.write(table(["version", "created", "documents", "parent", "embedder"], rows));
      process.stdout.write("(* = latest)\n");
    });
  artifacts
    .command("show")
    .description("one artifact's manifest")
    .argument("<version>", 'a version (or a unique prefix of one), or "latest"')
    .addOption(directoryOption())
    .addOption(new Option("--json", "print the manifest as JSON on stdout").env("LLM_TWIN_JSON"))
    .action(async (version: string, options: Options) => {
      const { showArtifact } = await import("../../ingestion/artifacts/index.js");
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

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[format(header), ...rows.map(format)].join("\n")}\n`;
}
