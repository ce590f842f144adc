/**
 * Configuration of `llm-twin deploy sagemaker`: the options (./options.ts) merged with the AWS
 * region variables and the defaults, validated once with zod (errors name the flag and the variable).
 */
import type { z } from "zod";
import { settingName } from "../../config/settings.js";
import { AppError } from "../../errors/index.js";
import { definedOnly } from "../../util/index.js";
import { DEPLOY_OPTIONS, deployConfigSchema } from "./options.js";

export type DeployConfigInput = {
  name?: string | undefined;
  region?: string | undefined;
  roleArn?: string | undefined;
  image?: string | undefined;
  modelData?: string | undefined;
  modelUri?: string | undefined;
  hfModelId?: string | undefined;
  hfToken?: string | undefined;
  numGpus?: string | number | undefined;
  instanceType?: string | undefined;
  instanceCount?: string | number | undefined;
  minInstances?: string | number | undefined;
  maxInstances?: string | number | undefined;
  targetInvocations?: string | number | undefined;
  scaleInCooldown?: string | number | undefined;
  scaleOutCooldown?: string | number | undefined;
  maxInputTokens?: string | number | undefined;
  maxTotalTokens?: string | number | undefined;
  maxBatchTotalTokens?: string | number | undefined;
  startupTimeout?: string | number | undefined;
  timeout?: string | number | undefined;
  pollInterval?: string | number | undefined;
  wait?: boolean | undefined;
  autoscaling?: boolean | undefined;
  /** Extra container environment, KEY=VALUE. */
  env?: readonly string[] | undefined;
};

export type DeployConfig = Omit<z.infer<typeof deployConfigSchema>, "instanceType"> & {
  instanceType: string;
  /** "huggingface-tgi" with --hf-model-id, "llm-twin" otherwise. */
  flavour: "huggingface-tgi" | "llm-twin";
};

const DEFAULTS = {
  name: "llm-twin",
  region: "eu-central-1",
  numGpus: 1,
  instanceCount: 1,
  minInstances: 1,
  maxInstances: 2,
  targetInvocations: 5,
  scaleInCooldown: 300,
  scaleOutCooldown: 60,
  maxInputTokens: 1536,
  maxTotalTokens: 2048,
  maxBatchTotalTokens: 2048,
  startupTimeout: 900,
  timeout: 1800,
  pollInterval: 15,
  wait: true,
  autoscaling: true,
};

function describeKey(key: string): string {
  const setting = DEPLOY_OPTIONS.find((option) => option.key === key);
  return setting === undefined ? key : settingName(setting);
}

function parseBoolean(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === "") return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new AppError("configuration_error", `${name} must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * Merge flags (already merged with their env variables by the CLI), the AWS region variables,
 * and defaults; validate. `purpose` decides what is required (a role and an image to create).
 */
export function resolveDeployConfig(
  input: DeployConfigInput,
  purpose: "create" | "update" | "status" | "delete",
  environment: NodeJS.ProcessEnv = process.env,
): DeployConfig {
  const merged = {
    ...DEFAULTS,
    env: [],
    ...definedOnly(input),
    region: input.region ?? environment.AWS_REGION ?? environment.AWS_DEFAULT_REGION ?? DEFAULTS.region,
    hfToken: input.hfToken ?? environment.LLM_TWIN_SAGEMAKER_HF_TOKEN ?? environment.HUGGING_FACE_HUB_TOKEN,
    wait: input.wait ?? parseBoolean(environment.LLM_TWIN_SAGEMAKER_WAIT, "LLM_TWIN_SAGEMAKER_WAIT") ?? DEFAULTS.wait,
    autoscaling:
      input.autoscaling ??
      parseBoolean(environment.LLM_TWIN_SAGEMAKER_AUTOSCALING, "LLM_TWIN_SAGEMAKER_AUTOSCALING") ??
      DEFAULTS.autoscaling,
  };
  if (merged.hfToken === undefined) delete (merged as { hfToken?: string }).hfToken;
  const parsed = deployConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path[0];
    const what = key === undefined ? "deploy options" : describeKey(String(key));
    throw new AppError("configuration_error", `Invalid ${what}: ${issue?.message ?? "invalid value"}`);
  }
  const value = parsed.data;
  const flavour = value.hfModelId === undefined ? "llm-twin" : "huggingface-tgi";
  const config: DeployConfig = {
    ...value,
    flavour,
    instanceType: value.instanceType ?? (flavour === "huggingface-tgi" ? "ml.g5.2xlarge" : "ml.c6i.2xlarge"),
  };
  if (config.minInstances > config.maxInstances) {
    throw new AppError(
      "configuration_error",
      `--min-instances (${config.minInstances}) is above --max-instances (${config.maxInstances})`,
    );
  }
  if (
    config.autoscaling &&
    (config.instanceCount < config.minInstances || config.instanceCount > config.maxInstances)
  ) {
    throw new AppError(
      "configuration_error",
      `--instance-count (${config.instanceCount}) must lie between --min-instances (${config.minInstances}) and --max-instances (${config.maxInstances})`,
    );
  }
  if (config.maxInputTokens >= config.maxTotalTokens) {
    throw new AppError(
      "configuration_error",
      `--max-input-tokens (${config.maxInputTokens}) must be below --max-total-tokens (${config.maxTotalTokens})`,
    );
  }
  if (purpose === "create" || purpose === "update") {
    if (config.roleArn === undefined) {
      throw new AppError("configuration_error", `${describeKey("roleArn")} is required to ${purpose} a deployment`);
    }
    if (config.flavour === "llm-twin" && config.image === undefined) {
      throw new AppError(
        "configuration_error",
        `${describeKey("image")} is required (the llm-twin LLM image pushed to ECR), or pass --hf-model-id to use the Hugging Face TGI image`,
      );
    }
    if (config.flavour === "llm-twin" && config.modelData === undefined && config.modelUri === undefined) {
      throw new AppError(
        "configuration_error",
        `Give the model: ${describeKey("modelData")} or ${describeKey("modelUri")}`,
      );
    }
  }
  return config;
}
