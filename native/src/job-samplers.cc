// A job's samplers: the llama.cpp sampler chain (watermark, logit bias, penalties, then greedy or
// top-k / top-p / typical / temperature / seeded distribution), the grammar sampler that checks the
// chain's choice (grammar-sampling.h), and the greedy fast path (greedy-sampling.h). Built on the
// JavaScript thread by start(), run by the loop thread on each step's logits (SampleToken, with the
// token's log-probabilities), freed when the job ends.
#include "job-samplers.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

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
  if (params.watermark.On()) {
    llama_token previous = job.prompt.empty() ? -1 : job.prompt.back();
    api.llama_sampler_chain_add(job.chain, NewWatermarkSampler(api, params.watermark, previous));
  }
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
    if (job.grammar == nullptr && params.repeat_penalty == 1.0f && !counted && !params.watermark.On()) {
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

llama_token SampleToken(const LlamaApi& api, SamplingWorkspace& workspace, int32_t n_vocab, const float* logits, Job& job,
                        Event& event, std::string& error) {
  if (logits == nullptr) {
    error = "no logits for the sequence";
    return -1;
  }
  llama_token token = -1;
  if (job.grammar != nullptr) {
    bool retried = false;
    token = SampleWithGrammar(api, workspace.grammar_vocabulary, job.grammar, job.chain, logits, workspace.candidates,
                              job.grammar_by_first_character, retried);
    workspace.grammar_tokens += 1;
    if (retried) workspace.grammar_retries += 1;
  } else if (job.greedy) {
    token = job.greedy_picker.Pick(logits, n_vocab, workspace.greedy_scratch);
  } else {
    for (int32_t id = 0; id < n_vocab; id += 1) workspace.candidates[static_cast<size_t>(id)] = {id, logits[id], 0.0f};
    llama_token_data_array array{workspace.candidates.data(), workspace.candidates.size(), -1, false};
    api.llama_sampler_apply(job.chain, &array);
    if (array.selected >= 0 && static_cast<size_t>(array.selected) < array.size) token = array.data[array.selected].id;
  }
  if (token < 0) {
    error = token == kGrammarDeadEnd ? kGrammarDeadEndMessage : "the sampler selected no token";
    return -1;
  }
  if (job.grammar != nullptr) {
    api.llama_sampler_accept(job.grammar, token);
    if (!workspace.grammar_vocabulary.Ascii(token)) job.grammar_by_first_character = false;
  }
  api.llama_sampler_accept(job.chain, token);
  if (job.logprobs || job.top_logprobs > 0) {
    // log-softmax of the raw logits (before bias, grammar and temperature): the model's own
    // distribution, as vLLM reports by default and node-llama-cpp's confidence is.
    float normalizer = LogNormalizer(logits, n_vocab);
    event.has_logprob = true;
    event.logprob = logits[token] - normalizer;
    if (job.top_logprobs > 0) {
      size_t count = std::min(static_cast<size_t>(job.top_logprobs), static_cast<size_t>(n_vocab));
      workspace.top_scratch.resize(static_cast<size_t>(n_vocab));
      for (int32_t i = 0; i < n_vocab; i += 1) workspace.top_scratch[static_cast<size_t>(i)] = i;
      std::partial_sort(workspace.top_scratch.begin(), workspace.top_scratch.begin() + static_cast<std::ptrdiff_t>(count),
                        workspace.top_scratch.end(), [logits](llama_token a, llama_token b) {
                          return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                        });
      event.top.reserve(count);
      for (size_t i = 0; i < count; i += 1) {
        llama_token id = workspace.top_scratch[i];
        event.top.emplace_back(id, logits[id] - normalizer);
      }
    }
  }
  return token;
}

float LogNormalizer(const float* logits, int32_t n_vocab) {
  float max = logits[0];
  for (int32_t i = 1; i < n_vocab; i += 1) max = std::max(max, logits[i]);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; i += 1) sum += std::exp(static_cast<double>(logits[i] - max));
  return max + static_cast<float>(std::log(sum));
}

}  // namespace llm_twin
