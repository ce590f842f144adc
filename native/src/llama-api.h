// The llama.cpp and ggml functions the addon uses (generation loop, batched LoRA), resolved with
// dlsym from the libllama that node-llama-cpp has already loaded (same path → same instance,
// backends already initialised; dlsym also searches its dependencies, libggml-base and libggml).
// Nothing links against libllama: the addon works with whichever build node-llama-cpp picked.
// This is the one list of resolved symbols: a new function goes into one of the lists below.
#pragma once

#include <string>

#include "ggml-backend.h"
#include "ggml.h"
#include "gguf.h"
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
  X(llama_sampler_init_typical)       \
  X(llama_sampler_init_temp)          \
  X(llama_sampler_init_grammar)       \
  X(llama_sampler_init_penalties)     \
  X(llama_sampler_init_logit_bias)    \
  X(llama_sampler_init)               \
  X(llama_sampler_accept)             \
  X(llama_sampler_apply)              \
  X(llama_sampler_free)               \
  X(llama_adapter_lora_init)          \
  X(llama_set_adapters_lora)         \
  X(llama_set_n_threads)              \
  X(llama_attach_threadpool)

// From ggml (libllama's dependencies): the GGUF reader, F16 conversion and backend registry that
// batched LoRA uses to read adapter files and to give its context a persistent CPU threadpool.
#define LLM_TWIN_GGML_FUNCTIONS(X)      \
  X(gguf_init_from_file)                \
  X(gguf_free)                          \
  X(gguf_find_key)                      \
  X(gguf_get_kv_type)                   \
  X(gguf_get_val_f32)                   \
  X(gguf_get_data_offset)               \
  X(gguf_get_n_tensors)                 \
  X(gguf_find_tensor)                   \
  X(gguf_get_tensor_name)               \
  X(gguf_get_tensor_offset)             \
  X(gguf_get_tensor_ne)                 \
  X(gguf_get_tensor_type)               \
  X(ggml_fp16_to_fp32_row)              \
  X(ggml_backend_buffer_is_host)        \
  X(ggml_threadpool_params_default)     \
  X(ggml_backend_dev_by_type)           \
  X(ggml_backend_dev_backend_reg)       \
  X(ggml_backend_reg_get_proc_address)

namespace llm_twin {

struct LlamaApi {
#define LLM_TWIN_DECLARE(name) decltype(&::name) name = nullptr;
  LLM_TWIN_LLAMA_FUNCTIONS(LLM_TWIN_DECLARE)
  LLM_TWIN_GGML_FUNCTIONS(LLM_TWIN_DECLARE)
#undef LLM_TWIN_DECLARE
};

// Resolves every function from the library at `path`, which must already be loaded by the
// process (RTLD_NOLOAD): loading a second copy would mean a second, uninitialised ggml.
// Returns an empty string on success, else what went wrong.
std::string LoadLlamaApi(const std::string& path, LlamaApi& api);

// The token's text (llama_token_to_piece, no lstrip) into `piece`, resized to fit; `special`:
// control tokens render their text instead of "".
void TokenPiece(const LlamaApi& api, const llama_vocab* vocab, llama_token token, bool special, std::string& piece);

}  // namespace llm_twin
