#include "batched-lora.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "ggml-cpu.h"

namespace llm_twin {
namespace {

constexpr const char* kSuffixA = ".lora_a";
constexpr const char* kSuffixB = ".lora_b";

bool EndsWith(const std::string& text, const char* suffix) {
  size_t length = std::strlen(suffix);
  return text.size() >= length && text.compare(text.size() - length, length, suffix) == 0;
}

// blk.<n>.… → n; anything else → -1.
int32_t LayerOf(const std::string& weight) {
  if (weight.rfind("blk.", 0) != 0) return -1;
  return static_cast<int32_t>(std::strtol(weight.c_str() + 4, nullptr, 10));
}

// A tensor of the file as F32 (F32 copied, F16 converted); "" or why not.
std::string ReadF32(const LlamaApi& api, gguf_context* gguf, FILE* file, int64_t id, size_t count,
                    std::vector<float>& out) {
  ggml_type type = api.gguf_get_tensor_type(gguf, id);
  size_t element = type == GGML_TYPE_F32 ? 4 : type == GGML_TYPE_F16 ? 2 : 0;
  std::string name = api.gguf_get_tensor_name(gguf, id);
  if (element == 0) return name + " is neither F32 nor F16";
  size_t offset = api.gguf_get_data_offset(gguf) + api.gguf_get_tensor_offset(gguf, id);
  std::vector<uint8_t> raw(count * element);
  if (std::fseek(file, static_cast<long>(offset), SEEK_SET) != 0 || std::fread(raw.data(), 1, raw.size(), file) != raw.size()) {
    return "could not read " + name;
  }
  out.resize(count);
  if (type == GGML_TYPE_F32) {
    std::memcpy(out.data(), raw.data(), raw.size());
  } else {
    api.ggml_fp16_to_fp32_row(reinterpret_cast<const ggml_fp16_t*>(raw.data()), out.data(), static_cast<int64_t>(count));
  }
  return "";
}

// Σ a[i]·b[i] with eight independent partial sums (vectorisable without reassociation flags).
inline float Dot(const float* a, const float* b, int64_t n) {
  float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; k += 1) partial[k] += a[i + k] * b[i + k];
  }
  float sum = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
  for (; i < n; i += 1) sum += a[i] * b[i];
  return sum;
}

}  // namespace

std::string BatchedLora::Load(const LlamaApi& api, const std::vector<BatchedLoraFile>& files, int32_t n_layer) {
  std::string error;
  buffer_is_host_ = api.ggml_backend_buffer_is_host;
  adapters_ = files.size();
  n_layer_ = n_layer;
  present_.assign(adapters_, false);
  muted_.assign(adapters_, false);
  for (size_t adapter = 0; adapter < files.size(); adapter += 1) {
    const BatchedLoraFile& spec = files[adapter];
    muted_[adapter] = spec.scale == 0.0f;
    gguf_init_params params{/*no_alloc*/ true, /*ctx*/ nullptr};
    std::unique_ptr<gguf_context, decltype(api.gguf_free)> gguf(api.gguf_init_from_file(spec.path.c_str(), params),
                                                                 api.gguf_free);
    if (gguf == nullptr) return spec.path + " is not a readable GGUF file";
    if (api.gguf_find_key(gguf.get(), "adapter.alora.invocation_tokens") >= 0) {
      return spec.path + " is an activated LoRA (aLoRA), applied from its invocation tokens on: not per token";
    }
    float alpha = 0.0f;
    int64_t alpha_key = api.gguf_find_key(gguf.get(), "adapter.lora.alpha");
    if (alpha_key >= 0 && api.gguf_get_kv_type(gguf.get(), alpha_key) == GGUF_TYPE_FLOAT32) {
      alpha = api.gguf_get_val_f32(gguf.get(), alpha_key);
    }
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(spec.path.c_str(), "rb"), &std::fclose);
    if (file == nullptr) return "could not open " + spec.path;
    int64_t count = api.gguf_get_n_tensors(gguf.get());
    for (int64_t id = 0; id < count; id += 1) {
      std::string name = api.gguf_get_tensor_name(gguf.get(), id);
      if (EndsWith(name, kSuffixB)) continue;  // read with its lora_a
      // Norm vectors some adapters carry: llama.cpp's loader skips them (llama-adapter.cpp), so does this.
      if (EndsWith(name, "_norm.weight")) continue;
      if (!EndsWith(name, kSuffixA)) return spec.path + ": " + name + " is not a lora_a / lora_b tensor";
      std::string weight = name.substr(0, name.size() - std::strlen(kSuffixA));
      int64_t b_id = api.gguf_find_tensor(gguf.get(), (weight + kSuffixB).c_str());
      if (b_id < 0) return spec.path + ": " + name + " has no " + weight + kSuffixB;
      const int64_t* a_ne = api.gguf_get_tensor_ne(gguf.get(), id);
      const int64_t* b_ne = api.gguf_get_tensor_ne(gguf.get(), b_id);
      Delta delta;
      delta.n_in = a_ne[0];
      delta.rank = a_ne[1];
      delta.n_out = b_ne[1];
      if (b_ne[0] != delta.rank || a_ne[2] != 1 || b_ne[2] != 1 || delta.rank < 1) {
        return spec.path + ": " + weight + "'s lora_a and lora_b shapes do not match";
      }
      // llama-adapter.h get_scale: the rank is lora_b's ne[0].
      delta.scale = alpha != 0.0f ? spec.scale * alpha / static_cast<float>(delta.rank) : spec.scale;
      error = ReadF32(api, gguf.get(), file.get(), id, static_cast<size_t>(delta.n_in * delta.rank), delta.a);
      if (error.empty()) error = ReadF32(api, gguf.get(), file.get(), b_id, static_cast<size_t>(delta.rank * delta.n_out), delta.b);
      if (!error.empty()) return spec.path + ": " + error;
      auto found = target_by_name_.find(weight);
      int32_t target;
      if (found == target_by_name_.end()) {
        target = static_cast<int32_t>(targets_.size());
        Target entry;
        entry.layer = LayerOf(weight);
        entry.delta.assign(files.size(), -1);
        targets_.push_back(std::move(entry));
        target_by_name_.emplace(weight, target);
      } else {
        target = found->second;
      }
      targets_[static_cast<size_t>(target)].delta[adapter] = static_cast<int32_t>(deltas_.size());
      deltas_.push_back(std::move(delta));
    }
  }
  return "";
}

