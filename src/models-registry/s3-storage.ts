/**
 * A registry under an S3 prefix (`s3://bucket/prefix`), for a fleet of replicas reading the same
 * entries. Index updates are optimistic: the index is read with its ETag and written back with
 * `If-Match` (or `If-None-Match: *` when it does not exist yet); S3 answers 412 when another writer
 * got there first, and the update is redone on the new index. Files are uploaded with one
 * PutObject (S3's limit: 5 GB per file) and downloaded once into a local cache folder.
 */
import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { AppError, isAppError } from "../errors/index.js";
import type { RegistryStorage } from "./storage.js";

export type S3Location = { bucket: string; prefix: string };

/** `s3://bucket/some/prefix` → bucket and prefix (without surrounding slashes). */
export function parseS3Location(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  const bucket = match?.[1];
  if (bucket === undefined || bucket === "")
    throw new AppError("bad_request", `--registry ${url}: expected s3://bucket/prefix`);
  return { bucket, prefix: (match?.[2] ?? "").replace(/^\/+|\/+$/g, "") };
}

export type S3StorageOptions = {
  client: S3Client;
  /** Where downloaded files are kept (one folder per bucket and prefix). */
  cacheDirectory: string;
  /** How many times an index update is redone after losing a race. */
  maxUpdateAttempts?: number;
};

export function createS3RegistryStorage(url: string, options: S3StorageOptions): RegistryStorage {
  const { bucket, prefix } = parseS3Location(url);
  const { client } = options;
  const objectKey = (key: string) => (prefix === "" ? key : `${prefix}/${key}`);
  const location = `s3://${bucket}${prefix === "" ? "" : `/${prefix}`}`;
  const cacheRoot = join(options.cacheDirectory, "registry-s3", bucket, prefix);

  async function get(key: string): Promise<{ bytes: Uint8Array; etag: string | undefined } | undefined> {
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      if (answer.Body === undefined) return { bytes: new Uint8Array(), etag: answer.ETag };
      return { bytes: await answer.Body.transformToByteArray(), etag: answer.ETag };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error(`reading ${location}/${key}`, error);
    }
  }

  return {
    location,
    async readText(key) {
      const object = await get(key);
      return object === undefined ? undefined : new TextDecoder().decode(object.bytes);
    },
    async update(key, next) {
      const attempts = options.maxUpdateAttempts ?? 8;
      for (let attempt = 1; ; attempt++) {
        const current = await get(key);
        const text = next(current === undefined ? undefined : new TextDecoder().decode(current.bytes));
        try {
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: objectKey(key),
              Body: text,
              ContentType: "application/json",
              ...(current?.etag === undefined ? { IfNoneMatch: "*" } : { IfMatch: current.etag }),
            }),
          );
          return;
        } catch (error) {
          if (!isPreconditionFailed(error)) throw s3Error(`writing ${location}/${key}`, error);
          if (attempt >= attempts)
            throw new AppError("overloaded", `${location}/${key} kept changing under ${attempts} attempts; retry`, {
              cause: error,
            });
        }
      }
    },
    async putFile(key, sourcePath) {
      const { size } = await stat(sourcePath);
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: objectKey(key),
            Body: createReadStream(sourcePath),
            ContentLength: size,
          }),
        );
      } catch (error) {
        throw s3Error(`uploading ${sourcePath} to ${location}/${key}`, error);
      }
    },
    async localPath(key) {
      const path = join(cacheRoot, key);
      const cached = await stat(path).catch(() => undefined);
      if (cached !== undefined) return path;
      const object = await get(key);
      if (object === undefined) throw new AppError("not_found", `${location}/${key} does not exist`);
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.tmp-${process.pid}`;
      await writeFile(temporary, object.bytes);
      await rename(temporary, path);
      return path;
    },
    async remove(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      } catch (error) {
        if (!isNotFound(error)) throw s3Error(`removing ${location}/${key}`, error);
      }
      await rm(join(cacheRoot, key), { force: true });
    },
  };
}

function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown })?.name;
  return typeof name === "string" ? name : undefined;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  return name === "NoSuchKey" || name === "NotFound" || statusOf(error) === 404;
}

function isPreconditionFailed(error: unknown): boolean {
  const name = errorName(error);
  return (
    name === "PreconditionFailed" ||
    name === "ConditionalRequestConflict" ||
    statusOf(error) === 412 ||
    statusOf(error) === 409
  );
}

function s3Error(step: string, error: unknown): AppError {
  if (isAppError(error)) return error;
  const name = errorName(error) ?? "Error";
  const message = error instanceof Error ? error.message : String(error);
  if (name === "CredentialsProviderError")
    return new AppError("configuration_error", `${step}: no AWS credentials found (${message})`, { cause: error });
  return new AppError("upstream_error", `${step} failed: ${name}: ${message}`, { cause: error });
}
