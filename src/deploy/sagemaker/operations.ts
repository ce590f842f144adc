/**
 * The four operations of `llm-twin deploy sagemaker`: create, update, status, delete.
 * Idempotent: resources are named from --name and their content, each step first looks for what
 * exists, and re-running an operation finishes what an interrupted one started.
 */
import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from "@aws-sdk/client-application-auto-scaling";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
  UpdateEndpointCommand,
} from "@aws-sdk/client-sagemaker";
import { AppError } from "../../errors/index.js";
import { awsStepError, type DeployClients, isAutoScalingNotFound, isSageMakerNotFound } from "./aws.js";
import type { DeployConfig } from "./config.js";
import {
  createEndpointConfigInput,
  createModelInput,
  type DeploymentResources,
  deploymentNames,
  deploymentResources,
  putScalingPolicyInput,
  registerScalableTargetInput,
  SCALABLE_DIMENSION,
  SERVICE_NAMESPACE,
  tags,
} from "./resources.js";
import { type Clock, describeEndpoint, systemClock, waitForDeletion, waitForInService } from "./wait.js";

export type DeployContext = {
  clients: DeployClients;
  clock?: Clock;
  /** Progress lines (the CLI writes them to stderr). */
  report?: (line: string) => void;
};

export type DeployResult = {
  name: string;
  region: string;
  endpointName: string;
  modelName: string;
  endpointConfigName: string;
  status: string;
  /** What was done, in order ("created model …", "model … exists", …). */
  actions: string[];
  /** "applied", "disabled" (--no-autoscaling) or "pending" (--no-wait: rerun with --wait once InService). */
  autoscaling: "applied" | "disabled" | "pending";
};

const BUSY_STATUSES = new Set(["Creating", "Updating", "SystemUpdating", "RollingBack"]);

async function step<T>(description: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw awsStepError(description, error);
  }
}

async function exists(description: string, operation: () => Promise<unknown>): Promise<boolean> {
  try {
    await operation();
    return true;
  } catch (error) {
    if (isSageMakerNotFound(error)) return false;
    throw awsStepError(description, error);
  }
}

async function ensureModel(
  context: Required<DeployContext>,
  config: DeployConfig,
  resources: DeploymentResources,
  actions: string[],
) {
  const { sageMaker } = context.clients;
  const name = resources.modelName;
  if (await exists(`DescribeModel ${name}`, () => sageMaker.send(new DescribeModelCommand({ ModelName: name })))) {
    actions.push(`model ${name} exists`);
    return;
  }
  await step(`CreateModel ${name}`, () => sageMaker.send(new CreateModelCommand(createModelInput(config, resources))));
  actions.push(`created model ${name}`);
  context.report(`created model ${name}`);
}

async function ensureEndpointConfig(
  context: Required<DeployContext>,
  config: DeployConfig,
  resources: DeploymentResources,
  actions: string[],
) {
  const { sageMaker } = context.clients;
  const name = resources.endpointConfigName;
  const found = await exists(`DescribeEndpointConfig ${name}`, () =>
    sageMaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name })),
  );
  if (found) {
    actions.push(`endpoint config ${name} exists`);
    return;
  }
  await step(`CreateEndpointConfig ${name}`, () =>
    sageMaker.send(new CreateEndpointConfigCommand(createEndpointConfigInput(config, resources))),
  );
  actions.push(`created endpoint config ${name}`);
  context.report(`created endpoint config ${name} (${config.instanceType} × ${config.instanceCount})`);
}

const scalingTarget = (resources: Pick<DeploymentResources, "resourceId">) => ({
  ServiceNamespace: SERVICE_NAMESPACE as "sagemaker",
  ResourceId: resources.resourceId,
  ScalableDimension: SCALABLE_DIMENSION as "sagemaker:variant:DesiredInstanceCount",
});

/** Delete the scaling policy and deregister the scalable target; returns what existed. */
async function removeAutoscaling(
  context: Required<DeployContext>,
  resources: Pick<DeploymentResources, "resourceId" | "policyName">,
  actions: string[],
): Promise<void> {
  const { autoScaling } = context.clients;
  try {
    await autoScaling.send(
      new DeleteScalingPolicyCommand({ PolicyName: resources.policyName, ...scalingTarget(resources) }),
    );
    actions.push(`deleted scaling policy ${resources.policyName}`);
  } catch (error) {
    if (!isAutoScalingNotFound(error)) throw awsStepError(`DeleteScalingPolicy ${resources.policyName}`, error);
  }
  try {
    await autoScaling.send(new DeregisterScalableTargetCommand(scalingTarget(resources)));
    actions.push(`deregistered scalable target ${resources.resourceId}`);
  } catch (error) {
    if (!isAutoScalingNotFound(error)) throw awsStepError(`DeregisterScalableTarget ${resources.resourceId}`, error);
  }
}

