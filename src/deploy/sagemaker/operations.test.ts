// AWS cannot be reached from these machines: every test checks the exact requests sent to mocked
// SageMaker and Application Auto Scaling clients (aws-sdk-client-mock) and how answers are handled.
import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from "@aws-sdk/client-application-auto-scaling";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  SageMakerServiceException,
  UpdateEndpointCommand,
} from "@aws-sdk/client-sagemaker";
import { beforeEach, describe, expect, it } from "vitest";
import {
  fakeClock,
  HUGGING_FACE_DEPLOY_INPUT as hfInput,
  mockedAwsClients,
  notFound,
  TEST_ROLE_ARN as ROLE,
} from "../../testing/mocked-sagemaker.js";
import { resolveDeployConfig } from "./config.js";
import { deploy } from "./operations.js";
import { createModelInput, deploymentResources, huggingFaceTgiImage } from "./resources.js";

const { sageMaker, autoScaling, clients, reset } = mockedAwsClients();

beforeEach(reset);

describe("deploy sagemaker create", () => {
  it("creates model, endpoint config and endpoint from scratch, waits, then applies autoscaling — with the exact requests", async () => {
    const config = resolveDeployConfig(hfInput, "create", {});
    const resources = deploymentResources(config);
    sageMaker
      .on(DescribeEndpointCommand)
      .rejectsOnce(notFound("endpoint"))
      .resolvesOnce({ EndpointStatus: "Creating" } as never)
      .resolvesOnce({ EndpointStatus: "Creating" } as never)
      .resolves({ EndpointStatus: "InService", EndpointConfigName: resources.endpointConfigName } as never);
    sageMaker.on(DescribeModelCommand).rejects(notFound("model"));
    sageMaker.on(DescribeEndpointConfigCommand).rejects(notFound("endpoint configuration"));
    const clock = fakeClock();
    const progress: string[] = [];
    const result = await deploy("create", config, { clients, clock, report: (line) => progress.push(line) });

    expect(resources.modelName).toMatch(/^twin-mdl-[0-9a-f]{8}$/);
    expect(resources.endpointConfigName).toMatch(/^twin-cfg-[0-9a-f]{8}$/);
    expect(sageMaker.commandCalls(CreateModelCommand)[0]?.args[0].input).toEqual({
      ModelName: resources.modelName,
      ExecutionRoleArn: ROLE,
      PrimaryContainer: {
        Image: huggingFaceTgiImage("eu-central-1"),
        Environment: {
          HF_MODEL_ID: "mlabonne/TwinLlama-3.1-8B-DPO",
          SM_NUM_GPUS: "1",
          MAX_INPUT_TOKENS: "1536",
          MAX_TOTAL_TOKENS: "2048",
          MAX_BATCH_TOTAL_TOKENS: "2048",
        },
      },
      Tags: [
        { Key: "llm-twin:deployment", Value: "twin" },
        { Key: "managed-by", Value: "llm-twin" },
      ],
    });
    expect(sageMaker.commandCalls(CreateEndpointConfigCommand)[0]?.args[0].input).toEqual({
      EndpointConfigName: resources.endpointConfigName,
      ProductionVariants: [
        {
          VariantName: "AllTraffic",
          ModelName: resources.modelName,
          InstanceType: "ml.g5.2xlarge",
          InitialInstanceCount: 1,
          InitialVariantWeight: 1,
          ContainerStartupHealthCheckTimeoutInSeconds: 900,
        },
      ],
      Tags: expect.any(Array),
    });
    expect(sageMaker.commandCalls(CreateEndpointCommand)[0]?.args[0].input).toEqual({
      EndpointName: "twin",
      EndpointConfigName: resources.endpointConfigName,
      Tags: expect.any(Array),
    });
    expect(autoScaling.commandCalls(RegisterScalableTargetCommand)[0]?.args[0].input).toEqual({
      ServiceNamespace: "sagemaker",
      ResourceId: "endpoint/twin/variant/AllTraffic",
      ScalableDimension: "sagemaker:variant:DesiredInstanceCount",
      MinCapacity: 1,
      MaxCapacity: 2,
    });
    expect(autoScaling.commandCalls(PutScalingPolicyCommand)[0]?.args[0].input).toEqual({
      PolicyName: "twin-invocations-per-instance",
      ServiceNamespace: "sagemaker",
      ResourceId: "endpoint/twin/variant/AllTraffic",
      ScalableDimension: "sagemaker:variant:DesiredInstanceCount",
      PolicyType: "TargetTrackingScaling",
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 5,
        PredefinedMetricSpecification: { PredefinedMetricType: "SageMakerVariantInvocationsPerInstance" },
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
      },
    });
    expect(sageMaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
    expect(clock.sleeps).toEqual([10_000, 10_000]);
    expect(result).toMatchObject({ status: "InService", autoscaling: "applied", endpointName: "twin" });
    expect(progress.some((line) => line.includes("Creating"))).toBe(true);
    expect(progress.some((line) => line.includes("InService"))).toBe(true);
  });

  it("our own image: model data from S3 into /opt/ml/model, or a model URI as LLM_TWIN_MODEL, plus extra --env", () => {
    const config = resolveDeployConfig(
      {
        name: "twin",
        roleArn: ROLE,
        image: "123456789012.dkr.ecr.eu-central-1.amazonaws.com/llm-twin-llm:0.1.0",
        modelUri: "hf:user/repo:Q4_K_M",
        env: ["LLM_TWIN_PARALLEL=4"],
      },
      "create",
      {},
    );
    const resources = deploymentResources(config);
    expect(config.instanceType).toBe("ml.c6i.2xlarge");
    expect(createModelInput(config, resources).PrimaryContainer).toEqual({
      Image: "123456789012.dkr.ecr.eu-central-1.amazonaws.com/llm-twin-llm:0.1.0",
      Environment: {
        LLM_TWIN_MAX_INPUT_TOKENS: "1536",
        LLM_TWIN_MAX_TOTAL_TOKENS: "2048",
        LLM_TWIN_MODEL: "hf:user/repo:Q4_K_M",
        LLM_TWIN_PARALLEL: "4",
      },
    });
    const withData = resolveDeployConfig(
      { name: "twin", roleArn: ROLE, image: config.image, modelData: "s3://bucket/twin/model.tar.gz" },
      "create",
      {},
    );
    const dataResources = deploymentResources(withData);
    expect(dataResources.modelName).not.toBe(resources.modelName);
    expect(createModelInput(withData, dataResources).PrimaryContainer).toMatchObject({
      ModelDataUrl: "s3://bucket/twin/model.tar.gz",
    });
    expect(() => resolveDeployConfig({ name: "twin", roleArn: ROLE, image: "x" }, "create", {})).toThrow(
      /--model-data/,
    );
  });

  it("is idempotent: when everything exists and is up to date it creates nothing and re-applies autoscaling", async () => {
    const config = resolveDeployConfig(hfInput, "create", {});
    const resources = deploymentResources(config);
    sageMaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointStatus: "InService", EndpointConfigName: resources.endpointConfigName } as never);
    sageMaker.on(DescribeModelCommand).resolves({ ModelName: resources.modelName } as never);
    sageMaker.on(DescribeEndpointConfigCommand).resolves({ EndpointConfigName: resources.endpointConfigName } as never);
    const result = await deploy("create", config, { clients, clock: fakeClock() });
    expect(sageMaker.commandCalls(CreateModelCommand)).toHaveLength(0);
    expect(sageMaker.commandCalls(CreateEndpointConfigCommand)).toHaveLength(0);
    expect(sageMaker.commandCalls(CreateEndpointCommand)).toHaveLength(0);
    expect(sageMaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
    expect(autoScaling.commandCalls(PutScalingPolicyCommand)).toHaveLength(1);
    expect(result.actions).toContain(`endpoint twin already uses ${resources.endpointConfigName}`);
  });

  it("create on an endpoint with another config updates it: autoscaling lifted, UpdateEndpoint, re-applied, old config and model removed", async () => {
    const config = resolveDeployConfig({ ...hfInput, instanceCount: "2", maxInstances: "4" }, "create", {});
    const resources = deploymentResources(config);
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce({ EndpointStatus: "InService", EndpointConfigName: "twin-cfg-00000000" } as never)
      .resolvesOnce({ EndpointStatus: "Updating" } as never)
      .resolves({ EndpointStatus: "InService", EndpointConfigName: resources.endpointConfigName } as never);
    sageMaker.on(DescribeModelCommand).rejects(notFound("model"));
    sageMaker
      .on(DescribeEndpointConfigCommand, { EndpointConfigName: resources.endpointConfigName })
      .rejects(notFound("endpoint configuration"));
    sageMaker
      .on(DescribeEndpointConfigCommand, { EndpointConfigName: "twin-cfg-00000000" })
      .resolves({ ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "twin-mdl-00000000" }] } as never);
    const result = await deploy("create", config, { clients, clock: fakeClock() });
    expect(sageMaker.commandCalls(UpdateEndpointCommand)[0]?.args[0].input).toEqual({
      EndpointName: "twin",
      EndpointConfigName: resources.endpointConfigName,
    });
    expect(autoScaling.commandCalls(DeleteScalingPolicyCommand)).toHaveLength(1);
    expect(autoScaling.commandCalls(DeregisterScalableTargetCommand)).toHaveLength(1);
    expect(autoScaling.commandCalls(RegisterScalableTargetCommand)[0]?.args[0].input).toMatchObject({
      MinCapacity: 1,
      MaxCapacity: 4,
    });
    expect(sageMaker.commandCalls(DeleteEndpointConfigCommand)[0]?.args[0].input).toEqual({
      EndpointConfigName: "twin-cfg-00000000",
    });
    expect(sageMaker.commandCalls(DeleteModelCommand)[0]?.args[0].input).toEqual({ ModelName: "twin-mdl-00000000" });
    expect(result.status).toBe("InService");
  });

  it("--no-wait returns after the requests without polling and leaves autoscaling pending", async () => {
    const config = resolveDeployConfig({ ...hfInput, wait: false }, "create", {});
    sageMaker.on(DescribeEndpointCommand).rejects(notFound("endpoint"));
    sageMaker.on(DescribeModelCommand).rejects(notFound("model"));
    sageMaker.on(DescribeEndpointConfigCommand).rejects(notFound("endpoint configuration"));
    const result = await deploy("create", config, { clients, clock: fakeClock() });
    expect(result).toMatchObject({ status: "Creating", autoscaling: "pending" });
    expect(sageMaker.commandCalls(DescribeEndpointCommand)).toHaveLength(1);
    expect(autoScaling.calls()).toHaveLength(0);
  });
});