std::string BatchedLora::AttachThreadpool(const LlamaApi& api, llama_context* ctx, int32_t threads, uint32_t poll) {
  ggml_backend_dev_t cpu = api.ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (cpu == nullptr) return "ggml has no CPU backend";
  // The CPU backend may be a library loaded at run time: its functions come from its registry.
  ggml_backend_reg_t reg = api.ggml_backend_dev_backend_reg(cpu);
  auto create = reinterpret_cast<decltype(&::ggml_threadpool_new)>(api.ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
  threadpool_free_ = reinterpret_cast<ThreadpoolFree>(api.ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free"));
  if (create == nullptr || threadpool_free_ == nullptr) return "the CPU backend lacks ggml_threadpool_new";
  ggml_threadpool_params params = api.ggml_threadpool_params_default(threads);
  params.poll = poll;
  threadpool_ = create(&params);
  if (threadpool_ == nullptr) return "could not create a ggml threadpool";
  api.llama_attach_threadpool(ctx, threadpool_, threadpool_);
  return "";
}

void BatchedLora::FreeThreadpool() {
  if (threadpool_ != nullptr && threadpool_free_ != nullptr) threadpool_free_(threadpool_);
  threadpool_ = nullptr;
}

void BatchedLora::Prepare(const llama_batch& batch, const std::vector<int32_t>& token_adapters) {
  token_adapter_.assign(token_adapters.begin(), token_adapters.begin() + batch.n_tokens);
  outputs_.clear();
  std::fill(present_.begin(), present_.end(), false);
  active_ = false;
  for (int32_t i = 0; i < batch.n_tokens; i += 1) {
    if (batch.logits[i] != 0) outputs_.push_back(i);
    int32_t& adapter = token_adapter_[static_cast<size_t>(i)];
    if (adapter >= 0 && (static_cast<size_t>(adapter) >= adapters_ || muted_[static_cast<size_t>(adapter)])) adapter = -1;
    if (adapter >= 0) {
      present_[static_cast<size_t>(adapter)] = true;
      active_ = true;
    }
  }
  expected_ = 0;
  applied_ = 0;
  failure_.clear();
  if (!active_) return;
  for (const Target& target : targets_) {
    for (size_t adapter = 0; adapter < adapters_; adapter += 1) {
      if (present_[adapter] && target.delta[adapter] >= 0) {
        expected_ += 1;
        break;
      }
    }
  }
}

std::string BatchedLora::Finish() {
  bool active = active_;
  active_ = false;
  if (!active) return "";
  if (!failure_.empty()) return failure_;
  if (applied_ != expected_) {
    return "per-token LoRA: " + std::to_string(applied_) + " weight updates for " + std::to_string(expected_) +
           " adapted weights (the batch was split into several llama.cpp micro-batches, or an adapted weight is "
           "not a plain matrix multiplication): serve with --lora-mode contexts";
  }
  return "";
}

bool BatchedLora::Eval(struct ggml_tensor* t, bool ask, void* user_data) {
  auto* self = static_cast<BatchedLora*>(user_data);
  if (ask) return self->Ask(t);
  return self->Apply(t);
}

int32_t BatchedLora::TargetOf(const struct ggml_tensor* weight) {
  auto cached = target_by_weight_.find(weight);
  if (cached != target_by_weight_.end()) return cached->second;
  auto found = target_by_name_.find(weight->name);
  if (found == target_by_name_.end()) return -1;
  // Model weights live as long as the model: their tensors are cached by address.
  target_by_weight_.emplace(weight, found->second);
  return found->second;
}

bool BatchedLora::Ask(const struct ggml_tensor* t) {
  if (!active_ || t->op != GGML_OP_MUL_MAT || t->src[0] == nullptr) return false;
  int32_t target = TargetOf(t->src[0]);
  if (target < 0) return false;
  const std::vector<int32_t>& delta = targets_[static_cast<size_t>(target)].delta;
  for (size_t adapter = 0; adapter < adapters_; adapter += 1) {
    if (present_[adapter] && delta[adapter] >= 0) return true;
  }
  return false;
}

bool BatchedLora::Fail(const std::string& message) {
  if (failure_.empty()) failure_ = "per-token LoRA: " + message + " (serve with --lora-mode contexts)";
  return false;  // stops the rest of the graph: the batch fails anyway
}

bool BatchedLora::Apply(struct ggml_tensor* t) {
  if (!active_) return true;
  int32_t target_index = TargetOf(t->src[0]);
  if (target_index < 0) return true;
  const Target& target = targets_[static_cast<size_t>(target_index)];
  const struct ggml_tensor* x = t->src[1];
  const std::string weight = t->src[0]->name;
  if (x == nullptr || t->type != GGML_TYPE_F32 || x->type != GGML_TYPE_F32 || t->nb[0] != sizeof(float) ||
      x->nb[0] != sizeof(float) || t->ne[2] != 1 || t->ne[3] != 1 || x->ne[1] != t->ne[1]) {
    return Fail(weight + ": not a 2-D F32 matrix multiplication");
  }
  if (t->buffer == nullptr || !buffer_is_host_(t->buffer) || (x->buffer != nullptr && !buffer_is_host_(x->buffer))) {
    return Fail(weight + ": the activations are not in host memory");
  }
  // Which batch token each row is: every token, or (llama.cpp's inp_out_ids, last layer and after)
  // the tokens with logits.
  int64_t rows = t->ne[1];
  bool all = rows == static_cast<int64_t>(token_adapter_.size());
  bool outputs = rows == static_cast<int64_t>(outputs_.size()) && (target.layer < 0 || target.layer == n_layer_ - 1);
  if (!all && !outputs) {
    return Fail(weight + " has " + std::to_string(rows) + " rows for a batch of " + std::to_string(token_adapter_.size()) +
                " tokens");
  }
  for (int64_t row = 0; row < rows; row += 1) {
    int32_t token = all ? static_cast<int32_t>(row) : outputs_[static_cast<size_t>(row)];
    int32_t adapter = token_adapter_[static_cast<size_t>(token)];
    if (adapter < 0) continue;
    int32_t index = target.delta[static_cast<size_t>(adapter)];
    if (index < 0) continue;
    const Delta& delta = deltas_[static_cast<size_t>(index)];
    if (delta.n_in != x->ne[0] || delta.n_out != t->ne[0]) {
      return Fail(weight + " is [" + std::to_string(x->ne[0]) + " → " + std::to_string(t->ne[0]) + "], the adapter's [" +
                  std::to_string(delta.n_in) + " → " + std::to_string(delta.n_out) + "]");
    }
    if (delta.scale == 0.0f) continue;
    const float* in = reinterpret_cast<const float*>(static_cast<const char*>(x->data) + row * x->nb[1]);
    float* out = reinterpret_cast<float*>(static_cast<char*>(t->data) + row * t->nb[1]);
    scratch_.resize(static_cast<size_t>(delta.rank));
    // llama.cpp: res + scale · (B · (A · x)).
    for (int64_t r = 0; r < delta.rank; r += 1) scratch_[static_cast<size_t>(r)] = Dot(delta.a.data() + r * delta.n_in, in, delta.n_in);
    for (int64_t o = 0; o < delta.n_out; o += 1) out[o] += delta.scale * Dot(delta.b.data() + o * delta.rank, scratch_.data(), delta.rank);
  }
  applied_ += 1;
  return true;
}

}  // namespace llm_twin
