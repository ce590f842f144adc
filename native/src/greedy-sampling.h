// Greedy sampling straight from the logits.
//
// At temperature 0 without a grammar or a repetition penalty the sampler chain is llama.cpp's
// logit_bias (when a request biases or bans tokens, ignore_eos included) followed by greedy: the
// first token with the highest biased logit. Running that chain means writing a 32,000-entry
// candidate array and scanning it, on the loop thread, between two decodes, once per sequence per
// step, while the decode threads wait. GreedyPicker picks the same token from the logits: the
// biases are added to a copy in the chain's order (the same float additions), and the maximum is
// found with SIMD. Ties and NaN end alike: the first highest, NaN never chosen unless it is the
// first logit (greedy keeps token 0 then).
#pragma once

#include <cstdint>
#include <vector>

#include "llama-api.h"

namespace llm_twin {

class GreedyPicker {
 public:
  GreedyPicker() = default;
  explicit GreedyPicker(std::vector<llama_logit_bias> bias) : bias_(std::move(bias)) {}

  // The token logit_bias + greedy would select. `scratch` is the caller's reusable space.
  llama_token Pick(const float* logits, int32_t n_vocab, std::vector<float>& scratch) const;

 private:
  std::vector<llama_logit_bias> bias_;  // in the order the request gave them
};

// The index of the first highest value, NaN skipped; 0 when values[0] is NaN or n is 0.
int32_t FirstArgmax(const float* values, int32_t n);

}  // namespace llm_twin
