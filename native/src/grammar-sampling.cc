#include "grammar-sampling.h"

#include <algorithm>
#include <limits>
#include <string>

namespace llm_twin {

namespace {

constexpr float kRejected = -std::numeric_limits<float>::infinity();

void FillCandidates(const float* logits, std::vector<llama_token_data>& candidates, llama_token_data_array& array) {
  for (size_t token = 0; token < candidates.size(); token += 1) {
    candidates[token] = {static_cast<llama_token>(token), logits[token], 0.0f};
  }
  array = {candidates.data(), candidates.size(), -1, false};
}

}  // namespace

void GrammarVocabulary::Build(const LlamaApi& api, const llama_vocab* vocab, int32_t n_vocab) {
  n_vocab_ = n_vocab;
  ascii_.assign(static_cast<size_t>(n_vocab), 0);
  probes_.clear();
  std::vector<llama_token> probe_of(kAscii, -1);
  by_first_byte_.assign(kAscii, {});
  always_.clear();
  std::string piece;
  for (llama_token token = 0; token < n_vocab; token += 1) {
    // The token's text as llama.cpp's grammar sees it (special tokens rendered).
    TokenPiece(api, vocab, token, /*special*/ true, piece);
    bool ascii = true;
    for (char c : piece) ascii = ascii && static_cast<unsigned char>(c) < kAscii;
    ascii_[static_cast<size_t>(token)] = ascii ? 1 : 0;
    unsigned char first = piece.empty() ? 0 : static_cast<unsigned char>(piece[0]);
    // The grammar treats end-of-generation tokens apart and refuses empty texts and texts starting
    // with NUL; those, and texts starting with a multi-byte character, are always checked.
    if (api.llama_vocab_is_eog(vocab, token) || first == 0 || first >= kAscii) {
      always_.push_back(token);
      continue;
    }
    by_first_byte_[first].push_back(token);
    if (piece.size() == 1 && probe_of[first] < 0) probe_of[first] = token;
  }
  for (int byte = 1; byte < kAscii; byte += 1) {
    if (probe_of[static_cast<size_t>(byte)] >= 0) probes_.push_back({probe_of[static_cast<size_t>(byte)], static_cast<uint8_t>(byte)});
  }
  scratch_.reserve(static_cast<size_t>(n_vocab));
}

bool GrammarVocabulary::Ascii(llama_token token) const {
  return token >= 0 && token < n_vocab_ && ascii_[static_cast<size_t>(token)] != 0;
}

bool GrammarVocabulary::Admits(const LlamaApi& api, llama_sampler* grammar, llama_token token) {
  llama_token_data candidate{token, 0.0f, 0.0f};
  llama_token_data_array array{&candidate, 1, -1, false};
  api.llama_sampler_apply(grammar, &array);
  return array.data[0].logit != kRejected;
}

void GrammarVocabulary::Constrain(const LlamaApi& api, llama_sampler* grammar, llama_token_data_array& array,
                                  bool by_first_character) {
  if (!by_first_character || array.size != static_cast<size_t>(n_vocab_)) {
    api.llama_sampler_apply(grammar, &array);
    return;
  }
  // Which first characters the grammar admits now. The logits of the probes do not matter: the
  // grammar only ever sets refused ones to −∞.
  scratch_.clear();
  for (const Probe& probe : probes_) scratch_.push_back({probe.token, 0.0f, 0.0f});
  llama_token_data_array probed{scratch_.data(), scratch_.size(), -1, false};
  api.llama_sampler_apply(grammar, &probed);
  bool open[kAscii];
  for (int byte = 0; byte < kAscii; byte += 1) open[byte] = true;  // unprobed characters: checked
  // The grammar sampler sets logits, never reorders: entry i is probes_[i].
  for (size_t i = 0; i < probes_.size(); i += 1) open[probes_[i].byte] = probed.data[i].logit != kRejected;
  // The candidates left to the grammar, with their logits; every other one is refused.
  scratch_.clear();
  for (llama_token token : always_) scratch_.push_back(array.data[token]);
  for (int byte = 1; byte < kAscii; byte += 1) {
    if (!open[byte]) continue;
    for (llama_token token : by_first_byte_[static_cast<size_t>(byte)]) scratch_.push_back(array.data[token]);
  }
  for (size_t i = 0; i < array.size; i += 1) array.data[i].logit = kRejected;
  llama_token_data_array checked{scratch_.data(), scratch_.size(), -1, false};
  api.llama_sampler_apply(grammar, &checked);
  for (size_t i = 0; i < checked.size; i += 1) array.data[checked.data[i].id].logit = checked.data[i].logit;
}

llama_token SampleWithGrammar(const LlamaApi& api, GrammarVocabulary& vocabulary, llama_sampler* grammar,
                              llama_sampler* chain, const float* logits, std::vector<llama_token_data>& candidates,
                              bool by_first_character, bool& retried) {
  retried = false;
  llama_token_data_array array{};
  FillCandidates(logits, candidates, array);
  api.llama_sampler_apply(chain, &array);
  // A choice among −∞ logits (every token banned) is no choice: the retry reports the dead end.
  if (array.selected >= 0 && static_cast<size_t>(array.selected) < array.size &&
      array.data[array.selected].logit != kRejected) {
    llama_token token = array.data[array.selected].id;
    if (vocabulary.Admits(api, grammar, token)) return token;
  }
  retried = true;
  FillCandidates(logits, candidates, array);
  vocabulary.Constrain(api, grammar, array, by_first_character);
  api.llama_sampler_apply(chain, &array);
  if (array.selected < 0 || static_cast<size_t>(array.selected) >= array.size) return -1;
  // Every token the grammar admits is banned (logit bias, ignore_eos): accepting the token chosen
  // among −∞ logits would throw from the grammar.
  if (array.data[array.selected].logit == kRejected) return kGrammarDeadEnd;
  return array.data[array.selected].id;
}

}  // namespace llm_twin
