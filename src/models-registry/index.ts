export { formatLineage, type LineageStep, modelLineage } from "./lineage.js";
export { createLocalRegistryStorage, type LocalStorageOptions } from "./local-storage.js";
export {
  defaultRegistryLocation,
  isRegistryReference,
  type OpenRegistryOptions,
  openRegistryStorage,
  REGISTRY_ENV,
  type ResolvedRegistryModel,
  resolveRegistryReference,
} from "./open.js";
export {
  assertModelName,
  findEntry,
  formatReference,
  type ModelReference,
  parseModelReference,
  REGISTRY_SCHEME,
} from "./reference.js";
export {
  fileDigest,
  listModels,
  loadModelFile,
  promoteModel,
  type RegisterOptions,
  readRegistryIndex,
  registerModel,
  removeModel,
  showModel,
} from "./registry.js";
export {
  type LoraSpec,
  loadServedModel,
  planServedModel,
  planVersions,
  type RegistryVersion,
  type ServedAdapter,
  type ServedModel,
  type ServedModelOptions,
  type ServedModelPlan,
} from "./serving.js";
export type { RegistryStorage } from "./storage.js";
export * from "./types.js";
