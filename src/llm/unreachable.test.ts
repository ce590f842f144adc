import { describe, expect, it } from "vitest";
import { createUnreachableGuard, isUnreachableError, type UnreachableTarget } from "./unreachable.js";

const target: UnreachableTarget = {
  service: "the writer LLM",
  url: "http://127.0.0.1:9/v1/chat/completions",
  urlSetting: "--llm-url (LLM_TWIN_LLM_URL)",
  keySetting: "--api-key (LLM_TWIN_LLM_API_KEY)",
};
const refused = () => ({ error: Object.assign(new Error("fetch failed"), { cause: { code: "ECONNREFUSED" } }) });
const thrown = (call: () => void): unknown => {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("createUnreachableGuard", () => {
  it("throws a stop error for a connection failure before any success, naming the URL and flag", () => {
    const guard = createUnreachableGuard(target);
    const error = thrown(() => guard.failed({ ...refused(), aborted: false, timedOut: false }));
    expect(isUnreachableError(error)).toBe(true);
    expect(error).toMatchObject({
      code: "upstream_unavailable",
      message:
        "cannot reach the writer LLM at http://127.0.0.1:9/v1/chat/completions (connection refused): start it or point --llm-url (LLM_TWIN_LLM_URL) at it",
    });
  });

  it("lets timeouts, aborts and other failures through for the caller to handle", () => {
    const guard = createUnreachableGuard(target);
    expect(thrown(() => guard.failed({ ...refused(), aborted: false, timedOut: true }))).toBeUndefined();
    expect(thrown(() => guard.failed({ ...refused(), aborted: true, timedOut: false }))).toBeUndefined();
    expect(thrown(() => guard.failed({ error: new Error("socket hang up"), aborted: false, timedOut: false }))).toBe(
      undefined,
    );
  });

  it("throws for refused credentials (401/403) before any success; other statuses do not", () => {
    const guard = createUnreachableGuard(target);
    expect(thrown(() => guard.answered({ ok: false, status: 500 }))).toBeUndefined();
    const error = thrown(() => guard.answered({ ok: false, status: 403 }));
    expect(isUnreachableError(error)).toBe(true);
    expect(error).toMatchObject({ code: "unauthorized" });
  });

  it("does nothing once a call has succeeded: later failures are per item again", () => {
    const guard = createUnreachableGuard(target);
    guard.answered({ ok: false, status: 503 });
    guard.answered({ ok: true, status: 200 });
    expect(thrown(() => guard.failed({ ...refused(), aborted: false, timedOut: false }))).toBeUndefined();
    expect(thrown(() => guard.answered({ ok: false, status: 401 }))).toBeUndefined();
  });

  it("does nothing when disabled (the online evaluator's judge)", () => {
    const guard = createUnreachableGuard(target, { enabled: false });
    expect(thrown(() => guard.failed({ ...refused(), aborted: false, timedOut: false }))).toBeUndefined();
    expect(thrown(() => guard.answered({ ok: false, status: 401 }))).toBeUndefined();
  });
});
