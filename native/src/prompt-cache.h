// The prompt cache (prompt-cache.cc): reusing a slot's cached prefix, and with n > 1 copying or
// waiting for a sibling job's prompt KV. Slot i decodes sequence i; `ctx` is the llama.cpp context
// holding the job's sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "llama-api.h"
#include "loop-types.h"

namespace llm_twin {

// The longest common prefix of cached tokens and a prompt, less one token when the whole prompt
// matches.
size_t CommonPrefix(const std::vector<llama_token>& cached, const std::vector<llama_token>& prompt);

// Keeps the reusable prefix of the slot's cached sequence and removes the rest; returns its length.
size_t ReusablePrefix(const LlamaApi& api, llama_context* ctx, const std::vector<llama_token>& cached, const Job& job);

// Removes the job's sequence; returns 0 (no token reused).
size_t ClearPrefix(const LlamaApi& api, llama_context* ctx, const Job& job);

// n > 1: what the sibling's (job.share_with) sequence in `context` holds of the job's prompt.
size_t SharedPrefix(const std::vector<SlotState>& slots, const Job& job, int32_t context);

// n > 1: whether the job waits for its sibling (in `context`) to decode the same prompt.
bool WaitsForSharedPrompt(const std::vector<SlotState>& slots, const Job& job, int32_t context);

// Copies the sibling's sequence into the job's, keeping `length` positions; returns what was kept.
size_t CopyPrefix(const LlamaApi& api, llama_context* ctx, const Job& job, size_t length);

// The prompt on slot `source` is decoded: the slots waiting for it copy its KV and its logits.
void ReleaseWaiting(const LlamaApi& api, const std::vector<ContextState>& contexts, std::vector<SlotState>& slots,
                    size_t source);

// The job on slot `source` ended before its prompt was decoded: its waiters decode their own.
void AbandonWaiting(std::vector<SlotState>& slots, int32_t source);

}  // namespace llm_twin
