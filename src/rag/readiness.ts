/**
 * Readiness: the store's collections open and answer, it still holds data made with this
 * service's preprocessing (fingerprint hash), and the LLM answers its health check. Each check has a timeout, so /ready
 * itself never hangs.
 */
import type { LanguageModel } from "../llm/index.js";
import type { VectorStore } from "../vector-store/index.js";
import { callUpstream } from "./upstream.js";

export type CheckResult = { ok: boolean; message?: string };
export type Readiness = { ready: boolean; checks: Record<string, CheckResult>; reasons: string[] };
export type ReadinessCheck = () => Promise<Readiness>;

export type ReadinessOptions = {
  store: VectorStore;
  llm?: LanguageModel;
  /** The fingerprint hash checked at start-up; the store must still carry it. */
  expectedFingerprintHash: string;
  timeoutMs: number;
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createReadinessCheck(options: ReadinessOptions): ReadinessCheck {
  const { store, llm, expectedFingerprintHash, timeoutMs } = options;
  const checkStore = async (): Promise<[CheckResult, CheckResult]> => {
    try {
      const metadata = await callUpstream("the vector store", timeoutMs, undefined, () => store.readMetadata());
      // The tables open and answer (a failed check drops cached handles, so the next one reopens).
      await callUpstream("the vector store", timeoutMs, undefined, (signal) => store.check({ signal }));
      if (metadata === undefined) {
        return [{ ok: true }, { ok: false, message: `the store at ${store.location} has no metadata (run ingest)` }];
      }
      if (metadata.fingerprint.hash !== expectedFingerprintHash) {
        return [
          { ok: true },
          {
            ok: false,
            message: "the store's preprocessing fingerprint changed since start-up (restart to see what differs)",
          },
        ];
      }
      return [{ ok: true }, { ok: true }];
    } catch (error) {
      return [
        { ok: false, message: messageOf(error) },
        { ok: false, message: "not checked: store unreachable" },
      ];
    }
  };
  const checkLlm = async (): Promise<CheckResult> => {
    if (llm === undefined) return { ok: false, message: "no language model configured" };
    try {
      const healthy = await callUpstream("the LLM", timeoutMs, undefined, (signal) => llm.health({ signal }));
      return healthy ? { ok: true } : { ok: false, message: `the LLM (${llm.id}) is not healthy` };
    } catch (error) {
      return { ok: false, message: messageOf(error) };
    }
  };
  return async () => {
    const [[storeCheck, fingerprintCheck], llmCheck] = await Promise.all([checkStore(), checkLlm()]);
    const checks = { store: storeCheck, fingerprint: fingerprintCheck, llm: llmCheck };
    const reasons = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name, check]) => `${name}: ${check.message ?? "failed"}`);
    return { ready: reasons.length === 0, checks, reasons };
  };
}
