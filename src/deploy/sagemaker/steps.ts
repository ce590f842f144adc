/** Shared plumbing of the deploy operations: the context, AWS calls that name their step, autoscaling removal. */
import { DeleteScalingPolicyCommand, DeregisterScalableTargetCommand } from "@aws-sdk/client-application-auto-scaling";
import { awsStepError, type DeployClients, isAutoScalingNotFound, isSageMakerNotFound } from "./aws.js";
import { type DeploymentResources, SCALABLE_DIMENSION, SERVICE_NAMESPACE } from "./resources.js";
import { type Clock, systemClock } from "./wait.js";

export type DeployContext = {
  clients: DeployClients;
  clock?: Clock;
  /** Progress lines (the CLI writes them to stderr). */
  report?: (line: string) => void;
};

export async function step<T>(description: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw awsStepError(description, error);
  }
}

export async function exists(description: string, operation: () => Promise<unknown>): Promise<boolean> {
  try {
    await operation();
    return true;
  } catch (error) {
    if (isSageMakerNotFound(error)) return false;
    throw awsStepError(description, error);
  }
}

export const scalingTarget = (resources: Pick<DeploymentResources, "resourceId">) => ({
  ServiceNamespace: SERVICE_NAMESPACE as "sagemaker",
  ResourceId: resources.resourceId,
  ScalableDimension: SCALABLE_DIMENSION as "sagemaker:variant:DesiredInstanceCount",
});

/** Delete the scaling policy and deregister the scalable target; returns what existed. */
export async function removeAutoscaling(
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

export function withDefaults(context: DeployContext): Required<DeployContext> {
  return { clients: context.clients, clock: context.clock ?? systemClock, report: context.report ?? (() => undefined) };
}

/**
 * create: model → endpoint config → endpoint (created, or updated when it exists with another
 * config) → wait for InService → autoscaling. update: the same, but the endpoint must exist.
 */
