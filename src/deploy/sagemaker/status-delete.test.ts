// AWS cannot be reached from these machines: every test checks the exact requests sent to mocked
// SageMaker and Application Auto Scaling clients (aws-sdk-client-mock) and how answers are handled.
import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from "@aws-sdk/client-application-auto-scaling";
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
} from "@aws-sdk/client-sagemaker";
import { Command } from "commander";
import { beforeEach, describe, expect, it } from "vitest";
import { registerDeployCommand } from "../../cli/commands/deploy.js";
import {
  fakeClock,
  mockedAwsClients,
  notFound,
  objectNotFound,
  TEST_ROLE_ARN as ROLE,
} from "../../testing/mocked-sagemaker.js";
import { resolveDeployConfig } from "./config.js";
import { remove, status } from "./operations.js";

const { sageMaker, autoScaling, clients, reset } = mockedAwsClients();

beforeEach(reset);

describe("deploy sagemaker status and delete", () => {
  it("status reports state, instances and autoscaling; missing endpoints are reported as such", async () => {
    const config = resolveDeployConfig({ name: "twin" }, "status", {});
    sageMaker.on(DescribeEndpointCommand).resolves({
      EndpointStatus: "InService",
      EndpointConfigName: "twin-cfg-12345678",
      ProductionVariants: [{ VariantName: "AllTraffic", CurrentInstanceCount: 2, DesiredInstanceCount: 2 }],
      LastModifiedTime: new Date("2026-01-01T00:00:00Z"),
    } as never);
    sageMaker
      .on(DescribeEndpointConfigCommand)
      .resolves({ ProductionVariants: [{ VariantName: "AllTraffic", InstanceType: "ml.g5.2xlarge" }] } as never);
    autoScaling
      .on(DescribeScalableTargetsCommand)
      .resolves({ ScalableTargets: [{ MinCapacity: 1, MaxCapacity: 4 }] } as never);
    autoScaling.on(DescribeScalingPoliciesCommand).resolves({
      ScalingPolicies: [
        {
          PolicyName: "twin-invocations-per-instance",
          TargetTrackingScalingPolicyConfiguration: { TargetValue: 5, ScaleInCooldown: 300, ScaleOutCooldown: 60 },
        },
      ],
    } as never);
    expect(await status(config, { clients })).toEqual({
      name: "twin",
      region: "eu-central-1",
      exists: true,
      status: "InService",
      endpointConfigName: "twin-cfg-12345678",
      lastModifiedAt: "2026-01-01T00:00:00.000Z",
      variants: [
        { name: "AllTraffic", instanceType: "ml.g5.2xlarge", currentInstanceCount: 2, desiredInstanceCount: 2 },
      ],
      autoscaling: {
        minInstances: 1,
        maxInstances: 4,
        policy: {
          name: "twin-invocations-per-instance",
          targetInvocations: 5,
          scaleInCooldown: 300,
          scaleOutCooldown: 60,
        },
      },
    });
    expect(autoScaling.commandCalls(DescribeScalableTargetsCommand)[0]?.args[0].input).toEqual({
      ServiceNamespace: "sagemaker",
      ResourceIds: ["endpoint/twin/variant/AllTraffic"],
      ScalableDimension: "sagemaker:variant:DesiredInstanceCount",
    });

    sageMaker.reset();
    sageMaker.on(DescribeEndpointCommand).rejects(notFound("endpoint"));
    expect(await status(config, { clients })).toEqual({ name: "twin", region: "eu-central-1", exists: false });
  });

  it("delete removes the policy, target, endpoint (waiting for it), and only this deployment's configs and models", async () => {
    const config = resolveDeployConfig({ name: "twin", pollInterval: "5" }, "delete", {});
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce({ EndpointStatus: "InService" } as never)
      .resolvesOnce({ EndpointStatus: "Deleting" } as never)
      .rejects(notFound("endpoint"));
    sageMaker
      .on(ListEndpointConfigsCommand)
      .resolvesOnce({ EndpointConfigs: [{ EndpointConfigName: "twin-cfg-aaaaaaaa" }], NextToken: "page2" } as never)
      .resolves({
        EndpointConfigs: [
          { EndpointConfigName: "twin-cfg-bbbbbbbb" },
          { EndpointConfigName: "other-twin-cfg-cccccccc" },
        ],
      } as never);
    sageMaker
      .on(ListModelsCommand)
      .resolves({ Models: [{ ModelName: "twin-mdl-aaaaaaaa" }, { ModelName: "twin-mdl-custom" }] } as never);
    const result = await remove(config, { clients, clock: fakeClock() });
    expect(autoScaling.commandCalls(DeleteScalingPolicyCommand)[0]?.args[0].input).toEqual({
      PolicyName: "twin-invocations-per-instance",
      ServiceNamespace: "sagemaker",
      ResourceId: "endpoint/twin/variant/AllTraffic",
      ScalableDimension: "sagemaker:variant:DesiredInstanceCount",
    });
    expect(autoScaling.commandCalls(DeregisterScalableTargetCommand)).toHaveLength(1);
    expect(sageMaker.commandCalls(DeleteEndpointCommand)[0]?.args[0].input).toEqual({ EndpointName: "twin" });
    expect(sageMaker.commandCalls(ListEndpointConfigsCommand)[1]?.args[0].input).toEqual({
      NameContains: "twin-cfg-",
      NextToken: "page2",
    });
    expect(
      sageMaker.commandCalls(DeleteEndpointConfigCommand).map((call) => call.args[0].input.EndpointConfigName),
    ).toEqual(["twin-cfg-aaaaaaaa", "twin-cfg-bbbbbbbb"]);
    expect(sageMaker.commandCalls(DeleteModelCommand).map((call) => call.args[0].input.ModelName)).toEqual([
      "twin-mdl-aaaaaaaa",
    ]);
    expect(result.actions).toHaveLength(6);
  });

  it("delete of a deployment that is already gone succeeds and deletes nothing", async () => {
    const config = resolveDeployConfig({ name: "twin" }, "delete", {});
    autoScaling.on(DeleteScalingPolicyCommand).rejects(objectNotFound());
    autoScaling.on(DeregisterScalableTargetCommand).rejects(objectNotFound());
    sageMaker.on(DescribeEndpointCommand).rejects(notFound("endpoint"));
    sageMaker.on(ListEndpointConfigsCommand).resolves({ EndpointConfigs: [] } as never);
    sageMaker.on(ListModelsCommand).resolves({ Models: [] } as never);
    expect((await remove(config, { clients })).actions).toEqual([]);
    expect(sageMaker.commandCalls(DeleteEndpointCommand)).toHaveLength(0);
  });
});

