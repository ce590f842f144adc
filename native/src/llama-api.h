// The llama.cpp functions the generation loop uses, resolved with dlsym from the libllama that
// node-llama-cpp has already loaded (same path → same instance, backends already initialised).
// Nothing links against libllama: the addon works with whichever build node-llama-cpp picked.
#pragma once

#include <string>

#include "llama.h"

#define LLM_TWIN_LLAMA_FUNCTIONS(X)   \
  X(llama_model_default_params)       \
  X(llama_context_default_params)     \
  X(llama_sampler_chain_default_params) \
  X(llama_model_load_from_file)       \
  X(llama_model_free)                 \
  X(llama_model_n_layer)              \
  X(llama_init_from_model)            \
  X(llama_free)                       \
  X(llama_n_ctx)                      \
  X(llama_model_get_vocab)            \
  X(llama_vocab_n_tokens)             \
  X(llama_vocab_is_eog)               \
  X(llama_token_to_piece)             \
  X(llama_get_memory)                 \
  X(llama_memory_seq_rm)              \
  X(llama_memory_seq_cp)              \
  X(llama_batch_init)                 \
  X(llama_batch_free)                 \
  X(llama_decode)                     \
  X(llama_get_logits_ith)             \
  X(llama_sampler_chain_init)         \
  X(llama_sampler_chain_add)          \
  X(llama_sampler_init_greedy)        \
  X(llama_sampler_init_dist)          \
  X(llama_sampler_init_top_k)         \
  X(llama_sampler_init_top_p)         \
  X(llama_sampler_init_temp)          \
  X(llama_sampler_init_grammar)       \
  X(llama_sampler_init_penalties)     \
  X(llama_sampler_init_logit_bias)    \
  X(llama_sampler_accept)             \
  X(llama_sampler_apply)              \
  X(llama_sampler_free)               \
  X(llama_adapter_lora_init)          \
  X(llama_set_adapters_lora)         \
  X(llama_set_n_threads)

namespace llm_twin {

struct LlamaApi {
#define LLM_TWIN_DECLARE(name) decltype(&::name) name = nullptr;
  LLM_TWIN_LLAMA_FUNCTIONS(LLM_TWIN_DECLARE)
#undef LLM_TWIN_DECLARE
};

// Resolves every function from the library at `path`, which must already be loaded by the
// process (RTLD_NOLOAD): loading a second copy would mean a second, uninitialised ggml.
// Returns an empty string on success, else what went wrong.
std::string LoadLlamaApi(const std::string& path, LlamaApi& api);

}  // namespace llm_twin
