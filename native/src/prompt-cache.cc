// The prompt cache: each slot's sequence keeps its KV after a job (SlotState.cached lists its
// tokens), and the next job on the slot reuses the longest common prefix with its prompt (llama-
// server's cache_prompt). With n > 1, a job copies the prompt KV of a sibling job with the same
// prompt (llama_memory_seq_cp), or waits for the sibling to decode it. Free functions over the
// loop's slots and llama.cpp's KV memory; the generation loop decides when each applies.
#include "prompt-cache.h"

#include <algorithm>

namespace llm_twin {

// How much of the slot's cache the job keeps: the longest common prefix with its prompt, less
// one token when the whole prompt matches (its logits must be computed), none without
// cache_prompt. The rest of the sequence is removed.
size_t ReusablePrefix(const LlamaApi& api, llama_context* ctx, const std::vector<llama_token>& cached, const Job& job) {
  size_t reuse = job.cache_prompt ? CommonPrefix(cached, job.prompt) : 0;
  llama_memory_t memory = api.llama_get_memory(ctx);
  if (!api.llama_memory_seq_rm(memory, job.slot, static_cast<llama_pos>(reuse), -1)) {
    // Memory that cannot drop a tail (recurrent models): start from scratch.
    api.llama_memory_seq_rm(memory, job.slot, -1, -1);
    reuse = 0;
  }
  return reuse;
}

size_t ClearPrefix(const LlamaApi& api, llama_context* ctx, const Job& job) {
  api.llama_memory_seq_rm(api.llama_get_memory(ctx), job.slot, -1, -1);
  return 0;
}

// The longest common prefix, less one token when the whole prompt matches (its logits must be
// computed).
size_t CommonPrefix(const std::vector<llama_token>& cached, const std::vector<llama_token>& prompt) {
  size_t limit = std::min(cached.size(), prompt.size() - 1);
  size_t length = 0;
  while (length < limit && cached[length] == prompt[length]) length += 1;
  return length;
}

// n > 1: what the sibling sequence (share_with) holds of this job's prompt, when the job decodes
// in the sibling's context (KV is copied within a context only).
size_t SharedPrefix(const std::vector<SlotState>& slots, const Job& job, int32_t context) {
  if (job.share_with < 0 || job.prompt_logprobs) return 0;
  const SlotState& sibling = slots[static_cast<size_t>(job.share_with)];
  if (sibling.context != context || sibling.waiting_for >= 0 || sibling.cached_adapter != job.adapter) return 0;
  return CommonPrefix(sibling.cached, job.prompt);
}

// The sibling is still decoding this same prompt (in `context`): wait for it and copy its KV,
// rather than decode the prompt twice.
bool WaitsForSharedPrompt(const std::vector<SlotState>& slots, const Job& job, int32_t context) {
  if (job.share_with < 0 || job.prompt_logprobs) return false;
  const SlotState& sibling = slots[static_cast<size_t>(job.share_with)];
  return sibling.active && sibling.context == context && sibling.waiting_for < 0 &&
         sibling.job.adapter == job.adapter && sibling.prompt_pos < sibling.job.prompt.size() &&
         sibling.job.prompt == job.prompt;
}

// Copies the sibling's sequence into the job's and keeps its first `length` positions. With one
// KV stream per sequence (kv_unified = false) llama.cpp copies whole streams (at the next
// decode), so the tail is removed afterwards.
size_t CopyPrefix(const LlamaApi& api, llama_context* ctx, const Job& job, size_t length) {
  llama_memory_t memory = api.llama_get_memory(ctx);
  api.llama_memory_seq_rm(memory, job.slot, -1, -1);
  api.llama_memory_seq_cp(memory, job.share_with, job.slot, -1, -1);
  if (!api.llama_memory_seq_rm(memory, job.slot, static_cast<llama_pos>(length), -1)) {
    api.llama_memory_seq_rm(memory, job.slot, -1, -1);
    return 0;
  }
  return length;
}

// The prompt of the job on `source` is decoded: the jobs waiting for it (placed in its context)
// copy its KV and sample from the same logits in this step.
void ReleaseWaiting(const LlamaApi& api, const std::vector<ContextState>& contexts, std::vector<SlotState>& slots,
                    size_t source) {
  SlotState& from = slots[source];
  for (size_t index = 0; index < slots.size(); index += 1) {
    SlotState& waiting = slots[index];
    if (!waiting.active || waiting.waiting_for != static_cast<int32_t>(source)) continue;
    llama_memory_t memory = api.llama_get_memory(contexts[static_cast<size_t>(from.context)].ctx);
    api.llama_memory_seq_rm(memory, static_cast<llama_seq_id>(index), -1, -1);
    api.llama_memory_seq_cp(memory, static_cast<llama_seq_id>(source), static_cast<llama_seq_id>(index), -1, -1);
    waiting.waiting_for = -1;
    waiting.cached = from.cached;
    waiting.prompt_pos = waiting.job.prompt.size();
    waiting.n_past = from.n_past;
    waiting.logits_index = from.logits_index;
    waiting.in_batch = true;
    waiting.job.cached_tokens = static_cast<int32_t>(waiting.job.prompt.size());
  }
}

// The job on `source` ended before its prompt was decoded: the jobs waiting for it decode
// their prompts themselves.
void AbandonWaiting(std::vector<SlotState>& slots, int32_t source) {
  for (SlotState& waiting : slots) {
    if (waiting.active && waiting.waiting_for == source) waiting.waiting_for = -1;
  }
}

}  // namespace llm_twin
