/**
 * Request limits with TGI semantics: max input tokens, max total tokens (input + new tokens) and
 * max new tokens. Violations are `validation_error` (422) with the numbers in the message.
 */
import { AppError } from "../../errors/index.js";

export type TokenLimits = {
  maxInputTokens: number;
  /** Input tokens plus max_new_tokens; also the context size of each sequence. */
  maxTotalTokens: number;
  maxNewTokens: number;
};

/** Returns the max_new_tokens to use: the requested value, or what the total budget leaves. */
export function checkTokenLimits(
  limits: TokenLimits,
  inputTokens: number,
  requestedMaxNewTokens: number | undefined,
): number {
  if (inputTokens === 0) {
    throw validation("`inputs` cannot be empty", { inputTokens });
  }
  if (inputTokens > limits.maxInputTokens) {
    throw validation(`\`inputs\` must have less than ${limits.maxInputTokens} tokens. Given: ${inputTokens}`, {
      inputTokens,
      maxInputTokens: limits.maxInputTokens,
    });
  }
  if (requestedMaxNewTokens !== undefined) {
    if (!Number.isInteger(requestedMaxNewTokens) || requestedMaxNewTokens < 1) {
      throw validation(`\`max_new_tokens\` must be a positive integer. Given: ${requestedMaxNewTokens}`, {});
    }
    if (requestedMaxNewTokens > limits.maxNewTokens) {
      throw validation(`\`max_new_tokens\` must be <= ${limits.maxNewTokens}. Given: ${requestedMaxNewTokens}`, {
        maxNewTokens: limits.maxNewTokens,
        requestedMaxNewTokens,
      });
    }
  }
  const maxNewTokens = requestedMaxNewTokens ?? Math.min(limits.maxNewTokens, limits.maxTotalTokens - inputTokens);
  if (inputTokens + maxNewTokens > limits.maxTotalTokens || maxNewTokens < 1) {
    throw validation(
      `\`inputs\` tokens + \`max_new_tokens\` must be <= ${limits.maxTotalTokens}. Given: ${inputTokens} \`inputs\` tokens and ${maxNewTokens} \`max_new_tokens\``,
      { inputTokens, maxNewTokens, maxTotalTokens: limits.maxTotalTokens },
    );
  }
  return maxNewTokens;
}

function validation(message: string, details: Record<string, unknown>): AppError {
  return new AppError("validation_error", `Input validation error: ${message}`, { details });
}
