/** The vector store capability: the port, the URI parser, the adapters' entry point and RRF. */

export { COLLECTION_NAMES, collectionName } from "./collections.js";
export type { FusedResult, FusionOptions, RankedList } from "./fusion.js";
export {
  agreementFusion,
  DEFAULT_AGREEMENT_DEPTH,
  DEFAULT_DENSE_DEPTH,
  DEFAULT_HYBRID_FUSION,
  DEFAULT_RRF_K,
  fuseHybrid,
  HYBRID_FUSIONS,
  type HybridFusion,
  listAgreement,
  reciprocalRankFusion,
  type ScoredId,
} from "./fusion.js";
export type { AnnSettings, FullTextSettings, LanceDbStoreOptions } from "./lancedb/options.js";
export { DEFAULT_ANN_SETTINGS, DEFAULT_FULL_TEXT_SETTINGS } from "./lancedb/options.js";
export type { OpenVectorStoreOptions } from "./open.js";
export { openVectorStore, QDRANT_API_KEY_VARIABLE } from "./open.js";
export type * from "./port.js";
export type { QdrantStoreOptions } from "./qdrant/options.js";
export { DEFAULT_DENSE_WEIGHT } from "./request-validation.js";
export type { StoreLocation } from "./uri.js";
export { DEFAULT_STORE_URI, formatStoreLocation, parseStoreUri } from "./uri.js";
