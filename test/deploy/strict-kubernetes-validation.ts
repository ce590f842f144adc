/**
 * Validates Kubernetes objects against the API's OpenAPI schemas (kubernetes-models, v1.27) and,
 * beyond what those schemas check, rejects unknown fields (a misspelt `readinessProbe` would
 * otherwise pass silently): the generated validators read every property their schema declares
 * and enumerate free-form maps, so a field the validator never looked at is not in the schema.
 */

import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";

type Validatable = { validate(): void };
type ModelConstructor = new (data: Record<string, unknown>) => Validatable & Record<string, unknown>;

const models: Record<string, ModelConstructor> = {
  "v1/ConfigMap": ConfigMap as unknown as ModelConstructor,
  "v1/Namespace": Namespace as unknown as ModelConstructor,
  "v1/Secret": Secret as unknown as ModelConstructor,
  "v1/Service": Service as unknown as ModelConstructor,
  "apps/v1/Deployment": Deployment as unknown as ModelConstructor,
  "apps/v1/StatefulSet": StatefulSet as unknown as ModelConstructor,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler as unknown as ModelConstructor,
  "batch/v1/Job": Job as unknown as ModelConstructor,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget as unknown as ModelConstructor,
};

const topLevelFields = new Set([
  "apiVersion",
  "kind",
  "metadata",
  "spec",
  "data",
  "binaryData",
  "stringData",
  "type",
  "immutable",
]);

type Access = { read: Map<string, Set<string>>; enumerated: Set<string> };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function track(value: unknown, path: string, access: Access): unknown {
  if (typeof value !== "object" || value === null) return value;
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver);
      if (typeof key !== "string") return child;
      let keys = access.read.get(path);
      if (!keys) {
        keys = new Set();
        access.read.set(path, keys);
      }
      keys.add(key);
      return Array.isArray(target) && key === "length" ? child : track(child, `${path}/${key}`, access);
    },
    ownKeys(target) {
      access.enumerated.add(path);
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(value: unknown, path: string, access: Access, found: string[]): void {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) unknownFields(item, `${path}/${index}`, access, found);
    return;
  }
  if (!isPlainObject(value)) return;
  const read = access.read.get(path) ?? new Set<string>();
  for (const [key, child] of Object.entries(value)) {
    if (!access.enumerated.has(path) && !read.has(key)) found.push(`${path}/${key}`);
    else unknownFields(child, `${path}/${key}`, access, found);
  }
}

/** Problems found in one object (empty when it is valid); `where` names it in the messages. */
export function validateKubernetesObject(object: unknown, where: string): string[] {
  if (!isPlainObject(object)) return [`${where}: not an object`];
  const key = `${String(object.apiVersion)}/${String(object.kind)}`;
  const Model = models[key];
  if (!Model) return [`${where}: no schema for ${key} in this test (add it to the models map)`];
  const problems: string[] = [];
  for (const field of Object.keys(object)) {
    if (!topLevelFields.has(field)) problems.push(`${where}: unknown top-level field ${field}`);
  }
  const access: Access = { read: new Map(), enumerated: new Set() };
  const tracked: Record<string, unknown> = {};
  for (const [field, child] of Object.entries(object)) tracked[field] = track(child, `/${field}`, access);
  try {
    // The constructor deep-copies its argument (which would read every field): attach the tracked
    // fields to the instance afterwards instead.
    const model = Object.assign(new Model({}), tracked);
    model.validate();
  } catch (error) {
    problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    return problems;
  }
  const found: string[] = [];
  for (const [field, child] of Object.entries(object)) {
    if (field !== "apiVersion" && field !== "kind") unknownFields(child, `/${field}`, access, found);
  }
  for (const path of found) problems.push(`${where}: unknown field ${path}`);
  return problems;
}
