/**
 * `deploy sagemaker create|update --model-uri registry:<name>@<version|stage>`: the reference is
 * resolved at deploy time into pinned versions (a stage becomes the version holding it now), so the
 * endpoint config records exactly what serves, and promoting a new version then running `update`
 * rolls the endpoint (SageMaker's blue/green) to it. The container reads the same registry on S3
 * (its execution role needs s3:GetObject on the prefix) and checks every file's sha256 at load:
 *   LLM_TWIN_MODEL=registry:<name>@<version>, LLM_TWIN_REGISTRY=s3://…,
 *   LLM_TWIN_LORA=<adapter>=registry:<adapter>@<version>,…  and LLM_TWIN_REGISTRY_ADAPTERS=off
 * (the production adapters of the base, pinned like the base).
 */
import { AppError } from "../../errors/index.js";
import { defaultRegistryLocation, openRegistryStorage, REGISTRY_ENV } from "../../models-registry/open.js";
import { formatReference } from "../../models-registry/reference.js";
import { planServedModel, type RegistryVersion } from "../../models-registry/serving.js";
import type { RegistryStorage } from "../../models-registry/storage.js";

export type RegistryDeployment = {
  /** The pinned reference the container loads. */
  modelUri: string;
  /** Container environment entries (KEY=VALUE). */
  env: string[];
  versions: { model: RegistryVersion; adapters: Array<RegistryVersion & { author: string | null }> };
};

export type RegistryDeploymentOptions = {
  modelUri: string;
  /** s3://bucket/prefix; default LLM_TWIN_REGISTRY. */
  registry?: string | undefined;
  /** Pin the base's production adapters too (default true). */
  adapters?: boolean;
  /** Opens the registry (tests pass one on a mocked S3 client). */
  openRegistry?: (location: string) => Promise<RegistryStorage>;
};

export async function resolveRegistryDeployment(options: RegistryDeploymentOptions): Promise<RegistryDeployment> {
  const location = options.registry ?? defaultRegistryLocation();
  if (!location.startsWith("s3://"))
    throw new AppError(
      "bad_request",
      `--model-uri ${options.modelUri}: a SageMaker endpoint reads the registry from S3, and ${location} is not an S3 registry; give --registry s3://bucket/prefix (or ${REGISTRY_ENV})`,
    );
  const storage = await (options.openRegistry ?? ((at: string) => openRegistryStorage(at)))(location);
  const plan = await planServedModel({
    model: options.modelUri,
    storage,
    registry: location,
    productionAdapters: options.adapters !== false,
  });
  const base = plan.base;
  if (base === undefined) throw new AppError("internal_error", `${options.modelUri} resolved to no registry entry`);
  const adapters = plan.adapters.flatMap((adapter) =>
    adapter.entry === undefined
      ? []
      : [{ name: adapter.name, version: adapter.entry.version, author: adapter.entry.author, entry: adapter.entry }],
  );
  const env = [`${REGISTRY_ENV}=${location}`, "LLM_TWIN_REGISTRY_ADAPTERS=off"];
  if (adapters.length > 0)
    env.push(
      `LLM_TWIN_LORA=${adapters.map((adapter) => `${adapter.name}=registry:${formatReference(adapter.entry)}`).join(",")}`,
    );
  return {
    modelUri: `registry:${formatReference(base)}`,
    env,
    versions: {
      model: { name: base.name, version: base.version },
      adapters: adapters.map(({ name, version, author }) => ({ name, version, author })),
    },
  };
}