describe("llm-twin deploy sagemaker (command line)", () => {
  async function run(argv: string[], environment: Record<string, string> = {}) {
    const saved = { ...process.env };
    Object.assign(process.env, environment);
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command("llm-twin").exitOverride();
    registerDeployCommand(program, {
      createClients: () => clients,
      clock: fakeClock(),
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
    });
    try {
      await program.parseAsync(["node", "llm-twin", "deploy", "sagemaker", ...argv]);
    } finally {
      process.env = saved;
    }
    return { stdout: out.join(""), stderr: err.join("") };
  }

  it("status --json prints one JSON object; flags come from LLM_TWIN_SAGEMAKER_* variables", async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(notFound("endpoint"));
    const { stdout } = await run(["status", "--json"], {
      LLM_TWIN_SAGEMAKER_NAME: "from-env",
      LLM_TWIN_SAGEMAKER_REGION: "us-east-1",
    });
    expect(JSON.parse(stdout)).toEqual({ name: "from-env", region: "us-east-1", exists: false });
    expect(sageMaker.commandCalls(DescribeEndpointCommand)[0]?.args[0].input).toEqual({ EndpointName: "from-env" });
  });

  it("create --no-wait with flags sends the flag values", async () => {
    sageMaker.on(DescribeEndpointCommand).rejects(notFound("endpoint"));
    sageMaker.on(DescribeModelCommand).rejects(notFound("model"));
    sageMaker.on(DescribeEndpointConfigCommand).rejects(notFound("endpoint configuration"));
    const { stdout, stderr } = await run([
      "create",
      "--name",
      "twin",
      "--role-arn",
      ROLE,
      "--hf-model-id",
      "user/model",
      "--instance-type",
      "ml.g5.xlarge",
      "--max-input-tokens",
      "1000",
      "--max-total-tokens",
      "1500",
      "--env",
      "A=1",
      "--env",
      "B=2",
      "--no-wait",
      "--json",
    ]);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ endpointName: "twin", status: "Creating", autoscaling: "pending" });
    expect(stderr).toContain("created endpoint twin");
    const model = sageMaker.commandCalls(CreateModelCommand)[0]?.args[0].input;
    expect(model?.PrimaryContainer?.Environment).toMatchObject({
      MAX_INPUT_TOKENS: "1000",
      MAX_TOTAL_TOKENS: "1500",
      A: "1",
      B: "2",
    });
    expect(
      sageMaker.commandCalls(CreateEndpointConfigCommand)[0]?.args[0].input.ProductionVariants?.[0]?.InstanceType,
    ).toBe("ml.g5.xlarge");
  });
});
