/**
 * Admission control for a fixed pool of slots (one per context sequence): a request takes a free
 * slot at once, or waits in a bounded FIFO queue; beyond the queue bound or the concurrency limit
 * it is refused with `overloaded`. Releasing a slot hands it straight to the oldest waiter.
 */
import { AppError } from "../../errors/index.js";

export type AdmissionOptions = {
  /** Slots that can run at once (context sequences). */
  slots: number;
  /** Requests that may wait for a slot. */
  maxQueue: number;
  /** Running plus waiting requests; beyond it requests are refused. */
  maxConcurrentRequests: number;
};

export type Admission<Slot> = {
  /**
   * Resolves with a slot; rejects with `overloaded`, `shutting_down` or `aborted`. Among free slots
   * it takes the one `score` rates highest (ties: the one free the longest); a waiter gets the
   * slot that frees.
   */
  acquire(signal?: AbortSignal, score?: (slot: Slot) => number): Promise<Slot>;
  release(slot: Slot): void;
  /** Refuse every new request from now on (graceful shutdown), and every waiter. */
  close(reason: AppError): void;
  readonly inUse: number;
  readonly queued: number;
  readonly free: number;
};

type Waiter<Slot> = {
  resolve(slot: Slot): void;
  reject(error: unknown): void;
  cleanup(): void;
};

export function createAdmission<Slot>(slots: readonly Slot[], options: AdmissionOptions): Admission<Slot> {
  const freeSlots = [...slots];
  const waiters: Waiter<Slot>[] = [];
  let inUse = 0;
  let closedReason: AppError | undefined;

  function overloaded(): AppError {
    return new AppError("overloaded", "Model is overloaded", {
      retryable: true,
      details: {
        inUse,
        queued: waiters.length,
        maxQueue: options.maxQueue,
        maxConcurrentRequests: options.maxConcurrentRequests,
      },
    });
  }

  return {
    get inUse() {
      return inUse;
    },
    get queued() {
      return waiters.length;
    },
    get free() {
      return freeSlots.length;
    },
    acquire(signal, score) {
      if (closedReason !== undefined) return Promise.reject(closedReason);
      if (signal?.aborted) return Promise.reject(abortedError(signal));
      if (inUse + waiters.length >= options.maxConcurrentRequests) return Promise.reject(overloaded());
      const slot = freeSlots.splice(bestIndex(freeSlots, score), 1)[0];
      if (slot !== undefined) {
        inUse += 1;
        return Promise.resolve(slot);
      }
      if (waiters.length >= options.maxQueue) return Promise.reject(overloaded());
      return new Promise<Slot>((resolve, reject) => {
        const onAbort = (): void => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(abortedError(signal));
        };
        const waiter: Waiter<Slot> = {
          resolve,
          reject,
          cleanup: () => signal?.removeEventListener("abort", onAbort),
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
      });
    },
    release(slot) {
      const waiter = waiters.shift();
      if (waiter !== undefined) {
        waiter.cleanup();
        waiter.resolve(slot);
        return;
      }
      inUse -= 1;
      freeSlots.push(slot);
    },
    close(reason) {
      closedReason = reason;
      for (const waiter of waiters.splice(0)) {
        waiter.cleanup();
        waiter.reject(reason);
      }
    },
  };
}

function bestIndex<Slot>(slots: readonly Slot[], score: ((slot: Slot) => number) | undefined): number {
  if (score === undefined) return 0;
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  slots.forEach((slot, index) => {
    const value = score(slot);
    if (value > bestScore) {
      best = index;
      bestScore = value;
    }
  });
  return best;
}

export function abortedError(signal: AbortSignal | undefined): AppError {
  const reason: unknown = signal?.reason;
  if (reason instanceof AppError) return reason;
  return new AppError("aborted", "The request was cancelled", { cause: reason });
}

/** Tokens two sequences share from the start (llama-server's slot similarity). */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const limit = Math.min(a.length, b.length);
  let length = 0;
  while (length < limit && a[length] === b[length]) length += 1;
  return length;
}
