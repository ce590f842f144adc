/**
 * The options of `llm-twin deploy sagemaker`: each one's flag, environment variable, default and
 * zod type (the schema `resolveDeployConfig` in ./config.ts validates with).
 */
import { z } from "zod";
import type { Setting } from "../../config/settings.js";

const RESOURCE_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
/** Longest --name that leaves room for the "-cfg-xxxxxxxx" suffix within SageMaker's 63 characters. */
export const MAX_NAME_LENGTH = 50;

const integer = (minimum: number) => z.coerce.number().int().min(minimum);

export const deployConfigSchema = z
  .object({
    name: z
      .string()
      .max(MAX_NAME_LENGTH)
      .regex(RESOURCE_NAME, "letters, digits and hyphens, starting and ending with a letter or digit"),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as eu-central-1"),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, "an IAM role ARN")
      .optional(),
    image: z.string().min(1).optional(),
    modelData: z
      .string()
      .regex(/^s3:\/\/.+/, "an s3:// URI")
      .optional(),
    modelUri: z.string().min(1).optional(),
    hfModelId: z
      .string()
      .regex(/^[\w.-]+(\/[\w.-]+)?$/, "a Hugging Face model id such as user/model")
      .optional(),
    hfToken: z.string().min(1).optional(),
    numGpus: integer(0),
    instanceType: z
      .string()
      .regex(/^ml\.[a-z0-9-]+\.[a-z0-9]+$/, "a SageMaker instance type such as ml.g5.2xlarge")
      .optional(),
    instanceCount: integer(1),
    minInstances: integer(1),
    maxInstances: integer(1),
    targetInvocations: z.coerce.number().positive(),
    scaleInCooldown: integer(0),
    scaleOutCooldown: integer(0),
    maxInputTokens: integer(1),
    maxTotalTokens: integer(2),
    maxBatchTotalTokens: integer(1),
    startupTimeout: integer(60).max(3600),
    timeout: integer(1),
    pollInterval: integer(1),
    wait: z.boolean(),
    autoscaling: z.boolean(),
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=.*$/, "KEY=VALUE")),
  })
  .strict();

