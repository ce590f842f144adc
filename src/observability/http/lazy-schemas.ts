/**
 * Route schemas compiled on first use instead of at start-up. Fastify compiles every route's
 * request and response schemas when the app becomes ready (ajv for validation, fast-json-stringify
 * for serialization): part of the time between "model ready" and listening (docs/benchmarks.md,
 * start-up). These factories wrap Fastify's default compilers so that each route's schema is
 * compiled by the same compiler, with the same options, when a request first needs it; requests
 * are validated and replies serialized exactly as before.
 */

import ValidatorSelector from "@fastify/ajv-compiler";
import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";
import type { FastifyServerOptions } from "fastify";

type AnyFunction = (...args: never[]) => unknown;
type Compiler = (routeSchema: unknown) => AnyFunction;
type CompilerFactory = (...factoryArgs: never[]) => Compiler;

/** `factory` called (and its route compilers run) only when a request first needs a schema. */
function lazyFactory(factory: CompilerFactory): CompilerFactory {
  return (...factoryArgs) => {
    let compiler: Compiler | undefined;
    const getCompiler = (): Compiler => (compiler ??= factory(...factoryArgs));
    return (routeSchema) => {
      refuseHeadersSchema(routeSchema);
      return lazyFunction(() => getCompiler()(routeSchema));
    };
  };
}

/**
 * With a compilers factory of its own, Fastify no longer lower-cases the property names of a
 * `headers` schema before compiling it (it does for its default compiler): no route has one, and
 * one added later is refused when the app starts rather than matched case-sensitively.
 */
function refuseHeadersSchema(routeSchema: unknown): void {
  const { httpPart, method, url } = (routeSchema ?? {}) as { httpPart?: string; method?: string; url?: string };
  if (httpPart === "headers") {
    throw new Error(
      `${method ?? ""} ${url ?? ""}: a headers schema is not supported with lazy schema compilation (src/observability/http/lazy-schemas.ts)`,
    );
  }
}

/**
 * A function that compiles on its first call. Fastify reads two properties of a validation
 * function: `schemaEnv` (set by ajv, tells it to pass the parent object so ajv can coerce the
 * root) and `errors` after a failed call; both are read from the compiled function.
 */
function lazyFunction(compile: () => AnyFunction): AnyFunction {
  let compiled: AnyFunction | undefined;
  const get = (): AnyFunction => (compiled ??= compile());
  const lazy = function (this: unknown, ...args: never[]): unknown {
    return get().apply(this, args);
  };
  Object.defineProperties(lazy, {
    schemaEnv: { get: () => (get() as { schemaEnv?: unknown }).schemaEnv },
    errors: { get: () => (compiled as { errors?: unknown } | undefined)?.errors },
  });
  return lazy;
}

/** Fastify's `schemaController` with its default compilers, each route's schemas compiled on first use. */
export function lazySchemaController(): NonNullable<FastifyServerOptions["schemaController"]> {
  return {
    compilersFactory: {
      buildValidator: lazyFactory(ValidatorSelector() as never) as never,
      buildSerializer: lazyFactory(SerializerSelector() as never) as never,
    },
  };
}
