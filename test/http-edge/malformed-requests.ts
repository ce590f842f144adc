/**
 * Malformed requests as clients and scanners send them: URLs that do not decode, raw bytes and
 * control characters in the path, over-long parameters, unknown methods and versions, broken
 * headers, wrong content types, bodies that are not JSON or over the limit. Each case says which
 * error shape the answer must have.
 */
import { seededRandom } from "./raw-http.js";

export type Shape = "project" | "tgi" | "openai";
export type MalformedCase = { name: string; bytes: Buffer; shape: Shape };

const head = (method: string, path: string, headers: string[] = [], body = ""): Buffer =>
  Buffer.from(
    `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers.map((line) => `${line}\r\n`).join("")}${body === "" ? "" : `Content-Length: ${Buffer.byteLength(body)}\r\n`}\r\n${body}`,
    "latin1",
  );

const withRawPath = (method: string, prefix: string, raw: Buffer, suffix: string): Buffer =>
  Buffer.concat([
    Buffer.from(`${method} ${prefix}`, "latin1"),
    raw,
    Buffer.from(`${suffix} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, "latin1"),
  ]);

export type Service = {
  /** POST routes that take a JSON body, with the shape their errors have. */
  jsonRoutes: Array<{ path: string; shape: Shape }>;
  /** GET routes, with their shape. */
  getRoutes: Array<{ path: string; shape: Shape }>;
  /** A route with a path parameter (prefix before the parameter), if any. */
  paramRoute?: string;
  /** Content types the service refuses (415) or reads as JSON anyway. */
  bodyLimitBytes: number;
};

export function malformedCases(service: Service, count: number, seed = 12): MalformedCase[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const randomBytes = (length: number, from: number, to: number): Buffer =>
    Buffer.from(Array.from({ length }, () => from + Math.floor(random() * (to - from))));
  const generators: Array<() => MalformedCase> = [
    () => {
      const route = pick([...service.getRoutes, ...service.jsonRoutes]);
      const bad = pick(["%ff", "%", "%E0%A4%A", "%zz", "%c3%28", "%ed%a0%80"]);
      return { name: `bad percent-encoding ${route.path}${bad}`, bytes: head("GET", `/${bad}`), shape: "project" };
    },
    () => ({
      name: "raw non-ASCII bytes in the path",
      bytes: withRawPath("GET", "/", randomBytes(1 + Math.floor(random() * 8), 0x80, 0x100), ""),
      shape: "project",
    }),
    () => ({
      name: "control characters in the path",
      bytes: withRawPath("GET", "/", randomBytes(1 + Math.floor(random() * 4), 0x01, 0x1f), "x"),
      shape: "project",
    }),
    () => ({
      name: "unknown method",
      bytes: head(pick(["FOO", "GETT", "BREW", "G E T"]), pick(service.getRoutes).path),
      shape: "project",
    }),
    () => ({
      name: "bad HTTP version",
      bytes: Buffer.from(`GET / HTTP/${pick(["9.9", "1", "x", "1.1.1"])}\r\nHost: x\r\n\r\n`),
      shape: "project",
    }),
    () => ({
      name: "header without a colon",
      bytes: Buffer.from(`GET ${pick(service.getRoutes).path} HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n`),
      shape: "project",
    }),
    () => ({
      name: "headers too large",
      bytes: head("GET", pick(service.getRoutes).path, [`X-Big: ${"a".repeat(20_000 + Math.floor(random() * 5000))}`]),
      shape: "project",
    }),
    () => ({
      name: "over-long path",
      bytes: head("GET", `/${"a".repeat(300 + Math.floor(random() * 3000))}`),
      shape: "project",
    }),
    () => {
      const route = pick(service.jsonRoutes);
      const body = pick(["{bad", "[1,2", '{"a":', "nul", "{'query': 1}", "\u0000\u0001", "{}}", "}"]);
      return {
        name: `invalid JSON on ${route.path}`,
        bytes: head("POST", route.path, ["Content-Type: application/json"], body),
        shape: route.shape,
      };
    },
    () => {
      const route = pick(service.jsonRoutes);
      const body = pick(["[]", "42", "null", '"text"', "{}", '{"query":42}', '{"inputs":[]}', '{"prompt":{}}']);
      return {
        name: `wrong JSON shape on ${route.path}`,
        bytes: head("POST", route.path, ["Content-Type: application/json"], body),
        shape: route.shape,
      };
    },
    () => {
      const route = pick(service.jsonRoutes);
      const type = pick([
        "multipart/form-data; boundary=x",
        "application/xml",
        "image/png",
        "application/octet-stream",
      ]);
      return {
        name: `content type ${type} on ${route.path}`,
        bytes: head("POST", route.path, [`Content-Type: ${type}`], '{"query":"hi","inputs":"hi"}'),
        shape: route.shape,
      };
    },
    () => {
      const route = pick(service.jsonRoutes);
      return {
        name: `body over the limit on ${route.path}`,
        bytes: head("POST", route.path, ["Content-Type: application/json"], `"${"x".repeat(service.bodyLimitBytes)}"`),
        shape: route.shape,
      };
    },
    () => {
      const route = pick(service.jsonRoutes);
      return {
        name: `bad Content-Length on ${route.path}`,
        bytes: Buffer.from(
          `POST ${route.path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${pick(["-1", "abc", "1e3", "99999999999999999999"])}\r\n\r\n{}`,
        ),
        shape: "project",
      };
    },
    () => {
      const route = pick(service.jsonRoutes);
      return {
        name: `broken chunked body on ${route.path}`,
        bytes: Buffer.from(
          `POST ${route.path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
        ),
        shape: "project",
      };
    },
    () => {
      const route = pick(service.getRoutes);
      return {
        name: `bad query string on ${route.path}`,
        bytes: head("GET", `${route.path}?${pick(["limit=%ff", "limit=abc", "a=%", "limit=-1&limit=2", "%00=1"])}`),
        shape: route.shape,
      };
    },
    () => {
      const route = pick(service.jsonRoutes);
      return { name: `wrong method on ${route.path}`, bytes: head("PUT", route.path), shape: "project" };
    },
  ];
  if (service.paramRoute !== undefined) {
    const prefix = service.paramRoute;
    generators.push(() => ({
      name: "over-long path parameter",
      bytes: head("GET", `${prefix}${"p".repeat(201 + Math.floor(random() * 2000))}`),
      shape: "project",
    }));
    generators.push(() => ({
      name: "bad percent-encoding in a path parameter",
      bytes: head("GET", `${prefix}${pick(["%ff", "%", "abc%zz"])}`),
      shape: "project",
    }));
  }
  return Array.from({ length: count }, () => pick(generators)());
}
