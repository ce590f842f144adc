/**
 * Lineage of a registered model: the dataset artifact it was trained on, the document artifact that
 * dataset came from (or the traces file), and that artifact's source files. Read from the manifests
 * in the artifacts folder; a link that cannot be followed is reported, not fatal.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelEntry } from "./types.js";

export type LineageStep =
  | { level: "model"; reference: string; sha256: string }
  | { level: "dataset"; version: string; kind: string; generator?: string }
  | { level: "traces"; file: string; sha256?: string }
  | { level: "documents"; version: string; documents: number }
  | { level: "source"; file: string; sha256: string; bytes: number }
  | { level: "missing"; what: string };

type LooseManifest = {
  version?: string;
  kind?: string;
  documents?: { count?: number };
  sources?: { file: string; sha256: string; bytes: number }[];
  generator?: { model?: string };
  lineage?: { documents?: string | null; traces?: { file: string; sha256?: string } | null };
};

export async function modelLineage(entry: ModelEntry, artifactsDirectory: string): Promise<LineageStep[]> {
  const steps: LineageStep[] = [{ level: "model", reference: `${entry.name}@${entry.version}`, sha256: entry.sha256 }];
  if (entry.trainedOn === null) return steps;
  const trainedOn = await findManifest(artifactsDirectory, entry.trainedOn);
  if (trainedOn === undefined) {
    steps.push({ level: "missing", what: `artifact ${entry.trainedOn} (not in ${artifactsDirectory})` });
    return steps;
  }
  let documents: LooseManifest | undefined = trainedOn;
  if (trainedOn.kind !== undefined && trainedOn.kind !== "documents") {
    steps.push({
      level: "dataset",
      version: trainedOn.version ?? entry.trainedOn,
      kind: trainedOn.kind,
      ...(trainedOn.generator?.model === undefined ? {} : { generator: trainedOn.generator.model }),
    });
    const traces = trainedOn.lineage?.traces;
    if (traces !== undefined && traces !== null)
      steps.push({
        level: "traces",
        file: traces.file,
        ...(traces.sha256 === undefined ? {} : { sha256: traces.sha256 }),
      });
    const parent = trainedOn.lineage?.documents;
    documents = parent === undefined || parent === null ? undefined : await findManifest(artifactsDirectory, parent);
    if (parent !== undefined && parent !== null && documents === undefined)
      steps.push({ level: "missing", what: `document artifact ${parent} (not in ${artifactsDirectory})` });
  }
  if (documents === undefined) return steps;
  steps.push({ level: "documents", version: documents.version ?? "?", documents: documents.documents?.count ?? 0 });
  for (const source of documents.sources ?? []) steps.push({ level: "source", ...source });
  return steps;
}

/** The manifest of the artifact whose version starts with `version` (unique), if any. */
async function findManifest(directory: string, version: string): Promise<LooseManifest | undefined> {
  if (!existsSync(directory)) return undefined;
  const matches = (await readdir(directory)).filter((name) => !name.startsWith(".") && name.startsWith(version));
  const [match] = matches;
  if (match === undefined || matches.length > 1) return undefined;
  const path = join(directory, match, "manifest.json");
  if (!existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, "utf8")) as LooseManifest;
}

export function formatLineage(steps: readonly LineageStep[]): string {
  return steps
    .map((step, depth) => {
      const indent = step.level === "source" ? "      " : "  ".repeat(Math.min(depth, 3));
      switch (step.level) {
        case "model":
          return `${indent}model     ${step.reference}  sha256 ${step.sha256.slice(0, 16)}`;
        case "dataset":
          return `${indent}└ dataset   ${step.version} (${step.kind}${step.generator === undefined ? "" : `, written by ${step.generator}`})`;
        case "traces":
          return `${indent}└ traces    ${step.file}${step.sha256 === undefined ? "" : `  sha256 ${step.sha256.slice(0, 16)}`}`;
        case "documents":
          return `${indent}└ documents ${step.version} (${step.documents} documents)`;
        case "source":
          return `${indent}└ source ${step.file}  ${step.bytes} bytes  sha256 ${step.sha256.slice(0, 16)}`;
        default:
          return `${indent}└ (missing) ${step.what}`;
      }
    })
    .join("\n");
}
