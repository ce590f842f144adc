// Reading and checking what JavaScript passes to the generation loop: the loop's options
// (LoopConfig) and each job's sampling parameters (SamplingParams, loop-types.h). Numbers cross
// the boundary as doubles and are checked before they are converted (CheckedNumber).
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "llama-api.h"
#include "loop-types.h"

namespace llm_twin {

constexpr int32_t kMaxTopLogprobs = 20;
constexpr int32_t kDefaultMaxPending = 64;

// new GenerationLoop(options, …)'s options, checked.
struct LoopConfig {
  std::string library;
  std::string model_path;
  int32_t sequences = 1;
  int32_t context_per_sequence = 512;
  int32_t batch_size = 512;
  int32_t threads = 1;
  int32_t threads_batch = 1;
  int32_t max_pending = kDefaultMaxPending;
  int32_t contexts_count = 1;
  std::vector<LoraSpec> lora_specs;
  bool batched = false;  // LoRA adapters applied per token in one context (batched-lora.h)
  llama_flash_attn_type flash = LLAMA_FLASH_ATTN_TYPE_AUTO;
};

// What start()'s parameters are checked against: the loop's slots, adapters and vocabulary.
struct ParamLimits {
  int32_t sequences;
  size_t adapters;
  int32_t n_vocab;
  const std::vector<llama_token>& eog_tokens;  // banned by ignoreEos
};

double CheckedNumber(Napi::Env env, Napi::Value value, const char* name, double min, double max, bool integer);

int32_t CheckedInt32(Napi::Env env, Napi::Value value, const char* name, int32_t min,
                     int32_t max = std::numeric_limits<int32_t>::max());

LoopConfig ReadLoopConfig(Napi::Env env, Napi::Object options);

SamplingParams ReadParams(Napi::Object object, const ParamLimits& limits);

}  // namespace llm_twin
