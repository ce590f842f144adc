/** AWS clients of a deployment, and the error helpers the operations share. */
import { ApplicationAutoScalingClient } from "@aws-sdk/client-application-auto-scaling";
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import { silenceAwsNodeVersionWarning } from "../../config/aws-sdk.js";
import { AppError, isAppError } from "../../errors/index.js";

export type DeployClients = {
  sageMaker: SageMakerClient;
  autoScaling: ApplicationAutoScalingClient;
};

export function createDeployClients(region: string): DeployClients {
  silenceAwsNodeVersionWarning();
  return { sageMaker: new SageMakerClient({ region }), autoScaling: new ApplicationAutoScalingClient({ region }) };
}

export function destroyDeployClients(clients: DeployClients): void {
  clients.sageMaker.destroy();
  clients.autoScaling.destroy();
}

function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown })?.name;
  return typeof name === "string" ? name : undefined;
}

/** SageMaker answers Describe* of a missing resource with a ValidationException "Could not find …". */
export function isSageMakerNotFound(error: unknown): boolean {
  const name = errorName(error);
  if (name === "ResourceNotFound") return true;
  return name === "ValidationException" && /could not find/i.test(String((error as Error).message));
}

export function isAutoScalingNotFound(error: unknown): boolean {
  return errorName(error) === "ObjectNotFoundException";
}

/** Wrap an AWS error into an AppError that says which step failed; AWS's message goes in the text (operator CLI). */
export function awsStepError(step: string, error: unknown): AppError {
  if (isAppError(error)) return error;
  const name = errorName(error) ?? "Error";
  const message = error instanceof Error ? error.message : String(error);
  if (name === "CredentialsProviderError") {
    return new AppError("configuration_error", `${step}: no AWS credentials found (${message})`, { cause: error });
  }
  return new AppError("upstream_error", `${step} failed: ${name}: ${message}`, { cause: error, retryable: false });
}
