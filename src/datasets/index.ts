export {
  DATASET_KINDS,
  type DatasetKind,
  type DatasetListing,
  type DatasetManifest,
  listDatasetArtifacts,
  writeDatasetArtifact,
} from "./artifact.js";
export {
  DEFAULT_FILTER_OPTIONS,
  type FilterCounts,
  type FilterOptions,
  filterPairs,
  type InstructPair,
} from "./filters.js";
export { generateInstructDataset, type InstructOptions, type InstructResult } from "./instruct.js";
export {
  createInstructionWriter,
  INSTRUCT_PROMPT_VERSION,
  type InstructionWriter,
  instructionSchema,
  parseInstructions,
} from "./instruct-writer.js";
export {
  buildPreferencePairs,
  generatePreferenceDataset,
  PREFERENCES_TEMPLATE_VERSION,
  type PreferencePair,
  type PreferencesOptions,
  parseSince,
  readFeedbackTraces,
} from "./preferences.js";
