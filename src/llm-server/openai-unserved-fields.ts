/**
 * OpenAI parameters this service does not serve, accepted at their neutral value (so that clients
 * which always send them keep working) and refused with 422 "is not supported" otherwise, instead
 * of "unknown parameter". Fields that only label a request (`store`, `metadata`, `service_tier`,
 * `reasoning_effort`) are accepted and ignored, as vLLM does: they do not change the output.
 */
import { z } from "zod";
import { unsupported } from "./request-parsing.js";

export const unservedCompletionFields = {
  suffix: z.string().nullish(),
  best_of: z.int().positive().nullish(),
};

export const unservedChatFields = {
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  service_tier: z.string().nullish(),
  reasoning_effort: z.string().nullish(),
  modalities: z.array(z.string()).nullish(),
  functions: z.array(z.unknown()).nullish(),
  function_call: z.unknown().optional(),
  audio: z.unknown().optional(),
  prediction: z.unknown().optional(),
  web_search_options: z.unknown().optional(),
};

type Fields<Shape> = { [K in keyof Shape]?: unknown };

export function refuseUnservedCompletionFields(body: Fields<typeof unservedCompletionFields>): void {
  if (typeof body.suffix === "string" && body.suffix !== "") {
    throw unsupported("suffix", "is not supported (no fill-in-the-middle); put the text in `prompt`");
  }
  if (typeof body.best_of === "number" && body.best_of > 1) {
    throw unsupported("best_of", "is not supported on /v1/completions; use n (or TGI's /generate with best_of)");
  }
}

export function refuseUnservedChatFields(body: Fields<typeof unservedChatFields>): void {
  if (Array.isArray(body.functions) && body.functions.length > 0) {
    throw unsupported("functions", "is not supported (OpenAI's deprecated form); use tools");
  }
  if (body.function_call != null) {
    throw unsupported("function_call", "is not supported (OpenAI's deprecated form); use tool_choice");
  }
  if (Array.isArray(body.modalities) && body.modalities.some((modality) => modality !== "text")) {
    throw unsupported("modalities", 'is not supported beyond ["text"]');
  }
  for (const field of ["audio", "prediction", "web_search_options"] as const) {
    if (body[field] != null) throw unsupported(field, "is not supported");
  }
}
