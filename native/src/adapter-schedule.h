// Adapter scheduling (adapter-schedule.cc): the context a job decodes in, the LoRA adapter of a
// context's step, and setting it on the context.
#pragma once

#include <cstdint>
#include <vector>

#include "llama-api.h"
#include "loop-types.h"

namespace llm_twin {

// The context (index into `contexts`) the job decodes in, when it is placed on `slot`.
int32_t PickContext(const std::vector<ContextState>& contexts, const std::vector<SlotState>& slots, const SlotState& slot,
                    const Job& job);

// The adapter (-1: the base model) that the step of `state` (context number `context`) decodes.
int32_t ChooseAdapter(ContextState& state, const std::vector<SlotState>& slots, int32_t context);

// Sets `adapter` (-1: none) on the context, unless it is already set.
void ApplyAdapter(const LlamaApi& api, ContextState& state, int32_t adapter, const std::vector<llama_adapter_lora*>& loras,
                  const std::vector<LoraSpec>& lora_specs);

}  // namespace llm_twin
