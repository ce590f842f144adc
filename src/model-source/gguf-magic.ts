import { open } from "node:fs/promises";
import { AppError } from "../errors/app-error.js";

export const GGUF_MAGIC = Buffer.from("GGUF", "latin1");

export function startsWithGgufMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && Buffer.from(bytes.subarray(0, 4)).equals(GGUF_MAGIC);
}

export function notGgufError(what: string, firstBytes: Uint8Array): AppError {
  const preview = JSON.stringify(Buffer.from(firstBytes.subarray(0, 16)).toString("latin1"));
  return new AppError("configuration_error", `${what} is not a GGUF model file (it starts with ${preview})`, {
    details: { source: what },
  });
}

/** Throws `model_not_found` when the file is missing, `configuration_error` when it is not a GGUF file. */
export async function assertGgufFile(path: string): Promise<void> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new AppError("model_not_found", `Model file not found: ${path}`, { cause: error, details: { path } });
    }
    if (code === "EISDIR") {
      throw new AppError("configuration_error", `Model path is a directory, not a GGUF file: ${path}`, {
        cause: error,
      });
    }
    throw new AppError("configuration_error", `Cannot read model file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    // On Linux a directory opens; reading it is what fails.
    if ((await file.stat()).isDirectory()) {
      throw new AppError("configuration_error", `Model path is a directory, not a GGUF file: ${path}`);
    }
    const header = Buffer.alloc(4);
    const { bytesRead } = await file.read(header, 0, 4, 0);
    if (!startsWithGgufMagic(header.subarray(0, bytesRead))) throw notGgufError(path, header.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}
