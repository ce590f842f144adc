// `deploy sagemaker update --model-uri registry:…` on mocked SageMaker, Auto Scaling and S3 clients:
// the reference is pinned (stage → version) with the base's production adapters, into the model's
// container environment; a local registry is refused with the flag to set.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  UpdateEndpointCommand,
} from "@aws-sdk/client-sagemaker";
import { Command } from "commander";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { registerDeployCommand } from "../../cli/commands/deploy.js";
import { openRegistryStorage } from "../../models-registry/open.js";
import { promoteModel, registerModel } from "../../models-registry/registry.js";
import type { RegistryStorage } from "../../models-registry/storage.js";
import { mockedS3 } from "../../testing/mocked-s3.js";
import { fakeClock, mockedAwsClients, notFound, TEST_ROLE_ARN as ROLE } from "../../testing/mocked-sagemaker.js";

const { sageMaker, clients, reset } = mockedAwsClients();
const REGISTRY = "s3://models-bucket/llm-twin/registry";

describe("deploy sagemaker with a registry reference", () => {
  let scratch: string;
  let storage: RegistryStorage;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "llm-twin-deploy-registry-"));
    storage = await openRegistryStorage(REGISTRY, { s3Client: mockedS3().client, cacheDirectory: scratch });
    const file = async (name: string) => {
      const path = join(scratch, name);
      await writeFile(path, name);
      return path;
    };
    await registerModel(storage, { file: await file("base-1.gguf"), name: "qwen", kind: "base" });
    await registerModel(storage, { file: await file("base-2.gguf"), name: "qwen", kind: "base" });
    await promoteModel(storage, "qwen@2", "production");
    await registerModel(storage, {
      file: await file("paul.gguf"),
      name: "twin-paul",
      kind: "adapter",
      base: "qwen@2",
      author: "paul-id",
    });
    await promoteModel(storage, "twin-paul@1", "production");
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(reset);

  async function run(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command("llm-twin").exitOverride();
    registerDeployCommand(program, {
      createClients: () => clients,
      clock: fakeClock(),
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      openRegistry: async () => storage,
    });
    await program.parseAsync(["node", "llm-twin", "deploy", "sagemaker", ...argv]);
    return { stdout: out.join(""), stderr: err.join("") };
  }

  it("update pins the stage to its version, with the production adapters, in the container environment", async () => {
    sageMaker
      .on(DescribeEndpointCommand)
      .resolvesOnce({ EndpointStatus: "InService", EndpointConfigName: "twin-cfg-00000000" } as never)
      .resolves({ EndpointStatus: "InService" } as never);
    sageMaker.on(DescribeModelCommand).rejects(notFound("model"));
    sageMaker.on(DescribeEndpointConfigCommand).rejects(notFound("endpoint configuration"));
    const { stdout, stderr } = await run([
      "update",
      "--name",
      "twin",
      "--role-arn",
      ROLE,
      "--image",
      "123456789012.dkr.ecr.eu-central-1.amazonaws.com/llm-twin:1",
      "--model-uri",
      "registry:qwen@production",
      "--registry",
      REGISTRY,
      "--no-autoscaling",
      "--json",
    ]);
    const environment = sageMaker.commandCalls(CreateModelCommand)[0]?.args[0].input.PrimaryContainer?.Environment;
    expect(environment).toMatchObject({
      LLM_TWIN_MODEL: "registry:qwen@2",
      LLM_TWIN_REGISTRY: REGISTRY,
      LLM_TWIN_REGISTRY_ADAPTERS: "off",
      LLM_TWIN_LORA: "twin-paul=registry:twin-paul@1",
    });
    expect(sageMaker.commandCalls(UpdateEndpointCommand)).toHaveLength(1);
    expect(JSON.parse(stdout).registry).toEqual({
      model: { name: "qwen", version: 2 },
      adapters: [{ name: "twin-paul", version: 1, author: "paul-id" }],
    });
    expect(stderr).toMatch(/registry:qwen@production → registry:qwen@2 with adapters twin-paul@1/);
  });

  it("refuses a registry that is not on S3, naming the flag", async () => {
    await expect(
      run([
        "update",
        "--name",
        "twin",
        "--role-arn",
        ROLE,
        "--image",
        "img",
        "--model-uri",
        "registry:qwen@production",
        "--registry",
        join(scratch, "local"),
      ]),
    ).rejects.toMatchObject({
      code: "bad_request",
      message: expect.stringMatching(/--registry s3:\/\/bucket\/prefix/),
    });
  });

  it("an unknown version is model_not_found, before any AWS call", async () => {
    await expect(
      run([
        "update",
        "--name",
        "twin",
        "--role-arn",
        ROLE,
        "--image",
        "img",
        "--model-uri",
        "registry:qwen@7",
        "--registry",
        REGISTRY,
      ]),
    ).rejects.toMatchObject({ code: "model_not_found" });
    expect(sageMaker.calls()).toHaveLength(0);
  });
});