/** The single list that the CLI, the validation messages and docs/deploy-sagemaker.md follow. */
export const DEPLOY_OPTIONS = [
  {
    key: "name",
    flag: "--name <name>",
    env: "LLM_TWIN_SAGEMAKER_NAME",
    schema: deployConfigSchema.shape.name,
    help: "endpoint name; model and endpoint-config names derive from it",
    defaultText: "llm-twin",
  },
  {
    key: "region",
    flag: "--region <region>",
    env: "LLM_TWIN_SAGEMAKER_REGION",
    schema: deployConfigSchema.shape.region,
    help: "AWS region",
    defaultText: "AWS_REGION, AWS_DEFAULT_REGION, else eu-central-1",
  },
  {
    key: "roleArn",
    flag: "--role-arn <arn>",
    env: "LLM_TWIN_SAGEMAKER_ROLE_ARN",
    schema: deployConfigSchema.shape.roleArn,
    help: "IAM execution role SageMaker assumes",
    defaultText: "none (required by create/update)",
  },
  {
    key: "image",
    flag: "--image <uri>",
    env: "LLM_TWIN_SAGEMAKER_IMAGE",
    schema: deployConfigSchema.shape.image,
    help: "container image URI (our llm image in ECR; with --hf-model-id the Hugging Face TGI image of the region)",
    defaultText:
      "our image: required; with --hf-model-id: huggingface-pytorch-tgi-inference:2.4.0-tgi2.3.1-gpu-py311-cu124-ubuntu22.04 of the region",
  },
  {
    key: "modelData",
    flag: "--model-data <s3-uri>",
    env: "LLM_TWIN_SAGEMAKER_MODEL_DATA",
    schema: deployConfigSchema.shape.modelData,
    help: "s3://…/model.tar.gz unpacked into /opt/ml/model (our image needs it or --model-uri)",
  },
  {
    key: "modelUri",
    flag: "--model-uri <uri>",
    env: "LLM_TWIN_SAGEMAKER_MODEL_URI",
    schema: deployConfigSchema.shape.modelUri,
    help: "model the container loads at start (hf:…, https://…, or registry:<name>@<version|stage> pinned at deploy time with --registry s3://…), set as LLM_TWIN_MODEL (our image)",
  },
  {
    key: "hfModelId",
    flag: "--hf-model-id <id>",
    env: "LLM_TWIN_SAGEMAKER_HF_MODEL_ID",
    schema: deployConfigSchema.shape.hfModelId,
    help: "Hugging Face model id: deploy the Hugging Face TGI image with HF_MODEL_ID",
  },
  {
    key: "hfToken",
    flag: "--hf-token <token>",
    env: "LLM_TWIN_SAGEMAKER_HF_TOKEN",
    alsoEnv: "HUGGING_FACE_HUB_TOKEN",
    schema: deployConfigSchema.shape.hfToken,
    defaultText: "HUGGING_FACE_HUB_TOKEN",
    help: "token for gated Hugging Face models (TGI image); prefer the variable, a flag shows in the process list",
  },
  {
    key: "numGpus",
    flag: "--num-gpus <n>",
    env: "LLM_TWIN_SAGEMAKER_NUM_GPUS",
    schema: deployConfigSchema.shape.numGpus,
    help: "SM_NUM_GPUS for the TGI image",
    defaultText: "1",
  },
  {
    key: "instanceType",
    flag: "--instance-type <type>",
    env: "LLM_TWIN_SAGEMAKER_INSTANCE_TYPE",
    schema: deployConfigSchema.shape.instanceType,
    help: "instance type",
    defaultText: "ml.g5.2xlarge with --hf-model-id, else ml.c6i.2xlarge",
  },
  {
    key: "instanceCount",
    flag: "--instance-count <n>",
    env: "LLM_TWIN_SAGEMAKER_INSTANCE_COUNT",
    schema: deployConfigSchema.shape.instanceCount,
    help: "initial instances (between min and max when autoscaling)",
    defaultText: "1",
  },
  {
    key: "minInstances",
    flag: "--min-instances <n>",
    env: "LLM_TWIN_SAGEMAKER_MIN_INSTANCES",
    schema: deployConfigSchema.shape.minInstances,
    help: "autoscaling minimum",
    defaultText: "1",
  },
  {
    key: "maxInstances",
    flag: "--max-instances <n>",
    env: "LLM_TWIN_SAGEMAKER_MAX_INSTANCES",
    schema: deployConfigSchema.shape.maxInstances,
    help: "autoscaling maximum",
    defaultText: "2",
  },
  {
    key: "targetInvocations",
    flag: "--target-invocations <n>",
    env: "LLM_TWIN_SAGEMAKER_TARGET_INVOCATIONS",
    schema: deployConfigSchema.shape.targetInvocations,
    help: "target of SageMakerVariantInvocationsPerInstance (invocations per instance per minute)",
    defaultText: "5",
  },
  {
    key: "scaleInCooldown",
    flag: "--scale-in-cooldown <seconds>",
    env: "LLM_TWIN_SAGEMAKER_SCALE_IN_COOLDOWN",
    schema: deployConfigSchema.shape.scaleInCooldown,
    help: "seconds after a scale-in before another",
    defaultText: "300",
  },
  {
    key: "scaleOutCooldown",
    flag: "--scale-out-cooldown <seconds>",
    env: "LLM_TWIN_SAGEMAKER_SCALE_OUT_COOLDOWN",
    schema: deployConfigSchema.shape.scaleOutCooldown,
    help: "seconds after a scale-out before another",
    defaultText: "60",
  },
  {
    key: "maxInputTokens",
    flag: "--max-input-tokens <n>",
    env: "LLM_TWIN_SAGEMAKER_MAX_INPUT_TOKENS",
    schema: deployConfigSchema.shape.maxInputTokens,
    help: "MAX_INPUT_TOKENS of the container",
    defaultText: "1536",
  },
  {
    key: "maxTotalTokens",
    flag: "--max-total-tokens <n>",
    env: "LLM_TWIN_SAGEMAKER_MAX_TOTAL_TOKENS",
    schema: deployConfigSchema.shape.maxTotalTokens,
    help: "MAX_TOTAL_TOKENS (input + new tokens)",
    defaultText: "2048",
  },
  {
    key: "maxBatchTotalTokens",
    flag: "--max-batch-total-tokens <n>",
    env: "LLM_TWIN_SAGEMAKER_MAX_BATCH_TOTAL_TOKENS",
    schema: deployConfigSchema.shape.maxBatchTotalTokens,
    help: "MAX_BATCH_TOTAL_TOKENS (TGI image)",
    defaultText: "2048",
  },
  {
    key: "startupTimeout",
    flag: "--startup-timeout <seconds>",
    env: "LLM_TWIN_SAGEMAKER_STARTUP_TIMEOUT",
    schema: deployConfigSchema.shape.startupTimeout,
    help: "ContainerStartupHealthCheckTimeoutInSeconds (model download and load)",
    defaultText: "900",
  },
  {
    key: "timeout",
    flag: "--timeout <seconds>",
    env: "LLM_TWIN_SAGEMAKER_TIMEOUT",
    schema: deployConfigSchema.shape.timeout,
    help: "how long --wait waits for InService (or deletion)",
    defaultText: "1800",
  },
  {
    key: "pollInterval",
    flag: "--poll-interval <seconds>",
    env: "LLM_TWIN_SAGEMAKER_POLL_INTERVAL",
    schema: deployConfigSchema.shape.pollInterval,
    help: "seconds between DescribeEndpoint polls while waiting",
    defaultText: "15",
  },
  {
    key: "wait",
    flag: "--wait",
    env: "LLM_TWIN_SAGEMAKER_WAIT",
    schema: deployConfigSchema.shape.wait,
    defaultText: "true",
    negatable: "return once the requests are accepted",
    help: "wait for the endpoint (create, update, delete)",
  },
  {
    key: "autoscaling",
    flag: "--autoscaling",
    env: "LLM_TWIN_SAGEMAKER_AUTOSCALING",
    schema: deployConfigSchema.shape.autoscaling,
    defaultText: "true",
    negatable: "leave autoscaling out",
    help: "apply autoscaling (create/update)",
  },
  {
    key: "env",
    flag: "--env <KEY=VALUE...>",
    env: "LLM_TWIN_SAGEMAKER_ENV",
    schema: deployConfigSchema.shape.env,
    repeatable: true,
    keepCommas: true,
    defaultText: "none",
    help: "extra container environment variable (repeatable; the variable: comma-separated)",
  },
  // Model registry (issue 18): --model-uri registry:<name>@<version|stage>; read by the CLI, not part of DeployConfig.
  {
    key: "registry",
    flag: "--registry <s3://bucket/prefix>",
    env: "LLM_TWIN_REGISTRY",
    schema: z.string().min(1).optional(),
    defaultText: "none",
    help: "the model registry of --model-uri registry:<name>@<version|stage> (pinned at deploy time, read by the container; create/update)",
  },
  {
    key: "json",
    flag: "--json",
    env: "LLM_TWIN_JSON",
    schema: z.boolean().optional(),
    defaultText: "false",
    help: "print one JSON object on stdout (progress stays on stderr)",
  },
] as const satisfies readonly Setting[];