async function applyAutoscaling(
  context: Required<DeployContext>,
  config: DeployConfig,
  resources: DeploymentResources,
  actions: string[],
) {
  const { autoScaling } = context.clients;
  await step(`RegisterScalableTarget ${resources.resourceId}`, () =>
    autoScaling.send(new RegisterScalableTargetCommand(registerScalableTargetInput(config, resources))),
  );
  await step(`PutScalingPolicy ${resources.policyName}`, () =>
    autoScaling.send(new PutScalingPolicyCommand(putScalingPolicyInput(config, resources))),
  );
  actions.push(
    `autoscaling ${config.minInstances}-${config.maxInstances} instances, target ${config.targetInvocations} invocations/instance/min`,
  );
  context.report(
    `autoscaling: ${config.minInstances}–${config.maxInstances} instances, target ${config.targetInvocations} invocations per instance per minute`,
  );
}

/** After an update: delete the endpoint config (and its model) the endpoint no longer uses, if ours. */
async function removeSuperseded(
  context: Required<DeployContext>,
  resources: DeploymentResources,
  previousConfigName: string,
  actions: string[],
): Promise<void> {
  if (!resources.ownsEndpointConfig(previousConfigName) || previousConfigName === resources.endpointConfigName) return;
  const { sageMaker } = context.clients;
  let previousModels: string[] = [];
  try {
    const previous = await sageMaker.send(
      new DescribeEndpointConfigCommand({ EndpointConfigName: previousConfigName }),
    );
    previousModels = (previous.ProductionVariants ?? []).flatMap((variant) =>
      variant.ModelName ? [variant.ModelName] : [],
    );
  } catch (error) {
    if (!isSageMakerNotFound(error)) throw awsStepError(`DescribeEndpointConfig ${previousConfigName}`, error);
    return;
  }
  await step(`DeleteEndpointConfig ${previousConfigName}`, () =>
    sageMaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: previousConfigName })),
  );
  actions.push(`deleted superseded endpoint config ${previousConfigName}`);
  for (const model of previousModels) {
    if (!resources.ownsModel(model) || model === resources.modelName) continue;
    await step(`DeleteModel ${model}`, () => sageMaker.send(new DeleteModelCommand({ ModelName: model })));
    actions.push(`deleted superseded model ${model}`);
  }
}

function withDefaults(context: DeployContext): Required<DeployContext> {
  return { clients: context.clients, clock: context.clock ?? systemClock, report: context.report ?? (() => undefined) };
}

/**
 * create: model → endpoint config → endpoint (created, or updated when it exists with another
 * config) → wait for InService → autoscaling. update: the same, but the endpoint must exist.
 */
