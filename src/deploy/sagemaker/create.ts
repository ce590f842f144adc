/**
 * create and update: model → endpoint config → endpoint (created, or updated when it exists with
 * another config) → wait for InService → autoscaling → superseded config and model removed.
 */
import { PutScalingPolicyCommand, RegisterScalableTargetCommand } from "@aws-sdk/client-application-auto-scaling";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  UpdateEndpointCommand,
} from "@aws-sdk/client-sagemaker";
import { AppError } from "../../errors/index.js";
import { awsStepError, isSageMakerNotFound } from "./aws.js";
import type { DeployConfig } from "./config.js";
import {
  createEndpointConfigInput,
  createModelInput,
  type DeploymentResources,
  deploymentResources,
  putScalingPolicyInput,
  registerScalableTargetInput,
  tags,
} from "./resources.js";
import { type DeployContext, exists, removeAutoscaling, step, withDefaults } from "./steps.js";
import { describeEndpoint, waitForInService } from "./wait.js";

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
