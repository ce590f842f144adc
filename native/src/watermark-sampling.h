// TGI's `watermark` (Kirchenbauer et al. 2023, "A Watermark for Large Language Models"): before
// the token is chosen (greedy or sampled), every token of a "green list" gets +delta on its logit.
// The green list is a fraction gamma of the vocabulary chosen pseudo-randomly from the previous
// token and a fixed key, so text generated this way holds more green tokens than chance, which a
// detector that knows the rule and the key can count from the token ids alone.
//
// TGI draws the list with torch's randperm seeded by key × previous token; that cannot be
// reproduced here (nor need it be). Our rule, which src/llm/watermark/watermark-rule.ts mirrors
// and docs/llm-service.md documents (changing it makes earlier text undetectable):
//   pair  = (uint64(uint32(previous)) << 32) | uint32(token)
//   h     = splitmix64_finalizer(kWatermarkKey XOR pair)
//   green ⇔ (h >> 11) × 2^−53 < gamma           (compared as doubles; exact)
// where splitmix64_finalizer(z): z = (z ^ z>>30) × 0xbf58476d1ce4e5b9; z = (z ^ z>>27) ×
// 0x94d049bb133111eb; z ^ z>>31 (all modulo 2^64). The previous token of the first generated token
// is the last prompt token, then each accepted token.
#pragma once

#include <cstdint>

#include "llama-api.h"

namespace llm_twin {

// TGI's hash key (text-generation-inference's watermark.py).
constexpr uint64_t kWatermarkKey = 15485863;

// What a request asks for: gamma = 0 means no watermark.
struct WatermarkParams {
  double gamma = 0.0;
  float delta = 0.0f;
  bool On() const { return gamma > 0.0; }
};

// A sampler that adds `delta` to the logit of every green candidate; meant first in a chain, so
// that penalties, temperature and top-k/top-p see the boosted logits (TGI's order). `previous` is
// the last prompt token; accepting a token makes it the previous one.
llama_sampler* NewWatermarkSampler(const LlamaApi& api, const WatermarkParams& params, llama_token previous);

}  // namespace llm_twin
