import { AppError } from "../../errors/app-error.js";
import type { VectorStore } from "../port.js";
import type { QdrantStoreOptions } from "./options.js";

export async function openQdrantStore(options: QdrantStoreOptions): Promise<VectorStore> {
  throw new AppError("configuration_error", `The Qdrant adapter is not implemented yet (${options.url}).`);
}
