/** `name@version` / `name@stage` references, and `registry:` model sources resolved to a local file. */
import { AppError } from "../errors/index.js";
import { MODEL_STAGES, type ModelEntry, type ModelStage, type RegistryIndex } from "./types.js";

export const REGISTRY_SCHEME = "registry:";
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type ModelReference = { name: string; selector: { version: number } | { stage: ModelStage } | { latest: true } };

export function assertModelName(name: string): string {
  if (!NAME_PATTERN.test(name))
    throw new AppError(
      "bad_request",
      `model name "${name}": use letters, digits, ".", "_" and "-" (128 characters at most, no "@")`,
    );
  return name;
}

/** `twin-paul@2`, `twin-paul@production`, or `twin-paul` (its latest version). */
export function parseModelReference(text: string): ModelReference {
  const at = text.lastIndexOf("@");
  const name = assertModelName(at < 0 ? text : text.slice(0, at));
  if (at < 0) return { name, selector: { latest: true } };
  const selector = text.slice(at + 1);
  if (/^[1-9]\d*$/.test(selector)) return { name, selector: { version: Number(selector) } };
  if ((MODEL_STAGES as readonly string[]).includes(selector))
    return { name, selector: { stage: selector as ModelStage } };
  throw new AppError(
    "bad_request",
    `"${text}": expected <name>@<version> (1, 2, ...) or <name>@<stage> (${MODEL_STAGES.join(", ")})`,
  );
}

export function formatReference(entry: Pick<ModelEntry, "name" | "version">): string {
  return `${entry.name}@${entry.version}`;
}

/** The entry a reference designates, or a not_found error listing what exists. */
export function findEntry(index: RegistryIndex, reference: ModelReference, location: string): ModelEntry {
  const versions = index.entries
    .filter((entry) => entry.name === reference.name)
    .sort((left, right) => left.version - right.version);
  const { selector } = reference;
  const match =
    "version" in selector
      ? versions.find((entry) => entry.version === selector.version)
      : "stage" in selector
        ? versions.find((entry) => entry.stages.includes(selector.stage))
        : versions.at(-1);
  if (match !== undefined) return match;
  const wanted =
    "version" in selector
      ? `version ${selector.version}`
      : "stage" in selector
        ? `${selector.stage} version`
        : "versions";
  const known =
    versions.length === 0
      ? `no model "${reference.name}" is registered (see 'llm-twin models list')`
      : `known: ${versions.map((entry) => `${formatReference(entry)}${entry.stages.length > 0 ? ` [${entry.stages.join(", ")}]` : ""}`).join(", ")}`;
  throw new AppError("model_not_found", `${reference.name} has no ${wanted} in the registry ${location}; ${known}`);
}
