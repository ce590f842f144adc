// Adapter scheduling: which llama.cpp context a job decodes in (PickContext), which LoRA adapter a
// context's step decodes (ChooseAdapter) and setting it on the context (ApplyAdapter). Not used in
// batched LoRA mode, where every adapter decodes in every step (batched-lora.h).
#include "adapter-schedule.h"

#include <algorithm>
#include <limits>

#include "prompt-cache.h"

namespace llm_twin {

namespace {

constexpr int32_t kStepsPerAdapter = 16;

}  // namespace

// The context a job decodes in. With one context, always it. With several: one already decoding
// this adapter only (the batch grows; the slot's own first, for its cached prefix); else an idle
// one (the slot's own, else one already set to this adapter); else, every context busy with other
// adapters, the least loaded, whose steps then rotate among its adapters.
// A job of n > 1 that can copy its sibling's prompt KV goes to the sibling's context (KV cannot
// be copied across contexts) when that saves more than the slot's own cached prefix.
int32_t PickContext(const std::vector<ContextState>& contexts, const std::vector<SlotState>& slots, const SlotState& slot,
                    const Job& job) {
  size_t count = contexts.size();
  if (count == 1) return 0;
  if (job.share_with >= 0) {
    int32_t sibling = slots[static_cast<size_t>(job.share_with)].context;
    size_t own = slot.cached_adapter == job.adapter && job.cache_prompt ? CommonPrefix(slot.cached, job.prompt) : 0;
    if (WaitsForSharedPrompt(slots, job, sibling) || SharedPrefix(slots, job, sibling) > own) return sibling;
  }
  std::vector<int32_t> active(count, 0);
  std::vector<bool> same(count, true);
  for (const SlotState& other : slots) {
    if (!other.active) continue;
    size_t context = static_cast<size_t>(other.context);
    active[context] += 1;
    if (other.job.adapter != job.adapter) same[context] = false;
  }
  size_t own = static_cast<size_t>(slot.context);
  if (active[own] > 0 && same[own]) return slot.context;
  for (size_t c = 0; c < count; c += 1) {
    if (active[c] > 0 && same[c]) return static_cast<int32_t>(c);
  }
  if (active[own] == 0) return slot.context;
  for (size_t c = 0; c < count; c += 1) {
    if (active[c] == 0 && contexts[c].applied_adapter == job.adapter) return static_cast<int32_t>(c);
  }
  for (size_t c = 0; c < count; c += 1) {
    if (active[c] == 0) return static_cast<int32_t>(c);
  }
  size_t least = 0;
  for (size_t c = 1; c < count; c += 1) {
    if (active[c] < active[least]) least = c;
  }
  return static_cast<int32_t>(least);
}

// llama.cpp applies LoRA adapters per context: a step decodes the slots of one adapter (or the
// base model) only. With several in use, the steps rotate among them, so none starves
// (llama-server likewise batches only requests with the same adapter set together). Changing the
// context's adapters makes llama.cpp rebuild its graph, so an adapter keeps the loop for up to
// kStepsPerAdapter steps while others wait.
// With several contexts, each context's slots are chosen per adapter (PickContext), so a context
// rotates only when more adapter sets are in use than there are contexts.
int32_t ChooseAdapter(ContextState& state, const std::vector<SlotState>& slots, int32_t context) {
  bool current_active = false;
  for (const SlotState& slot : slots) {
    if (slot.active && slot.context == context && slot.job.adapter == state.step_adapter) current_active = true;
  }
  state.steps_on_adapter += 1;
  if (current_active && state.steps_on_adapter < kStepsPerAdapter) return state.step_adapter;
  state.steps_on_adapter = 0;
  bool any = false;
  int32_t first = std::numeric_limits<int32_t>::max();
  int32_t next = std::numeric_limits<int32_t>::max();
  for (const SlotState& slot : slots) {
    if (!slot.active || slot.context != context) continue;
    any = true;
    first = std::min(first, slot.job.adapter);
    if (slot.job.adapter > state.step_adapter) next = std::min(next, slot.job.adapter);
  }
  if (!any) return state.step_adapter;
  return next != std::numeric_limits<int32_t>::max() ? next : first;
}

void ApplyAdapter(const LlamaApi& api, ContextState& state, int32_t adapter, const std::vector<llama_adapter_lora*>& loras,
                  const std::vector<LoraSpec>& lora_specs) {
  if (adapter == state.applied_adapter) return;
  if (adapter < 0) {
    api.llama_set_adapters_lora(state.ctx, nullptr, 0, nullptr);
  } else {
    llama_adapter_lora* chosen = loras[static_cast<size_t>(adapter)];
    float scale = lora_specs[static_cast<size_t>(adapter)].scale;
    api.llama_set_adapters_lora(state.ctx, &chosen, 1, &scale);
  }
  state.applied_adapter = adapter;
}

}  // namespace llm_twin
