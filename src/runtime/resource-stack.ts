/**
 * Owns the resources a process builds (store, embedder, language model, reranker, tracer, HTTP
 * server...) and releases them: in reverse order of acquisition (children before the parents they
 * were built from), each exactly once, also when start-up fails half-way. The shape of TC39's
 * AsyncDisposableStack, which Node 20 does not have (`typeof AsyncDisposableStack` is "undefined").
 */

/**
 * What the stack can release: `[Symbol.asyncDispose]` (every adapter of the project's ports), or the
 * `close()` / `dispose()` of third-party objects (a Fastify app, a node-llama-cpp model, a BullMQ queue).
 */
export type Releasable = AsyncDisposable | { close(): Promise<void> | void } | { dispose(): Promise<void> | void };

export type ResourceStack = AsyncDisposable & {
  /** Registers `resource` under `name` (named in errors) and returns it. */
  use<T extends Releasable>(name: string, resource: T): T;
  /** Registers a clean-up step that is not a resource (a timer, a signal handler...). */
  defer(name: string, release: () => Promise<void> | void): void;
  /** Names of what is held, oldest first. */
  readonly held: readonly string[];
  readonly disposed: boolean;
  /**
   * Releases everything, newest first; every release runs even when one fails. Later calls resolve
   * at once. Rejects with the failure (an AggregateError when several failed).
   */
  disposeAsync(): Promise<void>;
};

/** The release function of `resource`, preferring `[Symbol.asyncDispose]`. */
export function releaseOf(resource: Releasable): () => PromiseLike<void> | void {
  if (Symbol.asyncDispose in resource && typeof resource[Symbol.asyncDispose] === "function") {
    return () => resource[Symbol.asyncDispose]();
  }
  if ("close" in resource && typeof resource.close === "function") return () => resource.close();
  if ("dispose" in resource && typeof resource.dispose === "function") return () => resource.dispose();
  throw new TypeError("not releasable: expected [Symbol.asyncDispose](), close() or dispose()");
}

export function createResourceStack(): ResourceStack {
  const entries: Array<{ name: string; release: () => PromiseLike<void> | void }> = [];
  let disposing: Promise<void> | undefined;
  const disposeAsync = (): Promise<void> => {
    disposing ??= (async () => {
      const failures: unknown[] = [];
      for (let entry = entries.pop(); entry !== undefined; entry = entries.pop()) {
        try {
          await entry.release();
        } catch (error) {
          failures.push(new Error(`releasing ${entry.name} failed: ${describe(error)}`, { cause: error }));
        }
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new AggregateError(failures, `${failures.length} resources failed to release`);
    })();
    return disposing;
  };
  const add = (name: string, release: () => PromiseLike<void> | void): void => {
    if (disposing !== undefined) throw new Error(`cannot take ${name}: the resources are already released`);
    entries.push({ name, release });
  };
  return {
    use(name, resource) {
      add(name, releaseOf(resource));
      return resource;
    },
    defer: add,
    get held() {
      return entries.map((entry) => entry.name);
    },
    get disposed() {
      return disposing !== undefined;
    },
    disposeAsync,
    [Symbol.asyncDispose]: disposeAsync,
  };
}

/**
 * Runs `build` with a fresh stack: on success returns what it built and the stack that owns it; on
 * failure releases what was already taken, then rethrows the start-up error.
 */
export async function acquire<T>(
  build: (stack: ResourceStack) => Promise<T>,
): Promise<{ value: T; stack: ResourceStack }> {
  const stack = createResourceStack();
  try {
    return { value: await build(stack), stack };
  } catch (error) {
    await stack.disposeAsync().catch((releaseError: unknown) => {
      process.emitWarning(`start-up failed, and releasing resources also failed: ${describe(releaseError)}`);
    });
    throw error;
  }
}

/**
 * Runs `work` with a fresh stack and releases the stack when `work` settles: the scope of commands
 * that finish by themselves (ingest, eval, dataset). After a failed run the run's error wins (a
 * release failure becomes a warning); after a successful one a release failure is thrown.
 */
export async function withResources<T>(work: (stack: ResourceStack) => Promise<T>): Promise<T> {
  const stack = createResourceStack();
  let result: T;
  try {
    result = await work(stack);
  } catch (error) {
    await stack.disposeAsync().catch((releaseError: unknown) => {
      process.emitWarning(`releasing resources after a failure also failed: ${describe(releaseError)}`);
    });
    throw error;
  }
  await stack.disposeAsync();
  return result;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
