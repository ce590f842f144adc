// Grammar-constrained sampling without running the grammar over the whole vocabulary every step.
//
// llama.cpp's grammar sampler decodes every candidate's text and walks the grammar's stacks for
// it: over a 32,000-token vocabulary that costs more than a decode step of a small model, and the
// generation loop paid it for every constrained sequence at every step. Two things make it cheap,
// as llama-server's common_sampler does for the first:
//  - The token is first chosen without the grammar; only that token goes through the grammar. The
//    grammar runs over the vocabulary only when it rejects that token, and the choice is made again
//    on the constrained candidates. Greedy, this is exactly the grammar-first choice (the best token
//    the grammar admits). Sampling, it is exact in distribution without top-k/top-p (the fallback
//    draws from the constrained distribution) and deterministic for a seed.
//  - When it does run over the vocabulary, one probe per ASCII character (a token whose text is
//    that character alone) tells which first characters the grammar admits now; tokens starting
//    with a refused character are refused without being looked at. The grammar then checks only
//    the rest, and the candidates end exactly as llama_sampler_apply(grammar) would leave them.
//    Sound only while the grammar matches characters (no token references `<…>` in its text) and
//    no UTF-8 sequence is left open by the accepted text (every accepted piece ASCII); otherwise the
//    whole vocabulary goes through the grammar, as before.
#pragma once

#include <cstdint>
#include <vector>

#include "llama-api.h"

namespace llm_twin {

// Per model, built once when it loads (read-only afterwards, except the scratch space, which only
// the loop thread uses).
class GrammarVocabulary {
 public:
  void Build(const LlamaApi& api, const llama_vocab* vocab, int32_t n_vocab);

  // Whether `token`'s text is ASCII only (so it leaves no UTF-8 sequence open).
  bool Ascii(llama_token token) const;

  // Whether the grammar admits `token` next.
  bool Admits(const LlamaApi& api, llama_sampler* grammar, llama_token token);

  // Sets the logit of every candidate the grammar rejects to −∞, as llama_sampler_apply(grammar)
  // does. `array` holds the whole vocabulary in id order; `by_first_character`: see above.
  void Constrain(const LlamaApi& api, llama_sampler* grammar, llama_token_data_array& array, bool by_first_character);

 private:
  static constexpr int kAscii = 128;
  int32_t n_vocab_ = 0;
  std::vector<uint8_t> ascii_;                              // per token: text is ASCII only
  struct Probe {
    llama_token token;  // a token whose text is `byte` alone
    uint8_t byte;
  };
  std::vector<Probe> probes_;                               // the ASCII characters that have such a token
  std::vector<std::vector<llama_token>> by_first_byte_;     // ASCII first byte → tokens
  std::vector<llama_token> always_;                         // end of generation, empty or non-ASCII first byte
  std::vector<llama_token_data> scratch_;
};

// Returned by SampleWithGrammar when every token the grammar admits is banned.
constexpr llama_token kGrammarDeadEnd = -2;
// The start of the job's error message then (src/llm/llama-cpp/native/backend.ts reads it).
constexpr const char* kGrammarDeadEndMessage =
    "grammar_dead_end: the grammar admits no token that the logit bias and ignore_eos allow here";

// One constrained token: chosen without the grammar, checked, chosen again on the constrained
// candidates when refused. `candidates` is scratch space of n_vocab entries; `retried` tells whether
// the grammar ran over the vocabulary. Returns the token, −1 when the chain selected none, or
// kGrammarDeadEnd.
llama_token SampleWithGrammar(const LlamaApi& api, GrammarVocabulary& vocabulary, llama_sampler* grammar,
                              llama_sampler* chain, const float* logits, std::vector<llama_token_data>& candidates,
                              bool by_first_character, bool& retried);

}  // namespace llm_twin
