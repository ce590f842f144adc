// Building and freeing a job's samplers (job-samplers.cc): the sampler chain, the grammar, the
// greedy fast path.
#pragma once

#include <cstdint>
#include <string>

#include "llama-api.h"
#include "loop-types.h"

namespace llm_twin {

// What a job's samplers are built from besides its parameters: the loaded model.
struct SamplerSetup {
  const LlamaApi& api;
  const llama_model* model;
  int32_t n_vocab;
  int32_t n_ctx_sequence;  // the counted penalties' window: a whole sequence
};

// Sets job.chain (and job.grammar, job.greedy). "" on success, else why (the grammar does not
// parse); the caller frees what was built either way.
std::string CreateSamplers(const SamplerSetup& setup, const SamplingParams& params, Job& job);

void FreeSamplers(const LlamaApi& api, Job& job);

}  // namespace llm_twin
