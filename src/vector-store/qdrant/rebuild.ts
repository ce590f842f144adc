/**
 * Re-indexing beside the live collections: a rebuild writes `<alias>_<generation>` collections;
 * publishing swaps every alias (the three categories and the metadata) to them in one
 * `POST /collections/aliases` request, which Qdrant applies atomically, then drops the
 * collections the aliases pointed to before. Readers address the aliases and follow at once.
 */
import { AppError } from "../../errors/app-error.js";
import type { Rest } from "./rest.js";

type AliasList = { aliases: { alias_name: string; collection_name: string }[] };
type CollectionList = { collections: { name: string }[] };

async function listState(rest: Rest): Promise<{ aliases: Map<string, string>; collections: string[] }> {
  const [aliases, collections] = await Promise.all([
    rest<AliasList>("alias listing", { method: "GET", path: "/aliases" }),
    rest<CollectionList>("collection listing", { method: "GET", path: "/collections" }),
  ]);
  return {
    aliases: new Map(aliases.aliases.map((entry) => [entry.alias_name, entry.collection_name])),
    collections: collections.collections.map((entry) => entry.name),
  };
}

async function deleteCollection(rest: Rest, name: string): Promise<void> {
  await rest("collection deletion", { method: "DELETE", path: `/collections/${encodeURIComponent(name)}` });
}

/** Every generation of each alias in `names` (generation given: only that one). */
export async function dropAll(rest: Rest, names: readonly string[], generation: string | undefined): Promise<void> {
  const { collections } = await listState(rest);
  for (const name of names) {
    for (const collection of collections) {
      const ours =
        generation === undefined
          ? collection === name || collection.startsWith(`${name}_g`)
          : collection === `${name}_${generation}`;
      if (ours) await deleteCollection(rest, collection);
    }
  }
}

export async function publishRebuild(rest: Rest, names: readonly string[], generation: string): Promise<void> {
  const { aliases, collections } = await listState(rest);
  const actions: Record<string, Record<string, string>>[] = [];
  const replaced = new Set<string>();
  for (const alias of names) {
    const target = `${alias}_${generation}`;
    if (!collections.includes(target)) {
      throw new AppError("internal_error", `The rebuild ${generation} has no collection ${target} to publish.`);
    }
    const current = aliases.get(alias);
    if (current !== undefined) {
      actions.push({ delete_alias: { alias_name: alias } });
      replaced.add(current);
    } else if (collections.includes(alias)) {
      // A store from before aliases: its collection holds the alias's name. This one-time
      // migration cannot be atomic: readers see an empty collection until the alias exists.
      await deleteCollection(rest, alias);
    }
    actions.push({ create_alias: { collection_name: target, alias_name: alias } });
  }
  await rest("alias swap", { method: "POST", path: "/collections/aliases", body: { actions } });
  // The previous generation, and leftovers of interrupted rebuilds (best effort: the next publish retries).
  for (const collection of collections) {
    const stale =
      replaced.has(collection) ||
      names.some((alias) => collection.startsWith(`${alias}_g`) && collection !== `${alias}_${generation}`);
    if (stale) await deleteCollection(rest, collection).catch(() => undefined);
  }
}
