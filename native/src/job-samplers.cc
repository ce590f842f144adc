// A job's samplers: the llama.cpp sampler chain (logit bias, penalties, then greedy or top-k / top-p /
// typical / temperature / seeded distribution), the grammar sampler that checks the chain's choice
// (grammar-sampling.h), and the greedy fast path (greedy-sampling.h). Built on the JavaScript
// thread by start(), freed when the job ends.
#include "job-samplers.h"

namespace llm_twin {

namespace {

constexpr int32_t kRepeatPenaltyWindow = 64;

}  // namespace

// Built on the JavaScript thread so that a bad grammar fails start() synchronously.
std::string CreateSamplers(const SamplerSetup& setup, const SamplingParams& params, Job& job) {
  const LlamaApi& api = setup.api;
  const llama_vocab* vocab = api.llama_model_get_vocab(setup.model);
  if (!params.grammar.empty()) {
    job.grammar = api.llama_sampler_init_grammar(vocab, params.grammar.c_str(), params.grammar_root.c_str());
    if (job.grammar == nullptr) return "the grammar could not be parsed";
    job.grammar_by_first_character = params.grammar.find('<') == std::string::npos;
  }
  llama_sampler_chain_params chain_params = api.llama_sampler_chain_default_params();
  chain_params.no_perf = true;
  job.chain = api.llama_sampler_chain_init(chain_params);
  if (!params.bias.empty()) {
    api.llama_sampler_chain_add(job.chain, api.llama_sampler_init_logit_bias(
                                               setup.n_vocab, static_cast<int32_t>(params.bias.size()), params.bias.data()));
  }
  if (params.repeat_penalty != 1.0f) {
    api.llama_sampler_chain_add(job.chain,
                                api.llama_sampler_init_penalties(setup.n_vocab, kRepeatPenaltyWindow, params.repeat_penalty, 0, 0));
    // The penalty window starts with the prompt, as node-llama-cpp's does; the grammar sampler
    // must not see the prompt (it would try to parse it).
    for (llama_token token : job.prompt) api.llama_sampler_accept(job.chain, token);
  }
  // Added after the prompt went through the chain: these count the generated tokens only, all
  // of them (a window as long as a sequence).
  bool counted = params.frequency_penalty != 0.0f || params.presence_penalty != 0.0f;
  if (counted) {
    api.llama_sampler_chain_add(job.chain, api.llama_sampler_init_penalties(setup.n_vocab, setup.n_ctx_sequence, 1.0f,
                                                                             params.frequency_penalty,
                                                                             params.presence_penalty));
  }
  if (params.temperature <= 0.0f) {
    api.llama_sampler_chain_add(job.chain, api.llama_sampler_init_greedy());
    if (job.grammar == nullptr && params.repeat_penalty == 1.0f && !counted) {
      job.greedy = true;
      job.greedy_picker = GreedyPicker(params.bias);
    }
  } else {
    if (params.top_k > 0) api.llama_sampler_chain_add(job.chain, api.llama_sampler_init_top_k(params.top_k));
    if (params.top_p < 1.0f) api.llama_sampler_chain_add(job.chain, api.llama_sampler_init_top_p(params.top_p, 1));
    if (params.typical_p < 1.0f) {
      api.llama_sampler_chain_add(job.chain, api.llama_sampler_init_typical(params.typical_p, 1));
    }
    api.llama_sampler_chain_add(job.chain, api.llama_sampler_init_temp(params.temperature));
    api.llama_sampler_chain_add(job.chain, api.llama_sampler_init_dist(params.seed));
  }
  return "";
}

void FreeSamplers(const LlamaApi& api, Job& job) {
  if (job.grammar != nullptr) api.llama_sampler_free(job.grammar);
  if (job.chain != nullptr) api.llama_sampler_free(job.chain);
  job.grammar = nullptr;
  job.chain = nullptr;
}

}  // namespace llm_twin
