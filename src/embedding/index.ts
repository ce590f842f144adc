export type { Embedder, EmbedOptions } from "./port.js";
