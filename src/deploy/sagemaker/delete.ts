/** delete: everything the deployment created, and nothing else. */
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
} from "@aws-sdk/client-sagemaker";
import type { DeployConfig } from "./config.js";
import { deploymentNames } from "./resources.js";
import { type DeployContext, removeAutoscaling, step, withDefaults } from "./steps.js";
import { describeEndpoint, waitForDeletion } from "./wait.js";

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
