/**
 * Raw HTTP over a real socket: sends bytes exactly as given (malformed requests included) and
 * reads the response until the server closes the connection.
 */
import { connect } from "node:net";

export type RawResponse = {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** True when the server closed the socket (always, unless the test's guard fired). */
  closedByServer: boolean;
};

export function rawRequest(port: number, bytes: Buffer | string, guardMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let closedByServer = true;
    const guard = setTimeout(() => {
      closedByServer = false;
      socket.destroy();
    }, guardMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(guard);
      try {
        resolve({ ...parseResponse(Buffer.concat(chunks)), closedByServer });
      } catch (error) {
        reject(error);
      }
    });
    socket.write(bytes);
  });
}

export function parseResponse(raw: Buffer): Omit<RawResponse, "closedByServer"> {
  const text = raw.toString("utf8");
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd === -1) return { status: 0, headers: {}, body: text };
  const [statusLine = "", ...headerLines] = text.slice(0, headEnd).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(headEnd + 4);
  if (headers["transfer-encoding"] === "chunked") body = dechunk(body);
  return { status: Number(statusLine.split(" ")[1] ?? 0), headers, body };
}

function dechunk(body: string): string {
  let rest = body;
  let out = "";
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    if (lineEnd === -1) return out;
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** A tiny seeded generator (mulberry32), so a failing case can be replayed. */
export { createRandom as seededRandom } from "../../src/gguf/random.js";
