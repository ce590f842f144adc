// Per-token LoRA adapters inside ONE llama.cpp decode (what vLLM and S-LoRA do), for the
// generation loop's "batched" LoRA mode. llama.cpp applies adapters to a whole context
// (llama_set_adapters_lora), so a batch mixing adapters would need one decode per adapter set.
// Instead the context has no adapter set and its eval callback (llama_context_params.cb_eval, see
// ggml_backend_sched_compute_splits) stops the graph after every matrix multiplication by a weight
// that an adapter in the batch adapts; there `t = W·x` is computed and its input x is still intact
// (ggml-alloc frees x only after its last consumer, and nothing after t has run), so each row of a
// token decoded with adapter k gets `t_row += scale_k · B_k (A_k x_row)`, llama.cpp's own update
// (llama-graph.cpp, build_lora_mm), with A and B read from the adapter file as F32.
//
// Rows are batch tokens in order: the loop's context uses a unified KV cache (split_simple keeps the
// batch's order) and a batch never exceeds n_ubatch, so one decode is one micro-batch; at the last
// layer llama.cpp keeps only the rows of tokens with logits (inp_out_ids), in batch order. Anything
// else (another row count, a weight applied a different number of times) fails the batch instead
// of applying an adapter to the wrong token.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "llama-api.h"

namespace llm_twin {

struct BatchedLoraFile {
  std::string path;
  float scale = 1.0f;
};

class BatchedLora {
 public:
  // Reads every adapter's <weight>.lora_a / .lora_b (F32 or F16) from `files` with ggml's GGUF
  // reader from `api`. "" on success, else why the adapters cannot be applied per token (the
  // caller refuses the mode).
  std::string Load(const LlamaApi& api, const std::vector<BatchedLoraFile>& files, int32_t n_layer);

  // Before llama_decode: the adapter of each batch token (-1: the base model) and which tokens
  // produce logits. A batch without adapter tokens (adapters at scale 0 are the base) leaves the
  // graph untouched (one compute).
  void Prepare(const llama_batch& batch, const std::vector<int32_t>& token_adapters);

  // After llama_decode: "" when every adapted weight was updated exactly once for the batch, else
  // what went wrong (the batch's logits and KV must not be used).
  std::string Finish();

  // llama_context_params.cb_eval, with user_data = this BatchedLora.
  static bool Eval(struct ggml_tensor* t, bool ask, void* user_data);

  size_t Adapters() const { return adapters_; }

  // A persistent ggml CPU threadpool of `threads` workers for the context: the eval callback splits
  // every decode into one graph compute per adapted weight, and without a threadpool a build of
  // llama.cpp without OpenMP starts and joins its worker threads for each of them. `poll`: ggml's
  // polling level (0 – 100) of idle workers before they sleep. "" on success, else why not.
  std::string AttachThreadpool(const LlamaApi& api, llama_context* ctx, int32_t threads, uint32_t poll);
  // After the context is freed.
  void FreeThreadpool();
  ~BatchedLora() { FreeThreadpool(); }

 private:
  struct Delta {
    int64_t rank = 0;
    int64_t n_in = 0;
    int64_t n_out = 0;
    float scale = 0.0f;    // alpha ? user_scale · alpha / rank : user_scale (llama-adapter.h)
    std::vector<float> a;  // rank rows of n_in
    std::vector<float> b;  // n_out rows of rank
  };
  struct Target {
    int32_t layer = -1;          // blk.<layer>. of the weight's name; -1 outside the blocks
    std::vector<int32_t> delta;  // per adapter: index into deltas_, or -1
  };

  bool Ask(const struct ggml_tensor* t);
  bool Apply(struct ggml_tensor* t);
  int32_t TargetOf(const struct ggml_tensor* weight);
  bool Fail(const std::string& message);

  using BufferIsHost = bool (*)(struct ggml_backend_buffer*);
  using ThreadpoolFree = void (*)(struct ggml_threadpool*);
  BufferIsHost buffer_is_host_ = nullptr;
  struct ggml_threadpool* threadpool_ = nullptr;
  ThreadpoolFree threadpool_free_ = nullptr;
  size_t adapters_ = 0;
  int32_t n_layer_ = 0;
  std::vector<Delta> deltas_;
  std::vector<Target> targets_;
  std::unordered_map<std::string, int32_t> target_by_name_;
  std::unordered_map<const struct ggml_tensor*, int32_t> target_by_weight_;  // hits only

  // The batch being decoded (loop thread only).
  bool active_ = false;
  std::vector<int32_t> token_adapter_;
  std::vector<int32_t> outputs_;  // batch indices of the tokens with logits
  std::vector<bool> present_;     // per adapter: some token of the batch uses it
  std::vector<bool> muted_;       // per adapter: scale 0, decoded as the base model
  int32_t expected_ = 0;          // adapted weights the batch's adapters touch
  int32_t applied_ = 0;
  std::string failure_;
  std::vector<float> scratch_;
};

}  // namespace llm_twin
