#include "watermark-sampling.h"

#include <cmath>

namespace llm_twin {
namespace {

uint64_t Finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// (h >> 11) × 2^−53 < γ ⇔ (h >> 11) < γ × 2^53 (scaling by a power of two is exact) ⇔ (h >> 11) <
// ceil(γ × 2^53) (the left side is an integer): one integer comparison instead of a conversion.
uint64_t Threshold(double gamma) { return static_cast<uint64_t>(std::ceil(gamma * 0x1p53)); }

// key XOR pair = PairHigh(previous) XOR uint32(token): the token and the previous token fill disjoint bits.
uint64_t PairHigh(llama_token previous) {
  return kWatermarkKey ^ (static_cast<uint64_t>(static_cast<uint32_t>(previous)) << 32);
}

struct WatermarkState {
  const LlamaApi* api;
  WatermarkParams params;
  uint64_t threshold;
  llama_token first_previous;  // the last prompt token, kept for reset
  llama_token previous;
};

WatermarkState* StateOf(const llama_sampler* sampler) { return static_cast<WatermarkState*>(sampler->ctx); }

const char* Name(const llama_sampler* /*sampler*/) { return "llm-twin-watermark"; }

void Accept(llama_sampler* sampler, llama_token token) { StateOf(sampler)->previous = token; }

void Apply(llama_sampler* sampler, llama_token_data_array* candidates) {
  // 32,000 candidates a step: the hash's high half is the step's, and the addition is branchless
  // (a green token is a coin flip, which a branch would mispredict half the time).
  const WatermarkState& state = *StateOf(sampler);
  const uint64_t high = PairHigh(state.previous);
  const float delta = state.params.delta;
  for (size_t i = 0; i < candidates->size; i += 1) {
    llama_token_data& candidate = candidates->data[i];
    bool green = (Finalize(high ^ static_cast<uint32_t>(candidate.id)) >> 11) < state.threshold;
    candidate.logit += green ? delta : 0.0f;
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

llama_sampler* NewWatermarkSampler(const LlamaApi& api, const WatermarkParams& params, llama_token previous) {
  auto* state = new WatermarkState{&api, params, Threshold(params.gamma), previous, previous};
  return api.llama_sampler_init(&kInterface, state);
}

}  // namespace llm_twin