export async function deploy(
  mode: "create" | "update",
  config: DeployConfig,
  rawContext: DeployContext,
): Promise<DeployResult> {
  const context = withDefaults(rawContext);
  const resources = deploymentResources(config);
  const actions: string[] = [];
  const { sageMaker } = context.clients;
  const waitOptions = {
    timeoutSeconds: config.timeout,
    pollIntervalSeconds: config.pollInterval,
    clock: context.clock,
    report: context.report,
  };
  context.report(
    `${mode} ${resources.endpointName} in ${config.region}: ${config.flavour === "huggingface-tgi" ? `Hugging Face TGI with ${config.hfModelId}` : "llm-twin LLM image"}`,
  );

  let described = await describeEndpoint(context.clients, resources.endpointName);
  if (described === undefined && mode === "update") {
    throw new AppError(
      "not_found",
      `Endpoint ${resources.endpointName} does not exist in ${config.region}: use 'create'`,
    );
  }
  if (described !== undefined && BUSY_STATUSES.has(described.EndpointStatus ?? "")) {
    if (!config.wait) {
      throw new AppError(
        "upstream_unavailable",
        `Endpoint ${resources.endpointName} is ${described.EndpointStatus}; retry when it is InService`,
      );
    }
    context.report(`endpoint ${resources.endpointName} is ${described.EndpointStatus}: waiting before changing it`);
    described = await waitForInService(context.clients, resources.endpointName, waitOptions);
  }
  if (described?.EndpointStatus === "Failed") {
    throw new AppError(
      "upstream_error",
      `Endpoint ${resources.endpointName} is Failed${described.FailureReason ? ` (${described.FailureReason})` : ""}: run 'llm-twin deploy sagemaker delete --name ${config.name}' first`,
    );
  }

  await ensureModel(context, config, resources, actions);
  await ensureEndpointConfig(context, config, resources, actions);

  let previousConfigName: string | undefined;
  if (described === undefined) {
    await step(`CreateEndpoint ${resources.endpointName}`, () =>
      sageMaker.send(
        new CreateEndpointCommand({
          EndpointName: resources.endpointName,
          EndpointConfigName: resources.endpointConfigName,
          Tags: tags(config),
        }),
      ),
    );
    actions.push(`created endpoint ${resources.endpointName}`);
    context.report(`created endpoint ${resources.endpointName}`);
  } else if (described.EndpointConfigName === resources.endpointConfigName) {
    actions.push(`endpoint ${resources.endpointName} already uses ${resources.endpointConfigName}`);
    context.report(`endpoint ${resources.endpointName} exists and is up to date (${described.EndpointStatus})`);
  } else {
    if (mode === "create")
      context.report(`endpoint ${resources.endpointName} exists with another configuration: updating it`);
    // Application Auto Scaling blocks endpoint updates that change a scaled variant: lift it, re-apply after.
    await removeAutoscaling(context, resources, actions);
    previousConfigName = described.EndpointConfigName;
    await step(`UpdateEndpoint ${resources.endpointName}`, () =>
      sageMaker.send(
        new UpdateEndpointCommand({
          EndpointName: resources.endpointName,
          EndpointConfigName: resources.endpointConfigName,
        }),
      ),
    );
    actions.push(`updated endpoint ${resources.endpointName} to ${resources.endpointConfigName}`);
    context.report(`updating endpoint ${resources.endpointName} to ${resources.endpointConfigName}`);
  }

  const result: DeployResult = {
    name: config.name,
    region: config.region,
    endpointName: resources.endpointName,
    modelName: resources.modelName,
    endpointConfigName: resources.endpointConfigName,
    status:
      described === undefined
        ? "Creating"
        : previousConfigName === undefined
          ? (described.EndpointStatus ?? "Unknown")
          : "Updating",
    actions,
    autoscaling: config.autoscaling ? "pending" : "disabled",
  };
  if (!config.wait) {
    if (config.autoscaling) {
      context.report(
        "--no-wait: autoscaling is applied once the endpoint is InService; rerun the same command with --wait",
      );
    }
    return result;
  }
  const final = await waitForInService(context.clients, resources.endpointName, waitOptions);
  result.status = final.EndpointStatus ?? "InService";
  if (config.autoscaling) {
    await applyAutoscaling(context, config, resources, actions);
    result.autoscaling = "applied";
  }
  if (previousConfigName !== undefined) await removeSuperseded(context, resources, previousConfigName, actions);
  return result;
}

export type DeploymentStatus = {
  name: string;
  region: string;
  exists: boolean;
  status?: string;
  failureReason?: string;
  endpointConfigName?: string;
  createdAt?: string;
  lastModifiedAt?: string;
  variants?: { name: string; instanceType?: string; currentInstanceCount?: number; desiredInstanceCount?: number }[];
  autoscaling?: {
    minInstances?: number;
    maxInstances?: number;
    policy?: { name: string; targetInvocations?: number; scaleInCooldown?: number; scaleOutCooldown?: number };
  } | null;
};

export async function status(config: DeployConfig, rawContext: DeployContext): Promise<DeploymentStatus> {
  const context = withDefaults(rawContext);
  const names = deploymentNames(config);
  const described = await describeEndpoint(context.clients, names.endpointName);
  if (described === undefined) return { name: config.name, region: config.region, exists: false };
  const result: DeploymentStatus = {
    name: config.name,
    region: config.region,
    exists: true,
    status: described.EndpointStatus ?? "Unknown",
    ...(described.FailureReason ? { failureReason: described.FailureReason } : {}),
    ...(described.EndpointConfigName ? { endpointConfigName: described.EndpointConfigName } : {}),
    ...(described.CreationTime ? { createdAt: described.CreationTime.toISOString() } : {}),
    ...(described.LastModifiedTime ? { lastModifiedAt: described.LastModifiedTime.toISOString() } : {}),
  };
  const instanceTypes = new Map<string, string>();
  if (described.EndpointConfigName !== undefined) {
    try {
      const endpointConfig = await context.clients.sageMaker.send(
        new DescribeEndpointConfigCommand({ EndpointConfigName: described.EndpointConfigName }),
      );
      for (const variant of endpointConfig.ProductionVariants ?? []) {
        if (variant.VariantName && variant.InstanceType) instanceTypes.set(variant.VariantName, variant.InstanceType);
      }
    } catch (error) {
      if (!isSageMakerNotFound(error))
        throw awsStepError(`DescribeEndpointConfig ${described.EndpointConfigName}`, error);
    }
  }
  result.variants = (described.ProductionVariants ?? []).map((variant) => {
    const name = variant.VariantName ?? "";
    const instanceType = instanceTypes.get(name);
    return {
      name,
      ...(instanceType === undefined ? {} : { instanceType }),
      ...(variant.CurrentInstanceCount === undefined ? {} : { currentInstanceCount: variant.CurrentInstanceCount }),
      ...(variant.DesiredInstanceCount === undefined ? {} : { desiredInstanceCount: variant.DesiredInstanceCount }),
    };
  });
  const targets = await step("DescribeScalableTargets", () =>
    context.clients.autoScaling.send(
      new DescribeScalableTargetsCommand({
        ServiceNamespace: "sagemaker",
        ResourceIds: [names.resourceId],
        ScalableDimension: "sagemaker:variant:DesiredInstanceCount",
      }),
    ),
  );
  const target = targets.ScalableTargets?.[0];
  if (target === undefined) {
    result.autoscaling = null;
    return result;
  }
  const policies = await step("DescribeScalingPolicies", () =>
    context.clients.autoScaling.send(
      new DescribeScalingPoliciesCommand({ ...scalingTarget(names), PolicyNames: [names.policyName] }),
    ),
  );
  const policy = policies.ScalingPolicies?.[0];
  const tracking = policy?.TargetTrackingScalingPolicyConfiguration;
  result.autoscaling = {
    ...(target.MinCapacity === undefined ? {} : { minInstances: target.MinCapacity }),
    ...(target.MaxCapacity === undefined ? {} : { maxInstances: target.MaxCapacity }),
    ...(policy?.PolicyName === undefined
      ? {}
      : {
          policy: {
            name: policy.PolicyName,
            ...(tracking?.TargetValue === undefined ? {} : { targetInvocations: tracking.TargetValue }),
            ...(tracking?.ScaleInCooldown === undefined ? {} : { scaleInCooldown: tracking.ScaleInCooldown }),
            ...(tracking?.ScaleOutCooldown === undefined ? {} : { scaleOutCooldown: tracking.ScaleOutCooldown }),
          },
        }),
  };
  return result;
}

