/**
 * Checks REST requests against Qdrant's published OpenAPI document (the fake server uses it to
 * refuse what the real server would): the route and method exist, the query parameters and the
 * JSON body match the operation's schemas. Test-side code: ajv is a dev dependency.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";

type Operation = {
  operationId: string;
  pattern: RegExp;
  parameterNames: string[];
  body: ValidateFunction | undefined;
  query: ValidateFunction;
};

export type MatchedOperation = { operationId: string; params: Record<string, string> };
export type CheckResult = { ok: true; operation: MatchedOperation } | { ok: false; status: 400 | 404; error: string };

export type OpenApiChecker = {
  /** Checks one request (path without the API prefix, query values as strings). */
  check(request: { method: string; path: string; query: Record<string, string>; body: unknown }): CheckResult;
  readonly version: string;
};

type Parameter = { name: string; in: string; required?: boolean; schema?: Record<string, unknown> };
type SpecOperation = {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content?: { "application/json"?: { schema?: Record<string, unknown> } } };
};

const NUMERIC_FORMATS = ["uint", "uint8", "uint32", "uint64", "int64", "float", "double"];

export function loadOpenApiChecker(path: string): OpenApiChecker {
  const spec = JSON.parse(readFileSync(path, "utf8")) as {
    info: { version: string };
    paths: Record<string, Record<string, SpecOperation>>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const format of NUMERIC_FORMATS) ajv.addFormat(format, { type: "number", validate: () => true });
  for (const format of ["binary", "date-time", "partial-date-time", "uri"]) ajv.addFormat(format, true);
  ajv.addFormat("uuid", /^(?:[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$/i);
  const converted = withoutNullable(spec) as object;
  ajv.addSchema(converted, "qdrant");
  const coercing = new Ajv({ strict: false, coerceTypes: true });
  for (const format of NUMERIC_FORMATS) coercing.addFormat(format, { type: "number", validate: () => true });
  coercing.addSchema(converted, "qdrant");

  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(spec.paths)) {
    const parameterNames = [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string);
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)")}$`);
    for (const [method, operation] of Object.entries(methods)) {
      const schema = operation.requestBody?.content?.["application/json"]?.schema;
      const queryParameters = (operation.parameters ?? []).filter((parameter) => parameter.in === "query");
      const querySchema = {
        type: "object",
        additionalProperties: false,
        properties: Object.fromEntries(queryParameters.map((parameter) => [parameter.name, parameter.schema ?? {}])),
        required: queryParameters.filter((parameter) => parameter.required === true).map((parameter) => parameter.name),
      };
      operations.push({
        operationId: operation.operationId,
        pattern,
        parameterNames,
        body: schema === undefined ? undefined : ajv.compile(rewriteRefs(schema) as object),
        query: coercing.compile(rewriteRefs(withoutNullable(querySchema)) as object),
        ...{ method: method.toUpperCase() },
      } as Operation & { method: string });
    }
  }
  // Literal routes (/collections/aliases) before templated ones (/collections/{collection_name}).
  operations.sort((left, right) => left.parameterNames.length - right.parameterNames.length);

  return {
    version: spec.info.version,
    check(request) {
      const path = request.path.split("?")[0] ?? "";
      const candidates = operations.filter((operation) => operation.pattern.test(path));
      if (candidates.length === 0) return { ok: false, status: 404, error: `No route ${path}` };
      const operation = (candidates as (Operation & { method: string })[]).find(
        (candidate) => candidate.method === request.method,
      );
      if (operation === undefined) return { ok: false, status: 404, error: `No route ${request.method} ${path}` };
      const values = operation.pattern.exec(path)?.slice(1) ?? [];
      const params = Object.fromEntries(
        operation.parameterNames.map((name, index) => [name, decodeURIComponent(values[index] ?? "")]),
      );
      const query: Record<string, unknown> = { ...request.query };
      if (!operation.query(query)) {
        return { ok: false, status: 400, error: `Query parameters: ${describe(operation.query)}` };
      }
      if (operation.body !== undefined) {
        if (request.body === undefined) return { ok: false, status: 400, error: "Json deserialize error: EOF" };
        if (!operation.body(request.body)) {
          return { ok: false, status: 400, error: `Json deserialize error: ${describe(operation.body)}` };
        }
      }
      return { ok: true, operation: { operationId: operation.operationId, params } };
    },
  };
}

/** OpenAPI 3.0's `nullable: true` as JSON Schema: `null` allowed beside the schema. */
function withoutNullable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullable);
  if (typeof value !== "object" || value === null) return value;
  const { nullable, ...rest } = value as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, entry]) => [key, withoutNullable(entry)]));
  if (nullable !== true) return converted;
  // `{nullable: true}` alone (an Option's None branch) allows null only.
  if (Object.keys(converted).filter((key) => key !== "description").length === 0) return { type: "null" };
  if (typeof converted.type === "string") return { ...converted, type: [converted.type, "null"] };
  return { anyOf: [converted, { type: "null" }] };
}

function rewriteRefs(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"qdrant#/components/'));
}

function describe(validate: ValidateFunction): string {
  // The deepest error names the field at fault (anyOf branches report at their own depth).
  const error = [...(validate.errors ?? [])].sort(
    (left, right) => right.instancePath.split("/").length - left.instancePath.split("/").length,
  )[0];
  if (error === undefined) return "invalid";
  return `${error.instancePath || "(root)"} ${error.message ?? "is invalid"}`;
}
