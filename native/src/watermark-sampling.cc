#include "watermark-sampling.h"

namespace llm_twin {
namespace {

uint64_t Finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct WatermarkState {
  const LlamaApi* api;
  WatermarkParams params;
  llama_token first_previous;  // the last prompt token, kept for reset
  llama_token previous;
};

WatermarkState* StateOf(const llama_sampler* sampler) { return static_cast<WatermarkState*>(sampler->ctx); }

const char* Name(const llama_sampler* /*sampler*/) { return "llm-twin-watermark"; }

void Accept(llama_sampler* sampler, llama_token token) { StateOf(sampler)->previous = token; }

void Apply(llama_sampler* sampler, llama_token_data_array* candidates) {
  const WatermarkState& state = *StateOf(sampler);
  for (size_t i = 0; i < candidates->size; i += 1) {
    llama_token_data& candidate = candidates->data[i];
    if (WatermarkGreen(state.previous, candidate.id, state.params.gamma)) candidate.logit += state.params.delta;
  }
}

void Reset(llama_sampler* sampler) {
  WatermarkState* state = StateOf(sampler);
  state->previous = state->first_previous;
}

llama_sampler* Clone(const llama_sampler* sampler) {
  const WatermarkState& state = *StateOf(sampler);
  llama_sampler* copy = NewWatermarkSampler(*state.api, state.params, state.first_previous);
  StateOf(copy)->previous = state.previous;
  return copy;
}

void Free(llama_sampler* sampler) { delete StateOf(sampler); }

llama_sampler_i kInterface = [] {
  llama_sampler_i iface{};
  iface.name = &Name;
  iface.accept = &Accept;
  iface.apply = &Apply;
  iface.reset = &Reset;
  iface.clone = &Clone;
  iface.free = &Free;
  return iface;
}();

}  // namespace

bool WatermarkGreen(llama_token previous, llama_token token, double gamma) {
  uint64_t pair = (static_cast<uint64_t>(static_cast<uint32_t>(previous)) << 32) | static_cast<uint32_t>(token);
  return static_cast<double>(Finalize(kWatermarkKey ^ pair) >> 11) * 0x1p-53 < gamma;
}

llama_sampler* NewWatermarkSampler(const LlamaApi& api, const WatermarkParams& params, llama_token previous) {
  auto* state = new WatermarkState{&api, params, previous, previous};
  return api.llama_sampler_init(&kInterface, state);
}

}  // namespace llm_twin