async function listOwned(
  kind: "models" | "endpointConfigs",
  context: Required<DeployContext>,
  prefix: string,
  owns: (name: string) => boolean,
): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    if (kind === "models") {
      const page = await step("ListModels", () =>
        context.clients.sageMaker.send(
          new ListModelsCommand({ NameContains: prefix, ...(token ? { NextToken: token } : {}) }),
        ),
      );
      names.push(...(page.Models ?? []).flatMap((model) => (model.ModelName ? [model.ModelName] : [])));
      nextToken = page.NextToken;
    } else {
      const page = await step("ListEndpointConfigs", () =>
        context.clients.sageMaker.send(
          new ListEndpointConfigsCommand({ NameContains: prefix, ...(token ? { NextToken: token } : {}) }),
        ),
      );
      names.push(
        ...(page.EndpointConfigs ?? []).flatMap((entry) =>
          entry.EndpointConfigName ? [entry.EndpointConfigName] : [],
        ),
      );
      nextToken = page.NextToken;
    }
  } while (nextToken);
  return names.filter(owns).sort();
}

export type DeleteResult = { name: string; region: string; actions: string[] };

/** Remove everything the deployment created: scaling policy, scalable target, endpoint, endpoint configs, models. */
export async function remove(config: DeployConfig, rawContext: DeployContext): Promise<DeleteResult> {
  const context = withDefaults(rawContext);
  const names = deploymentNames(config);
  const actions: string[] = [];
  const { sageMaker } = context.clients;
  await removeAutoscaling(context, names, actions);
  const described = await describeEndpoint(context.clients, names.endpointName);
  if (described !== undefined && described.EndpointStatus !== "Deleting") {
    await step(`DeleteEndpoint ${names.endpointName}`, () =>
      sageMaker.send(new DeleteEndpointCommand({ EndpointName: names.endpointName })),
    );
    actions.push(`deleted endpoint ${names.endpointName}`);
    context.report(`deleting endpoint ${names.endpointName}`);
  }
  if (described !== undefined && config.wait) {
    await waitForDeletion(context.clients, names.endpointName, {
      timeoutSeconds: config.timeout,
      pollIntervalSeconds: config.pollInterval,
      clock: context.clock,
      report: context.report,
    });
  }
  for (const endpointConfig of await listOwned(
    "endpointConfigs",
    context,
    names.endpointConfigPrefix,
    names.ownsEndpointConfig,
  )) {
    await step(`DeleteEndpointConfig ${endpointConfig}`, () =>
      sageMaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: endpointConfig })),
    );
    actions.push(`deleted endpoint config ${endpointConfig}`);
  }
  for (const model of await listOwned("models", context, names.modelPrefix, names.ownsModel)) {
    await step(`DeleteModel ${model}`, () => sageMaker.send(new DeleteModelCommand({ ModelName: model })));
    actions.push(`deleted model ${model}`);
  }
  if (actions.length === 0) context.report(`nothing to delete for ${config.name} in ${config.region}`);
  for (const action of actions) context.report(action);
  return { name: config.name, region: config.region, actions };
}
