/**
 * Test support for S3 adapters: an S3Client whose GetObject / PutObject / DeleteObject are answered
 * by aws-sdk-client-mock from an in-memory bucket that honours `If-Match` / `If-None-Match`
 * like S3 does (412 PreconditionFailed), so optimistic updates can be tested without AWS.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";

export function mockedS3() {
  const client = new S3Client({
    region: "eu-central-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const mock = mockClient(client);
  const objects = new Map<string, { bytes: Buffer; etag: string }>();
  let writes = 0;
  const id = (bucket: string | undefined, key: string | undefined) => `${bucket}/${key}`;

  mock.on(GetObjectCommand).callsFake((input) => {
    const object = objects.get(id(input.Bucket, input.Key));
    if (object === undefined)
      throw new NoSuchKey({ message: "The specified key does not exist.", $metadata: { httpStatusCode: 404 } });
    const bytes = object.bytes;
    return { ETag: object.etag, Body: { transformToByteArray: async () => new Uint8Array(bytes) } };
  });
  mock.on(PutObjectCommand).callsFake(async (input) => {
    const key = id(input.Bucket, input.Key);
    const existing = objects.get(key);
    const failed =
      (input.IfNoneMatch === "*" && existing !== undefined) ||
      (input.IfMatch !== undefined && existing?.etag !== input.IfMatch);
    if (failed)
      throw new S3ServiceException({
        name: "PreconditionFailed",
        $fault: "client",
        message: "At least one of the pre-conditions you specified did not hold",
        $metadata: { httpStatusCode: 412 },
      });
    const bytes = await toBuffer(input.Body);
    const etag = `"${createHash("md5").update(bytes).digest("hex")}-${++writes}"`;
    objects.set(key, { bytes, etag });
    return { ETag: etag };
  });
  mock.on(DeleteObjectCommand).callsFake((input) => {
    objects.delete(id(input.Bucket, input.Key));
    return {};
  });
  return { client, mock, objects };
}

async function toBuffer(body: unknown): Promise<Buffer> {
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }
  throw new Error(`unsupported PutObject body ${typeof body}`);
}
