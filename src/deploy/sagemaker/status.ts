/** status: the endpoint's state, instances and autoscaling. */
import {
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from "@aws-sdk/client-application-auto-scaling";
import { DescribeEndpointConfigCommand } from "@aws-sdk/client-sagemaker";
import { awsStepError, isSageMakerNotFound } from "./aws.js";
import type { DeployConfig } from "./config.js";
import { deploymentNames } from "./resources.js";
import { type DeployContext, scalingTarget, step, withDefaults } from "./steps.js";
import { describeEndpoint } from "./wait.js";

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