describe("deploy sagemaker failures", () => {
  it("reports SageMaker's failure reason when the endpoint fails while waiting, without applying autoscaling", async () => {
    const config = resolveDeployConfig(hfInput, "create", {});
    sageMaker
      .on(DescribeEndpointCommand)
      .rejectsOnce(notFound("endpoint"))
      .resolves({
        EndpointStatus: "Failed",
        FailureReason: "The primary container did not pass the ping health check",
      } as never);
    sageMaker.on(DescribeModelCommand).rejects(notFound("model"));
    sageMaker.on(DescribeEndpointConfigCommand).rejects(notFound("endpoint configuration"));
    await expect(deploy("create", config, { clients, clock: fakeClock() })).rejects.toThrow(
      /Failed: The primary container did not pass/,
    );
    expect(autoScaling.calls()).toHaveLength(0);
  });

  it("gives up after --timeout with code timeout", async () => {
    const config = resolveDeployConfig({ ...hfInput, timeout: "30" }, "create", {});
    sageMaker
      .on(DescribeEndpointCommand)
      .rejectsOnce(notFound("endpoint"))
      .resolves({ EndpointStatus: "Creating" } as never);
    sageMaker.on(DescribeModelCommand).rejects(notFound("model"));
    sageMaker.on(DescribeEndpointConfigCommand).rejects(notFound("endpoint configuration"));
    const clock = fakeClock();
    await expect(deploy("create", config, { clients, clock })).rejects.toMatchObject({ code: "timeout" });
    expect(clock.sleeps.reduce((sum, value) => sum + value, 0)).toBeLessThanOrEqual(30_000);
  });

  it("refuses to build on a Failed endpoint and tells how to recover", async () => {
    const config = resolveDeployConfig(hfInput, "create", {});
    sageMaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: "Failed", FailureReason: "capacity" } as never);
    await expect(deploy("create", config, { clients, clock: fakeClock() })).rejects.toThrow(/delete --name twin/);
    expect(sageMaker.commandCalls(CreateModelCommand)).toHaveLength(0);
  });

  it("update of a missing endpoint says to use create; AWS errors name the failed step", async () => {
    const config = resolveDeployConfig(hfInput, "update", {});
    sageMaker.on(DescribeEndpointCommand).rejects(notFound("endpoint"));
    await expect(deploy("update", config, { clients, clock: fakeClock() })).rejects.toMatchObject({
      code: "not_found",
    });

    sageMaker.reset();
    sageMaker.on(DescribeEndpointCommand).rejects(notFound("endpoint"));
    sageMaker.on(DescribeModelCommand).rejects(notFound("model"));
    sageMaker.on(CreateModelCommand).rejects(
      new SageMakerServiceException({
        name: "AccessDeniedException",
        $fault: "client",
        $metadata: {},
        message: "not authorized to perform iam:PassRole",
      }),
    );
    await expect(deploy("create", config, { clients, clock: fakeClock() })).rejects.toThrow(
      /CreateModel twin-mdl-[0-9a-f]{8} failed: AccessDeniedException/,
    );
  });

  it("validates options with messages naming the flag and the variable", () => {
    expect(() => resolveDeployConfig({ ...hfInput, roleArn: undefined }, "create", {})).toThrow(
      /--role-arn \(LLM_TWIN_SAGEMAKER_ROLE_ARN\) is required/,
    );
    expect(() => resolveDeployConfig({ ...hfInput, name: "bad_name" }, "create", {})).toThrow(
      /--name \(LLM_TWIN_SAGEMAKER_NAME\)/,
    );
    expect(() => resolveDeployConfig({ ...hfInput, minInstances: "3", maxInstances: "2" }, "create", {})).toThrow(
      /--min-instances/,
    );
    expect(() => resolveDeployConfig({ ...hfInput, instanceCount: "abc" }, "create", {})).toThrow(/--instance-count/);
    expect(() => resolveDeployConfig({ name: "twin" }, "status", { AWS_REGION: "us-west-2" })).not.toThrow();
    expect(resolveDeployConfig({ name: "twin" }, "status", { AWS_REGION: "us-west-2" }).region).toBe("us-west-2");
    expect(() => resolveDeployConfig({ name: "twin" }, "status", { LLM_TWIN_SAGEMAKER_WAIT: "maybe" })).toThrow(
      /LLM_TWIN_SAGEMAKER_WAIT/,
    );
  });
});
