// A job's samplers (job-samplers.cc): building and freeing the sampler chain, the grammar and the
// greedy fast path, and choosing a job's token from a step's logits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grammar-sampling.h"
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

// The loop thread's sampling state, shared by every job: the vocabulary's grammar index, reusable
// space, counters.
struct SamplingWorkspace {
  GrammarVocabulary grammar_vocabulary;  // built when the model loads
  std::vector<llama_token_data> candidates;  // n_vocab entries
  std::vector<float> greedy_scratch;
  std::vector<llama_token> top_scratch;
  uint64_t grammar_tokens = 0;   // tokens sampled under a grammar
  uint64_t grammar_retries = 0;  // of which the grammar refused the first choice
};

// The job's next token from its sequence's logits (nullptr: none), through its grammar, greedy
// picker or chain, which then accept it; with logprobs, fills event's logprob and top
// alternatives. A negative token means failure, with `error` saying why.
llama_token SampleToken(const LlamaApi& api, SamplingWorkspace& workspace, int32_t n_vocab, const float* logits, Job& job,
                        Event& event, std::string& error);

// log Σ exp(logit): logit − LogNormalizer is the token's log-probability.
float LogNormalizer(const float* logits, int32_t n_vocab);

}  // namespace llm_twin
