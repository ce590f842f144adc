/**
 * The Kubernetes manifests in deploy/k8s: every object validates against the Kubernetes 1.27
 * OpenAPI schemas with unknown fields rejected (offline, kubernetes-models), and the deployment
 * invariants the issue asks for hold (probes, resources, HPAs, PDBs, Qdrant replication).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { validateKubernetesObject } from "./strict-kubernetes-validation.js";

const root = resolve(import.meta.dirname, "../..");
const k8s = join(root, "deploy/k8s");

type KubernetesObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked field by field below
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

function loadFolder(folder: string): { file: string; object: KubernetesObject }[] {
  const directory = join(k8s, folder);
  const loaded: { file: string; object: KubernetesObject }[] = [];
  for (const file of readdirSync(directory)
    .filter((name) => name.endsWith(".yaml"))
    .sort()) {
    if (file === "kustomization.yaml") continue;
    for (const document of parseAllDocuments(readFileSync(join(directory, file), "utf8"))) {
      expect(document.errors, `${folder}/${file}`).toEqual([]);
      const object = document.toJS() as KubernetesObject | null;
      if (object) loaded.push({ file: `${folder}/${file}`, object });
    }
  }
  return loaded;
}

const base = loadFolder("base");
const queue = loadFolder("queue");
const all = [...base, ...queue];

function find(kind: string, name: string): KubernetesObject {
  const match = all.find(({ object }) => object.kind === kind && object.metadata.name === name);
  if (!match) throw new Error(`no ${kind}/${name} in deploy/k8s`);
  return match.object;
}

// biome-ignore lint/suspicious/noExplicitAny: see KubernetesObject
function containerOf(workload: KubernetesObject): any {
  return workload.spec.template.spec.containers[0];
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

describe("deploy/k8s manifests", () => {
  it("every object validates against the Kubernetes schemas, unknown fields rejected", () => {
    expect(all.length).toBeGreaterThan(15);
    const problems = all.flatMap(({ file, object }) =>
      validateKubernetesObject(object, `${file} ${object.kind}/${object.metadata?.name}`),
    );
    expect(problems).toEqual([]);
  });

  it("the strict validation catches a misspelt field and a wrong type", () => {
    const rag = structuredClone(find("Deployment", "rag"));
    containerOf(rag).readinesProbe = containerOf(rag).readinessProbe;
    expect(validateKubernetesObject(rag, "rag")).toEqual([
      "rag: unknown field /spec/template/spec/containers/0/readinesProbe",
    ]);
    const llm = structuredClone(find("Deployment", "llm"));
    containerOf(llm).ports[0].containerPort = "8080";
    expect(validateKubernetesObject(llm, "llm").join("\n")).toMatch(/containerPort must be integer/);
  });

  it("each kustomization lists files that exist, and lists all of them", () => {
    for (const folder of ["base", "queue"]) {
      const kustomization = parseAllDocuments(
        readFileSync(join(k8s, folder, "kustomization.yaml"), "utf8"),
      )[0]?.toJS() as {
        resources: string[];
      };
      const files = readdirSync(join(k8s, folder)).filter(
        (name) => name.endsWith(".yaml") && name !== "kustomization.yaml",
      );
      const listed = kustomization.resources.filter((resource) => resource.endsWith(".yaml"));
      expect(listed.sort(), folder).toEqual(files.sort());
    }
  });

  it("rag: readiness on /ready, liveness on /health, CPU HPA, PDB", () => {
    const container = containerOf(find("Deployment", "rag"));
    expect(container.readinessProbe.httpGet.path).toBe("/ready");
    expect(container.livenessProbe.httpGet.path).toBe("/health");
    expect(container.args.slice(0, 3)).toEqual(["serve-rag", "--llm-url", "$(LLM_TWIN_LLM_URL)"]);
    const hpa = find("HorizontalPodAutoscaler", "rag");
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: "rag" });
    expect(hpa.spec.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
    ]);
  });

  it("llm: probes on /health behind a startup probe, HPA on the queue-depth gauge", () => {
    const container = containerOf(find("Deployment", "llm"));
    expect(container.args).toEqual(["serve"]);
    expect(container.ports[0].containerPort).toBe(8080);
    expect(container.livenessProbe.httpGet.path).toBe("/health");
    expect(container.readinessProbe.httpGet.path).toBe("/health");
    // model loading answers 503: liveness must wait for the startup probe (>= 10 minutes here)
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBeGreaterThanOrEqual(600);
    const hpa = find("HorizontalPodAutoscaler", "llm");
    expect(hpa.spec.metrics).toHaveLength(1);
    expect(hpa.spec.metrics[0].type).toBe("Pods");
    const metricName: string = hpa.spec.metrics[0].pods.metric.name;
    const adapter = readFileSync(join(k8s, "monitoring/prometheus-adapter-values.yaml"), "utf8");
    expect(adapter).toContain(`as: "${metricName}"`);
    const serverSources = join(root, "src/llm-server");
    const sources = existsSync(serverSources)
      ? readdirSync(serverSources, { recursive: true, encoding: "utf8" })
          .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
          .map((file) => readFileSync(join(serverSources, file), "utf8"))
          .join("\n")
      : "";
    if (!sources.includes("queue")) {
      console.warn("src/llm-server has no queue gauge yet: the HPA metric name is not cross-checked");
      return;
    }
    expect(sources, "the HPA's metric must be a gauge the LLM service exports").toContain(`"${metricName}"`);
  });

  it("every container has requests and limits, runs as non-root and read-only", () => {
    for (const { object } of all) {
      if (!["Deployment", "StatefulSet", "Job"].includes(object.kind)) continue;
      const pod = object.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot, object.metadata.name).toBe(true);
      for (const container of pod.containers) {
        expect(container.resources.requests.cpu, object.metadata.name).toBeDefined();
        expect(container.resources.requests.memory, object.metadata.name).toBeDefined();
        expect(container.resources.limits.memory, object.metadata.name).toBeDefined();
        expect(container.securityContext.readOnlyRootFilesystem, object.metadata.name).toBe(true);
        expect(container.securityContext.allowPrivilegeEscalation, object.metadata.name).toBe(false);
      }
    }
  });

  it("every Deployment and StatefulSet has a PDB, and every selector matches its pods", () => {
    const workloads = all
      .filter(({ object }) => ["Deployment", "StatefulSet"].includes(object.kind))
      .map(({ object }) => object);
    const budgets = all.filter(({ object }) => object.kind === "PodDisruptionBudget").map(({ object }) => object);
    for (const workload of workloads) {
      const podLabels = workload.spec.template.metadata.labels;
      expect(labelsMatch(workload.spec.selector.matchLabels, podLabels), workload.metadata.name).toBe(true);
      if (workload.metadata.name === "redis") continue; // a single replica: a PDB would block node drains
      expect(
        budgets.some((budget) => labelsMatch(budget.spec.selector.matchLabels, podLabels)),
        `PDB for ${workload.metadata.name}`,
      ).toBe(true);
    }
    for (const service of all.filter(({ object }) => object.kind === "Service").map(({ object }) => object)) {
      expect(
        workloads.some((workload) => labelsMatch(service.spec.selector, workload.spec.template.metadata.labels)),
        `Service ${service.metadata.name} selects pods`,
      ).toBe(true);
    }
  });

  it("Qdrant runs as a replicated StatefulSet with persistent storage", () => {
    const qdrant = find("StatefulSet", "qdrant");
    expect(qdrant.spec.replicas).toBeGreaterThanOrEqual(3);
    expect(qdrant.spec.serviceName).toBe("qdrant-headless");
    expect(find("Service", "qdrant-headless").spec.clusterIP).toBe("None");
    const container = containerOf(qdrant);
    expect(container.image).toMatch(/^qdrant\/qdrant:v\d+\.\d+\.\d+/);
    expect(container.env).toContainEqual({ name: "QDRANT__CLUSTER__ENABLED", value: "true" });
    const replication = container.env.find(
      (variable: { name: string }) => variable.name === "QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR",
    );
    expect(Number(replication?.value)).toBeGreaterThanOrEqual(2);
    expect(qdrant.spec.volumeClaimTemplates[0].metadata.name).toBe("storage");
    const start = find("ConfigMap", "qdrant-start").data?.["start.sh"] ?? "";
    expect(start).toContain("--bootstrap");
    expect(find("ConfigMap", "llm-twin-config").data?.LLM_TWIN_STORE).toBe("qdrant:http://qdrant:6333");
  });

  it("Qdrant requires an API key that every client reads from the same Secret; one shard per collection", () => {
    const fromSecret = { valueFrom: { secretKeyRef: { name: "llm-twin-secrets", key: "LLM_TWIN_QDRANT_API_KEY" } } };
    expect(containerOf(find("StatefulSet", "qdrant")).env).toContainEqual({
      name: "QDRANT__SERVICE__API_KEY",
      ...fromSecret,
    });
    for (const [kind, name] of [
      ["Deployment", "rag"],
      ["Job", "ingest"],
      ["Deployment", "ingest-worker"],
    ] as const) {
      expect(containerOf(find(kind, name)).env, name).toContainEqual({
        name: "LLM_TWIN_QDRANT_API_KEY",
        ...fromSecret,
      });
    }
    expect(find("Secret", "llm-twin-secrets").stringData?.LLM_TWIN_QDRANT_API_KEY).toBeTruthy();
    // No API keys in the placeholder: an empty LLM_TWIN_API_KEYS would stop serve-rag from starting.
    expect(find("Secret", "llm-twin-secrets").stringData).not.toHaveProperty("LLM_TWIN_API_KEYS");
    expect(find("ConfigMap", "llm-twin-config").data?.LLM_TWIN_QDRANT_SHARDS).toBe("1");
  });

  it("the ingestion Job and the queue workers run the llm-twin commands", () => {
    expect(containerOf(find("Job", "ingest")).args[0]).toBe("ingest");
    expect(containerOf(find("Deployment", "ingest-worker")).args.slice(0, 3)).toEqual([
      "worker",
      "--queue",
      "redis://redis:6379",
    ]);
    expect(containerOf(find("Job", "enqueue")).args).toContain("--queue");
  });

  const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  it.skipIf(kubectl.status !== 0)("kubectl kustomize builds both trees (skipped without kubectl)", () => {
    for (const folder of ["base", "queue"]) {
      const built = spawnSync("kubectl", ["kustomize", join(k8s, folder)], { encoding: "utf8" });
      expect(built.stderr, folder).toBe("");
      expect(built.status, folder).toBe(0);
      const kinds = parseAllDocuments(built.stdout).map((document) => (document.toJS() as KubernetesObject).kind);
      expect(kinds).toContain("HorizontalPodAutoscaler");
    }
  });
  if (kubectl.status !== 0) console.warn("kubectl not found: kustomize build of deploy/k8s not checked");
});
