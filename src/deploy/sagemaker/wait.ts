/** Polling DescribeEndpoint until a terminal state, with progress lines and a deadline. */
import { DescribeEndpointCommand, type DescribeEndpointCommandOutput } from "@aws-sdk/client-sagemaker";
import { AppError } from "../../errors/index.js";
import { awsStepError, type DeployClients, isSageMakerNotFound } from "./aws.js";

export type Clock = {
  now(): number;
  sleep(milliseconds: number): Promise<void>;
};

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
};

export type WaitOptions = {
  timeoutSeconds: number;
  pollIntervalSeconds: number;
  clock: Clock;
  report: (line: string) => void;
};

function elapsed(startedAt: number, clock: Clock): string {
  const seconds = Math.round((clock.now() - startedAt) / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m ${seconds % 60}s` : `${seconds}s`;
}

/** Describe the endpoint, or undefined when it does not exist. */
export async function describeEndpoint(
  clients: DeployClients,
  name: string,
): Promise<DescribeEndpointCommandOutput | undefined> {
  try {
    return await clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }));
  } catch (error) {
    if (isSageMakerNotFound(error)) return undefined;
    throw awsStepError(`DescribeEndpoint ${name}`, error);
  }
}

/** Wait until the endpoint is InService; Failed (with SageMaker's reason) and the deadline are errors. */
export async function waitForInService(
  clients: DeployClients,
  name: string,
  options: WaitOptions,
): Promise<DescribeEndpointCommandOutput> {
  const startedAt = options.clock.now();
  const deadline = startedAt + options.timeoutSeconds * 1000;
  let lastStatus: string | undefined;
  for (;;) {
    const described = await describeEndpoint(clients, name);
    if (described === undefined) {
      throw new AppError("upstream_error", `Endpoint ${name} disappeared while waiting for it`);
    }
    const status = described.EndpointStatus ?? "Unknown";
    if (status !== lastStatus) options.report(`endpoint ${name}: ${status} (${elapsed(startedAt, options.clock)})`);
    else options.report(`endpoint ${name}: still ${status} (${elapsed(startedAt, options.clock)})`);
    lastStatus = status;
    if (status === "InService") return described;
    if (status === "Failed" || status === "OutOfService" || status === "Deleting") {
      throw new AppError(
        "upstream_error",
        `Endpoint ${name} is ${status}${described.FailureReason ? `: ${described.FailureReason}` : ""}`,
        { details: { status } },
      );
    }
    if (options.clock.now() + options.pollIntervalSeconds * 1000 > deadline) {
      throw new AppError(
        "timeout",
        `Endpoint ${name} is still ${status} after ${options.timeoutSeconds} s (--timeout); it keeps going: check with 'llm-twin deploy sagemaker status --name ${name}'`,
        { retryable: false },
      );
    }
    await options.clock.sleep(options.pollIntervalSeconds * 1000);
  }
}

/** Wait until the endpoint no longer exists. */
export async function waitForDeletion(clients: DeployClients, name: string, options: WaitOptions): Promise<void> {
  const startedAt = options.clock.now();
  const deadline = startedAt + options.timeoutSeconds * 1000;
  for (;;) {
    const described = await describeEndpoint(clients, name);
    if (described === undefined) {
      options.report(`endpoint ${name}: deleted (${elapsed(startedAt, options.clock)})`);
      return;
    }
    options.report(`endpoint ${name}: ${described.EndpointStatus ?? "Unknown"} (${elapsed(startedAt, options.clock)})`);
    if (options.clock.now() + options.pollIntervalSeconds * 1000 > deadline) {
      throw new AppError("timeout", `Endpoint ${name} still exists after ${options.timeoutSeconds} s (--timeout)`, {
        retryable: false,
      });
    }
    await options.clock.sleep(options.pollIntervalSeconds * 1000);
  }
}
