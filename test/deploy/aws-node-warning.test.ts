/**
 * `llm-twin deploy sagemaker status` against a loopback stand-in for SageMaker: the user sees only
 * llm-twin's own line, not the AWS SDK's multi-line "NodeVersionSupportWarning" about Node 20.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli } from "../../src/testing/cli-process.js";

let server: Server;
let endpoint = "";
const targets: string[] = [];

beforeAll(async () => {
  // SageMaker speaks JSON 1.1: the operation is in X-Amz-Target; a missing endpoint is a ValidationException.
  server = createServer((request, response) => {
    targets.push(String(request.headers["x-amz-target"]));
    request.resume();
    request.on("end", () => {
      response.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
      response.end(JSON.stringify({ __type: "ValidationException", message: "Could not find endpoint twin-qa" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("llm-twin deploy on Node 20", () => {
  it("prints no AWS SDK Node version warning", async () => {
    const cli = spawnCli(["deploy", "sagemaker", "status", "--name", "twin-qa", "--region", "eu-central-1"], {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined,
      AWS_PROFILE: undefined,
    });
    const code = await cli.exited;
    const output = cli.output();
    expect(code, output).toBe(0);
    expect(targets).toContain("SageMaker.DescribeEndpoint");
    expect(output).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript|Warning:/);
    expect(output.trim().split("\n")).toEqual(["endpoint twin-qa does not exist in eu-central-1"]);
  });
});
