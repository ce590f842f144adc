#include "greedy-sampling.h"

#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace llm_twin {

int32_t FirstArgmax(const float* values, int32_t n) {
  if (n <= 0 || std::isnan(values[0])) return 0;
  float best = values[0];
  int32_t i = 1;
#if defined(__SSE2__)
  // _mm_max_ps(v, m) is v > m ? v : m per lane, the comparison greedy makes: NaN never wins.
  __m128 m0 = _mm_set1_ps(best), m1 = m0, m2 = m0, m3 = m0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm_max_ps(_mm_loadu_ps(values + i), m0);
    m1 = _mm_max_ps(_mm_loadu_ps(values + i + 4), m1);
    m2 = _mm_max_ps(_mm_loadu_ps(values + i + 8), m2);
    m3 = _mm_max_ps(_mm_loadu_ps(values + i + 12), m3);
  }
  alignas(16) float lanes[16];
  _mm_store_ps(lanes, m0);
  _mm_store_ps(lanes + 4, m1);
  _mm_store_ps(lanes + 8, m2);
  _mm_store_ps(lanes + 12, m3);
  for (float lane : lanes) best = lane > best ? lane : best;
#endif
  for (; i < n; i += 1) best = values[i] > best ? values[i] : best;
  // The first position holding it (values[0] is not NaN, so best is a value of the array).
  int32_t at = 0;
#if defined(__SSE2__)
  __m128 wanted = _mm_set1_ps(best);
  for (; at + 4 <= n; at += 4) {
    if (_mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(values + at), wanted)) != 0) break;
  }
#endif
  for (; at < n; at += 1) {
    if (values[at] == best) return at;
  }
  return 0;
}

llama_token GreedyPicker::Pick(const float* logits, int32_t n_vocab, std::vector<float>& scratch) const {
  if (bias_.empty()) return FirstArgmax(logits, n_vocab);
  scratch.resize(static_cast<size_t>(n_vocab));
  std::memcpy(scratch.data(), logits, static_cast<size_t>(n_vocab) * sizeof(float));
  for (const llama_logit_bias& entry : bias_) {
    if (entry.token >= 0 && entry.token < n_vocab) scratch[static_cast<size_t>(entry.token)] += entry.bias;
  }
  return FirstArgmax(scratch.data(), n_vocab);
}

}  // namespace llm_twin
