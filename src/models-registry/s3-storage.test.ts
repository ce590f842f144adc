import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { mockedS3 } from "../testing/mocked-s3.js";
import { openRegistryStorage } from "./open.js";
import { registryStorageContract } from "./registry-contract.js";
import { createS3RegistryStorage, parseS3Location } from "./s3-storage.js";

registryStorageContract("S3 prefix (mocked client)", async (scratch) =>
  openRegistryStorage("s3://models-bucket/llm-twin/registry", { s3Client: mockedS3().client, cacheDirectory: scratch }),
);

describe("S3 registry storage", () => {
  it("parses s3://bucket/prefix and refuses other URLs", () => {
    expect(parseS3Location("s3://bucket/a/b/")).toEqual({ bucket: "bucket", prefix: "a/b" });
    expect(parseS3Location("s3://bucket")).toEqual({ bucket: "bucket", prefix: "" });
    expect(() => parseS3Location("s3:///x")).toThrow(/s3:\/\/bucket\/prefix/);
  });

  it("writes the index conditionally under the prefix and redoes an update that lost a race", async () => {
    const s3 = mockedS3();
    const storage = createS3RegistryStorage("s3://bucket/reg", { client: s3.client, cacheDirectory: "/unused" });
    await storage.update("registry.json", () => "one");
    let raced = false;
    await storage.update("registry.json", (current) => {
      if (!raced) {
        raced = true;
        s3.objects.set("bucket/reg/registry.json", { bytes: Buffer.from("other writer"), etag: '"x"' });
      }
      return `${current} + mine`;
    });
    expect(await storage.readText("registry.json")).toBe("other writer + mine");
    const puts = s3.mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts[0]).toMatchObject({ Bucket: "bucket", Key: "reg/registry.json", IfNoneMatch: "*" });
    expect(puts[1]?.IfMatch).toBeDefined();
    expect(puts).toHaveLength(3);
    expect(s3.mock.commandCalls(GetObjectCommand).length).toBeGreaterThan(0);
  });

  it("says which step failed when S3 answers an error", async () => {
    const s3 = mockedS3();
    s3.mock.on(GetObjectCommand).rejects(Object.assign(new Error("Access Denied"), { name: "AccessDenied" }));
    const storage = createS3RegistryStorage("s3://bucket/reg", { client: s3.client, cacheDirectory: "/unused" });
    await expect(storage.readText("registry.json")).rejects.toMatchObject({
      code: "upstream_error",
      message: expect.stringMatching(/reading s3:\/\/bucket\/reg\/registry.json failed: AccessDenied/),
    });
  });
});
