/** Collection (table) names, one per data category, as in the reference design. */
import { DATA_CATEGORIES, type DataCategory } from "../domain/index.js";

export const COLLECTION_NAMES: Readonly<Record<DataCategory, string>> = {
  articles: "embedded_articles",
  posts: "embedded_posts",
  repositories: "embedded_repositories",
};

export function collectionName(category: DataCategory): string {
  return COLLECTION_NAMES[category];
}

export const ALL_CATEGORIES: readonly DataCategory[] = DATA_CATEGORIES;
