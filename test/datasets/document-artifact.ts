/** A small document artifact (four two-author documents, 40-word chunks) for the dataset tests. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const TOPICS = [
  ["vector", "databases", "index", "embeddings", "for", "fast", "similarity", "search"],
  ["feature", "pipelines", "clean", "chunk", "and", "embed", "raw", "documents"],
  ["inference", "services", "batch", "requests", "to", "use", "the", "hardware"],
  ["preference", "tuning", "aligns", "models", "with", "what", "users", "like"],
];

function document(index: number) {
  const words = TOPICS[index] as string[];
  const sentences = Array.from(
    { length: 12 },
    (_, sentence) => `${words.join(" ")} number ${sentence} of topic ${index}.`,
  );
  return {
    id: `00000000-0000-4000-8000-00000000000${index}`,
    category: "articles",
    author: { id: `author-${index % 2}`, fullName: index % 2 === 0 ? "Paul Iusztin" : "Maxime Labonne" },
    platform: "medium",
    title: `Topic ${index}`,
    link: `https://example.com/${index}`,
    content: sentences.join(" "),
    sourceHash: `hash-${index}`,
  };
}

export async function makeDocumentArtifact(directory: string): Promise<void> {
  const path = join(directory, "d0c5000000000001");
  await mkdir(path, { recursive: true });
  await writeFile(
    join(path, "documents.jsonl"),
    TOPICS.map((_, index) => `${JSON.stringify(document(index))}\n`).join(""),
  );
  await writeFile(
    join(path, "manifest.json"),
    JSON.stringify({
      formatVersion: 1,
      version: "d0c5000000000001",
      createdAt: "2026-01-01T00:00:00.000Z",
      parent: null,
      contentHash: "x",
      documents: { file: "documents.jsonl", count: TOPICS.length, byCategory: {}, byAuthor: {}, skipped: 0 },
      sources: [{ file: "/data/articles.json", sha256: "b".repeat(64), bytes: 999 }],
      fingerprint: { hash: "f", embedder: { id: "static", dimensions: 100, maxInputTokens: 40 } },
    }),
  );
  await writeFile(join(directory, "LATEST"), "d0c5000000000001\n");
}
