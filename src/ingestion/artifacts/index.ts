export { type ArtifactListing, listArtifacts, showArtifact } from "./reader.js";
export {
  ARTIFACT_FORMAT_VERSION,
  type ArtifactManifest,
  type ArtifactReference,
  DOCUMENTS_FILE,
  LATEST_FILE,
  MANIFEST_FILE,
} from "./types.js";
export { type ArtifactWriter, createArtifactWriter, readLatest } from "./writer.js";
