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
#define LLM_TWIN_RESOLVE(name)                                                  \
  api.name = reinterpret_cast<decltype(api.name)>(dlsym(handle, #name));        \
  if (api.name == nullptr) return std::string("libllama lacks the function ") + #name;
  LLM_TWIN_LLAMA_FUNCTIONS(LLM_TWIN_RESOLVE)
#undef LLM_TWIN_RESOLVE
  return "";
}

}  // namespace llm_twin
