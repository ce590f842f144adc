// The generation loop's data: its LoRA adapters (LoraSpec), what a job asks for (SamplingParams,
// read by loop-params), a job (Job), the state of each slot = llama.cpp sequence (SlotState) and of
// each llama.cpp context (ContextState), and what goes back to JavaScript (Event, Done, Delivery).
// Plain structs shared by the loop's files; no behaviour beyond DoneName.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "greedy-sampling.h"
#include "llama-api.h"
#include "watermark-sampling.h"

namespace llm_twin {

struct NativeStream;   // native-stream.h
struct StreamOutcome;  // native-stream.h

// A LoRA adapter of the loop (new GenerationLoop's loras[]).
struct LoraSpec {
  std::string path;
  float scale;
};

struct SamplingParams {
  float temperature = 0.0f;
  int32_t top_k = 0;
  float top_p = 1.0f;
  float typical_p = 1.0f;  // locally typical sampling (TGI's typical_p); 1 = off
  uint32_t seed = 0;
  float repeat_penalty = 1.0f;
  // OpenAI's: logit −= frequency × count + presence × (count > 0), over the generated tokens only.
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  bool ignore_eos = false;
  bool logprobs = false;
  int32_t top_logprobs = 0;     // alternatives reported per generated token (0–20)
  bool prompt_logprobs = false;  // each prompt token's log-probability (TGI's prefill details)
  int32_t share_with = -1;       // the slot whose prompt KV this job may copy (n > 1)
  bool cache_prompt = true;
  int32_t adapter = -1;
  int32_t max_tokens = 1;
  std::vector<llama_logit_bias> bias;
  std::string grammar;
  std::string grammar_root;
  WatermarkParams watermark;  // TGI's watermark (watermark-sampling.h); off unless gamma > 0
};

struct Job {
  uint32_t id = 0;
  int32_t slot = 0;
  std::vector<llama_token> prompt;
  llama_sampler* grammar = nullptr;  // checks the chain's choice (grammar-sampling.h); never fed the prompt
  llama_sampler* chain = nullptr;
  // The grammar may skip tokens by their first character (grammar-sampling.h): it has no token
  // references and every piece accepted so far is ASCII.
  bool grammar_by_first_character = false;
  // Temperature 0 without grammar or penalty: the token comes from GreedyPicker, not the chain.
  bool greedy = false;
  GreedyPicker greedy_picker;
  int32_t max_tokens = 1;
  bool logprobs = false;
  int32_t top_logprobs = 0;
  bool prompt_logprobs = false;
  // n > 1: a job started with the same prompt as the job on slot `share_with` copies that
  // sequence's prompt KV (llama_memory_seq_cp) instead of decoding the prompt again.
  int32_t share_with = -1;
  // Reuse the longest common prefix of the slot's cached tokens (llama-server's cache_prompt).
  bool cache_prompt = true;
  int32_t cached_tokens = 0;  // prompt tokens served from the slot's cache
  int32_t adapter = -1;       // index of the LoRA adapter in the loop's list; -1: the base model
  // Streamed by the addon (native-stream.h): no per-token event, one outcome with the done event.
  std::shared_ptr<NativeStream> stream;
};

struct SlotState {
  bool active = false;
  Job job;
  size_t prompt_pos = 0;  // prompt tokens already decoded
  int32_t n_past = 0;     // positions in the sequence's memory
  llama_token next = -1;  // the sampled token still to decode
  int32_t generated = 0;
  int32_t logits_index = -1;  // this step's batch index holding the slot's logits
  bool in_batch = false;
  // The tokens whose KV is in the slot's sequence, positions 0…n−1. Kept after a job ends (the
  // prompt cache); cleared when the sequence is cleared.
  std::vector<llama_token> cached;
  int32_t cached_adapter = -1;  // the adapter the cached KV was computed with
  // A job waiting for the prompt of the job on this slot to be decoded, to copy its KV; -1: none.
  int32_t waiting_for = -1;
  // Prompt logprobs: the batch index of this step's first prompt token and how many were added.
  int32_t prompt_batch_first = -1;
  int32_t prompt_batch_count = 0;
  size_t prompt_batch_pos = 0;  // the prompt position of that first token
  std::vector<float> prompt_logprobs;
  int32_t context = 0;          // the context holding the sequence (the cached KV; the job's decodes)
};

// One llama_context of the loop, sharing the model with the others. Each has its own KV memory
// (every slot's sequence) and its own LoRA adapter set: with several contexts, jobs of different
// adapters go to different contexts and their decode steps run concurrently, each context keeping
// its adapter (no graph rebuild per switch). A context shared by several adapters rotates its steps.
struct ContextState {
  llama_context* ctx = nullptr;
  llama_batch batch{};
  bool has_batch = false;
  int32_t step_adapter = -1;     // the adapter of the current step
  int32_t applied_adapter = -1;  // the adapter set on the context
  int32_t steps_on_adapter = 0;  // consecutive steps of step_adapter
  int32_t threads = 0;           // the thread counts last set on the context
  int32_t threads_batch = 0;
  int32_t status = 0;  // this step's llama_decode status
  std::string lora_failure;  // batched LoRA could not apply the adapters: the step's output is void
  std::string failure;  // an exception escaping this step's decode
};

enum class Done : uint8_t { None, Eos, Length, Cancelled, Error };

inline const char* DoneName(Done done) {
  switch (done) {
    case Done::Eos: return "eos";
    case Done::Length: return "length";
    case Done::Cancelled: return "cancelled";
    case Done::Error: return "error";
    default: return nullptr;
  }
}

struct Event {
  uint32_t job = 0;
  int32_t token = -1;
  bool has_logprob = false;
  float logprob = 0.0f;
  Done done = Done::None;
  std::string error;
  int32_t cached_tokens = -1;  // with done: prompt tokens that came from the cache
  std::vector<std::pair<llama_token, float>> top;  // the most likely tokens, by logprob
  std::vector<float> prompt_logprobs;  // with the first token: prompt tokens 1…n−1
  std::shared_ptr<StreamOutcome> stream;  // with done, for a streamed job
};

// One delivery to JavaScript: the model finished loading (or failed to), or one step's events.
struct Delivery {
  float progress = -1.0f;  // model loading progress, 0…1, when >= 0
  bool ready = false;
  std::string load_error;
  const char* load_error_code = nullptr;  // kLoraRefused when the LoRA configuration is at fault
  std::vector<Event> events;
  uint64_t decodes = 0;
  uint64_t tokens = 0;
  uint64_t grammar_tokens = 0;
  uint64_t grammar_retries = 0;
};

}  // namespace llm_twin
