#include "llama-api.h"

#include <dlfcn.h>

namespace llm_twin {

std::string LoadLlamaApi(const std::string& path, LlamaApi& api) {
  // The handle is never closed: the library stays loaded for node-llama-cpp anyway.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (handle == nullptr) {
    const char* error = dlerror();
    return "libllama is not loaded in this process (" + path + "): " + (error == nullptr ? "unknown error" : error);
  }
#define LLM_TWIN_RESOLVE(library, name)                                         \
  api.name = reinterpret_cast<decltype(api.name)>(dlsym(handle, #name));        \
  if (api.name == nullptr) return std::string(library " lacks the function ") + #name;
#define LLM_TWIN_RESOLVE_LLAMA(name) LLM_TWIN_RESOLVE("libllama", name)
#define LLM_TWIN_RESOLVE_GGML(name) LLM_TWIN_RESOLVE("ggml", name)
  LLM_TWIN_LLAMA_FUNCTIONS(LLM_TWIN_RESOLVE_LLAMA)
  LLM_TWIN_GGML_FUNCTIONS(LLM_TWIN_RESOLVE_GGML)
#undef LLM_TWIN_RESOLVE_GGML
#undef LLM_TWIN_RESOLVE_LLAMA
#undef LLM_TWIN_RESOLVE
  return "";
}

void TokenPiece(const LlamaApi& api, const llama_vocab* vocab, llama_token token, bool special, std::string& piece) {
  piece.resize(32);
  int32_t length = api.llama_token_to_piece(vocab, token, piece.data(), static_cast<int32_t>(piece.size()), 0, special);
  if (length < 0) {
    piece.resize(static_cast<size_t>(-length));
    length = api.llama_token_to_piece(vocab, token, piece.data(), static_cast<int32_t>(piece.size()), 0, special);
  }
  piece.resize(static_cast<size_t>(length < 0 ? 0 : length));
}

}  // namespace llm_twin
