/**
 * The one JSON POST the dataset writer, the judge and the HTTP twin share: optional bearer key,
 * a per-call timeout combined with the caller's signal, and the failure told apart (stopped by the
 * caller, timed out, unreachable) so each caller keeps its own messages and error codes.
 */

/** `http://h`, `http://h/v1` and `http://h/v1/chat/completions` all give the chat completions URL. */
export function chatCompletionsUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  if (trimmed.endsWith("/chat/completions")) return trimmed;
  if (trimmed.endsWith("/v1")) return `${trimmed}/chat/completions`;
  return `${trimmed}/v1/chat/completions`;
}

export type JsonPostOptions = {
  apiKey?: string | undefined;
  body: unknown;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
};

export type JsonPostResult =
  | { ok: true; response: Response; timeout: AbortSignal }
  | { ok: false; error: unknown; aborted: boolean; timedOut: boolean; timeout: AbortSignal };

/** POSTs `body` as JSON; never throws: a fetch failure comes back as `ok: false`. */
export async function postJson(url: string, options: JsonPostOptions): Promise<JsonPostResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const { signal } = options;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
      },
      body: JSON.stringify(options.body),
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    });
    return { ok: true, response, timeout };
  } catch (error) {
    return { ok: false, error, aborted: signal?.aborted === true, timedOut: timeout.aborted, timeout };
  }
}
