/**
 * Test support for the SageMaker deployment: SageMaker and Application Auto Scaling clients whose
 * requests are answered by aws-sdk-client-mock (AWS cannot be reached from tests), a clock that
 * records sleeps instead of waiting, and the "not found" errors AWS answers with.
 */
import { ApplicationAutoScalingClient, ObjectNotFoundException } from "@aws-sdk/client-application-auto-scaling";
import { SageMakerClient, SageMakerServiceException } from "@aws-sdk/client-sagemaker";
import { mockClient } from "aws-sdk-client-mock";
import type { Clock } from "../deploy/sagemaker/wait.js";

export const TEST_ROLE_ARN = "arn:aws:iam::123456789012:role/llm-twin-sagemaker";

/** Deployment input for a Hugging Face model (what `llm-twin deploy sagemaker create` would receive). */
export const HUGGING_FACE_DEPLOY_INPUT = {
  name: "twin",
  region: "eu-central-1",
  roleArn: TEST_ROLE_ARN,
  hfModelId: "mlabonne/TwinLlama-3.1-8B-DPO",
  pollInterval: "10",
  timeout: "600",
};

export function mockedAwsClients() {
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  const sageMakerClient = new SageMakerClient({ region: "eu-central-1", credentials });
  const autoScalingClient = new ApplicationAutoScalingClient({ region: "eu-central-1", credentials });
  const sageMaker = mockClient(sageMakerClient);
  const autoScaling = mockClient(autoScalingClient);
  return {
    sageMaker,
    autoScaling,
    clients: { sageMaker: sageMakerClient, autoScaling: autoScalingClient },
    reset(): void {
      sageMaker.reset();
      autoScaling.reset();
    },
  };
}

export function fakeClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    async sleep(milliseconds) {
      sleeps.push(milliseconds);
      now += milliseconds;
    },
  };
}

export const notFound = (what: string) =>
  new SageMakerServiceException({
    name: "ValidationException",
    $fault: "client",
    $metadata: {},
    message: `Could not find ${what}`,
  });

export const objectNotFound = () =>
  new ObjectNotFoundException({ $metadata: {}, message: "No scalable target registered" });
