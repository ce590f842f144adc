/**
 * What a deployment consists of, computed from the config alone (pure, so tests can check every
 * request): resource names derived deterministically from --name and the content they describe
 * (so re-running create with the same options finds the same resources, and update creates new
 * ones), the CreateModel / CreateEndpointConfig inputs, and the autoscaling inputs.
 */
import { createHash } from "node:crypto";
import type { DeployConfig } from "./config.js";

export const VARIANT_NAME = "AllTraffic";
export const SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount";
export const SERVICE_NAMESPACE = "sagemaker";
export const DEPLOYMENT_TAG = "llm-twin:deployment";

/** The Hugging Face TGI inference image (AWS Deep Learning Container) used with --hf-model-id. */
export const HUGGINGFACE_TGI_IMAGE_TAG = "huggingface-pytorch-tgi-inference:2.4.0-tgi2.3.1-gpu-py311-cu124-ubuntu22.04";

export function huggingFaceTgiImage(region: string): string {
  return `763104351884.dkr.ecr.${region}.amazonaws.com/${HUGGINGFACE_TGI_IMAGE_TAG}`;
}

function shortHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 8);
}

export type ContainerSpec = {
  image: string;
  modelDataUrl?: string;
  environment: Record<string, string>;
};

/** The container of the model: our image, or the Hugging Face TGI image with the reference's token limits. */
export function containerSpec(config: DeployConfig): ContainerSpec {
  const extra = Object.fromEntries(
    config.env.map((entry) => {
      const separator = entry.indexOf("=");
      return [entry.slice(0, separator), entry.slice(separator + 1)];
    }),
  );
  if (config.flavour === "huggingface-tgi") {
    const environment: Record<string, string> = {
      HF_MODEL_ID: config.hfModelId as string,
      SM_NUM_GPUS: String(config.numGpus),
      MAX_INPUT_TOKENS: String(config.maxInputTokens),
      MAX_TOTAL_TOKENS: String(config.maxTotalTokens),
      MAX_BATCH_TOTAL_TOKENS: String(config.maxBatchTotalTokens),
      ...(config.hfToken === undefined ? {} : { HUGGING_FACE_HUB_TOKEN: config.hfToken }),
      ...extra,
    };
    return {
      image: config.image ?? huggingFaceTgiImage(config.region),
      ...(config.modelData === undefined ? {} : { modelDataUrl: config.modelData }),
      environment,
    };
  }
  const environment: Record<string, string> = {
    LLM_TWIN_MAX_INPUT_TOKENS: String(config.maxInputTokens),
    LLM_TWIN_MAX_TOTAL_TOKENS: String(config.maxTotalTokens),
    ...(config.modelUri === undefined ? {} : { LLM_TWIN_MODEL: config.modelUri }),
    ...extra,
  };
  return {
    image: config.image as string,
    ...(config.modelData === undefined ? {} : { modelDataUrl: config.modelData }),
    environment,
  };
}

export type DeploymentResources = {
  endpointName: string;
  modelName: string;
  endpointConfigName: string;
  /** Prefixes and exact patterns of the models and endpoint configs this deployment owns. */
  modelPrefix: string;
  endpointConfigPrefix: string;
  ownsModel(name: string): boolean;
  ownsEndpointConfig(name: string): boolean;
  resourceId: string;
  policyName: string;
};

export function deploymentNames(
  config: Pick<DeployConfig, "name">,
): Omit<DeploymentResources, "modelName" | "endpointConfigName"> {
  const modelPrefix = `${config.name}-mdl-`;
  const endpointConfigPrefix = `${config.name}-cfg-`;
  return {
    endpointName: config.name,
    modelPrefix,
    endpointConfigPrefix,
    ownsModel: (name) => name.startsWith(modelPrefix) && /^[0-9a-f]{8}$/.test(name.slice(modelPrefix.length)),
    ownsEndpointConfig: (name) =>
      name.startsWith(endpointConfigPrefix) && /^[0-9a-f]{8}$/.test(name.slice(endpointConfigPrefix.length)),
    resourceId: `endpoint/${config.name}/variant/${VARIANT_NAME}`,
    policyName: `${config.name}-invocations-per-instance`,
  };
}

export function deploymentResources(config: DeployConfig): DeploymentResources {
  const names = deploymentNames(config);
  const modelName = `${names.modelPrefix}${shortHash({ container: containerSpec(config), role: config.roleArn })}`;
  const endpointConfigName = `${names.endpointConfigPrefix}${shortHash({
    modelName,
    instanceType: config.instanceType,
    instanceCount: config.instanceCount,
    startupTimeout: config.startupTimeout,
  })}`;
  return { ...names, modelName, endpointConfigName };
}

export function tags(config: DeployConfig) {
  return [
    { Key: DEPLOYMENT_TAG, Value: config.name },
    { Key: "managed-by", Value: "llm-twin" },
  ];
}

export function createModelInput(config: DeployConfig, resources: DeploymentResources) {
  const container = containerSpec(config);
  return {
    ModelName: resources.modelName,
    ExecutionRoleArn: config.roleArn as string,
    PrimaryContainer: {
      Image: container.image,
      ...(container.modelDataUrl === undefined ? {} : { ModelDataUrl: container.modelDataUrl }),
      Environment: container.environment,
    },
    Tags: tags(config),
  };
}

export function createEndpointConfigInput(config: DeployConfig, resources: DeploymentResources) {
  return {
    EndpointConfigName: resources.endpointConfigName,
    ProductionVariants: [
      {
        VariantName: VARIANT_NAME,
        ModelName: resources.modelName,
        InstanceType: config.instanceType as never,
        InitialInstanceCount: config.instanceCount,
        InitialVariantWeight: 1,
        ContainerStartupHealthCheckTimeoutInSeconds: config.startupTimeout,
      },
    ],
    Tags: tags(config),
  };
}

export function registerScalableTargetInput(config: DeployConfig, resources: Pick<DeploymentResources, "resourceId">) {
  return {
    ServiceNamespace: SERVICE_NAMESPACE as "sagemaker",
    ResourceId: resources.resourceId,
    ScalableDimension: SCALABLE_DIMENSION as "sagemaker:variant:DesiredInstanceCount",
    MinCapacity: config.minInstances,
    MaxCapacity: config.maxInstances,
  };
}

export function putScalingPolicyInput(
  config: DeployConfig,
  resources: Pick<DeploymentResources, "resourceId" | "policyName">,
) {
  return {
    PolicyName: resources.policyName,
    ServiceNamespace: SERVICE_NAMESPACE as "sagemaker",
    ResourceId: resources.resourceId,
    ScalableDimension: SCALABLE_DIMENSION as "sagemaker:variant:DesiredInstanceCount",
    PolicyType: "TargetTrackingScaling" as const,
    TargetTrackingScalingPolicyConfiguration: {
      TargetValue: config.targetInvocations,
      PredefinedMetricSpecification: { PredefinedMetricType: "SageMakerVariantInvocationsPerInstance" as const },
      ScaleInCooldown: config.scaleInCooldown,
      ScaleOutCooldown: config.scaleOutCooldown,
    },
  };
}
