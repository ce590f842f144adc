/**
 * `llm-twin deploy sagemaker create|update|status|delete`: deploys the LLM microservice (our
 * container, or the Hugging Face TGI image) to a SageMaker real-time endpoint with autoscaling.
 * Every option has an LLM_TWIN_SAGEMAKER_* variable and a default (see docs/deploy-sagemaker.md).
 * Progress goes to stderr; `--json` prints exactly one JSON object on stdout.
 */
import type { Command } from "commander";
import type { DeployConfigInput } from "../../deploy/sagemaker/config.js";
import type { Clock, DeployClients, DeploymentStatus } from "../../deploy/sagemaker/index.js";
import { DEPLOY_OPTIONS } from "../../deploy/sagemaker/options.js";
import type { RegistryStorage } from "../../models-registry/storage.js";
import { addSettingOptions } from "../settings-options.js";

type Action = "create" | "update" | "status" | "delete";

export type DeployCommandDependencies = {
  /** Builds the AWS clients for a region (tests inject mocked clients). */
  createClients?: (region: string) => DeployClients;
  clock?: Clock;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Opens the model registry of `--model-uri registry:…` (tests pass one on a mocked S3 client). */
  openRegistry?: (location: string) => Promise<RegistryStorage>;
};

const OPTIONS_BY_ACTION: Record<Action, ReadonlySet<string>> = {
  create: new Set(DEPLOY_OPTIONS.map((option) => option.key)),
  update: new Set(DEPLOY_OPTIONS.map((option) => option.key)),
  status: new Set(["name", "region", "json"]),
  delete: new Set(["name", "region", "timeout", "pollInterval", "wait", "json"]),
};

const DESCRIPTIONS: Record<Action, string> = {
  create: "create (or bring up to date) the model, endpoint config, endpoint and autoscaling",
  update: "roll the existing endpoint to a new endpoint config (new model or instances), then re-apply autoscaling",
  status: "print the endpoint's state, instances and autoscaling",
  delete: "remove the scaling policy, scalable target, endpoint, endpoint configs and models of --name",
};

function formatStatus(result: DeploymentStatus): string {
  if (!result.exists) return `endpoint ${result.name} does not exist in ${result.region}\n`;
  const lines = [`endpoint ${result.name} (${result.region}): ${result.status}`];
  if (result.failureReason) lines.push(`  failure: ${result.failureReason}`);
  if (result.endpointConfigName) lines.push(`  endpoint config: ${result.endpointConfigName}`);
  for (const variant of result.variants ?? []) {
    lines.push(
      `  variant ${variant.name}: ${variant.instanceType ?? "?"} × ${variant.currentInstanceCount ?? "?"} (desired ${variant.desiredInstanceCount ?? "?"})`,
    );
  }
  if (result.autoscaling === null || result.autoscaling === undefined) lines.push("  autoscaling: none");
  else {
    const policy = result.autoscaling.policy;
    lines.push(
      `  autoscaling: ${result.autoscaling.minInstances ?? "?"}–${result.autoscaling.maxInstances ?? "?"} instances` +
        (policy
          ? `, target ${policy.targetInvocations ?? "?"} invocations/instance/min, cooldown in ${policy.scaleInCooldown ?? "?"} s / out ${policy.scaleOutCooldown ?? "?"} s`
          : ", no policy"),
    );
  }
  if (result.lastModifiedAt) lines.push(`  last modified: ${result.lastModifiedAt}`);
  return `${lines.join("\n")}\n`;
}

function addActionCommand(parent: Command, action: Action, dependencies: DeployCommandDependencies): void {
  const command = parent.command(action).description(DESCRIPTIONS[action]);
  addSettingOptions(
    command,
    DEPLOY_OPTIONS.filter((setting) => OPTIONS_BY_ACTION[action].has(setting.key)),
  );
  command.action(async (options: DeployConfigInput & { json?: boolean; registry?: string }) => {
    const stdout = dependencies.stdout ?? ((text: string) => process.stdout.write(text));
    const stderr = dependencies.stderr ?? ((text: string) => process.stderr.write(text));
    const { json, registry, ...flags } = options;
    let input: DeployConfigInput = flags;
    let registryVersions: unknown;
    if (flags.modelUri?.startsWith("registry:") === true && (action === "create" || action === "update")) {
      const { resolveRegistryDeployment } = await import("../../deploy/sagemaker/registry-model.js");
      const resolved = await resolveRegistryDeployment({
        modelUri: flags.modelUri,
        registry,
        ...(dependencies.openRegistry === undefined ? {} : { openRegistry: dependencies.openRegistry }),
      });
      input = { ...flags, modelUri: resolved.modelUri, env: [...resolved.env, ...(flags.env ?? [])] };
      registryVersions = resolved.versions;
      const adapters = resolved.versions.adapters.map((adapter) => `${adapter.name}@${adapter.version}`);
      stderr(
        `registry: ${flags.modelUri} → ${resolved.modelUri}${adapters.length === 0 ? "" : ` with adapters ${adapters.join(", ")}`}\n`,
      );
    }
    // Loaded here, not at the top: `--help` must not pay for the AWS SDK.
    const { createDeployClients, deploy, destroyDeployClients, remove, resolveDeployConfig, status } = await import(
      "../../deploy/sagemaker/index.js"
    );
    const config = resolveDeployConfig(input, action);
    const clients = (dependencies.createClients ?? createDeployClients)(config.region);
    const context = {
      clients,
      ...(dependencies.clock === undefined ? {} : { clock: dependencies.clock }),
      report: (line: string) => stderr(`${line}\n`),
    };
    try {
      if (action === "status") {
        const result = await status(config, context);
        stdout(json ? `${JSON.stringify(result)}\n` : formatStatus(result));
      } else if (action === "delete") {
        const result = await remove(config, context);
        stdout(
          json ? `${JSON.stringify(result)}\n` : `deleted ${result.actions.length} resource(s) of ${result.name}\n`,
        );
      } else {
        const result = await deploy(action, config, context);
        stdout(
          json
            ? `${JSON.stringify(registryVersions === undefined ? result : { ...result, registry: registryVersions })}\n`
            : `endpoint ${result.endpointName}: ${result.status} (model ${result.modelName}, config ${result.endpointConfigName}, autoscaling ${result.autoscaling})\n` +
                `use it with: llm-twin serve-rag --llm-url sagemaker:${result.endpointName}\n`,
        );
      }
    } finally {
      if (dependencies.createClients === undefined) destroyDeployClients(clients);
    }
  });
}

export function registerDeployCommand(program: Command, dependencies: DeployCommandDependencies = {}): void {
  const deployCommand = program.command("deploy").description("deploy the LLM microservice to the cloud");
  const sagemaker = deployCommand
    .command("sagemaker")
    .description("SageMaker real-time endpoint (our container or the Hugging Face TGI image) with autoscaling");
  for (const action of ["create", "update", "status", "delete"] as const)
    addActionCommand(sagemaker, action, dependencies);
}
