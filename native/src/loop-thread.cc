// The loop thread: loads the model and its contexts (Load, with progress), then runs the loop
// (Run): takes the jobs JavaScript started and cancelled, places each new job on its slot and
// context with what KV it can reuse (prompt-cache.h, adapter-schedule.h), runs decode steps
// (loop-step.cc) and posts each step's events to JavaScript (Post, bounded: the loop waits when
// JavaScript falls behind). Nothing escapes the thread (RunGuarded).
#include <pthread.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "adapter-schedule.h"
#include "generation-loop.h"
#include "prompt-cache.h"

namespace llm_twin {

bool GenerationLoop::Load(std::string& error) {
  llama_model_params model_params = api_.llama_model_default_params();
  model_params.n_gpu_layers = 0;
  model_params.progress_callback = &GenerationLoop::OnLoadProgress;
  model_params.progress_callback_user_data = this;
  model_ = api_.llama_model_load_from_file(config_.model_path.c_str(), model_params);
  if (stop_requested_) {
    error = kDisposedWhileLoading;
    return false;
  }
  if (model_ == nullptr) {
    error = "could not load the model " + config_.model_path;
    return false;
  }
  for (const LoraSpec& spec : config_.lora_specs) {
    // llama.cpp refuses an adapter of another architecture or with shapes that do not match the
    // base's weights (and logs why).
    llama_adapter_lora* adapter = api_.llama_adapter_lora_init(model_, spec.path.c_str());
    if (adapter == nullptr) {
      error = "could not load the LoRA adapter " + spec.path + ": not a LoRA adapter for this base model";
      load_error_code_ = kLoraRefused;
      return false;
    }
    loras_.push_back(adapter);
  }
  if (config_.batched) {
    std::vector<BatchedLoraFile> files;
    for (const LoraSpec& spec : config_.lora_specs) files.push_back({spec.path, spec.scale});
    std::string refused = batched_lora_.Load(api_, files, api_.llama_model_n_layer(model_));
    if (!refused.empty()) {
      error = "LoRA adapters cannot be applied per token (--lora-mode batched): " + refused;
      load_error_code_ = kLoraRefused;
      return false;
    }
  }
  llama_context_params context_params = api_.llama_context_default_params();
  context_params.n_ctx = static_cast<uint32_t>(config_.context_per_sequence) * static_cast<uint32_t>(config_.sequences);
  context_params.n_seq_max = static_cast<uint32_t>(config_.sequences);
  context_params.n_batch = static_cast<uint32_t>(config_.batch_size);
  context_params.n_ubatch = static_cast<uint32_t>(config_.batch_size);
  context_params.n_threads = config_.threads;
  context_params.n_threads_batch = config_.threads_batch;
  context_params.flash_attn_type = config_.flash;
  // Batched LoRA maps graph rows to batch tokens: with a unified KV cache llama.cpp keeps the
  // batch's token order in one micro-batch (split_simple); per-sequence streams reorder it into
  // several (split_equal). Without batched LoRA the per-sequence streams stay.
  context_params.kv_unified = config_.batched;
  if (config_.batched) {
    context_params.cb_eval = &BatchedLora::Eval;
    context_params.cb_eval_user_data = &batched_lora_;
  }
  context_params.no_perf = true;
  contexts_.resize(static_cast<size_t>(config_.contexts_count));
  for (size_t index = 0; index < contexts_.size(); index += 1) {
    contexts_[index].ctx = api_.llama_init_from_model(model_, context_params);
    if (contexts_[index].ctx == nullptr) {
      error = index == 0 ? "could not create a llama.cpp context"
                         : "could not create llama.cpp context " + std::to_string(index + 1) + " of " +
                               std::to_string(contexts_.size()) + " (one per LoRA adapter set decoded at once)";
      if (index > 0) load_error_code_ = kLoraRefused;
      return false;
    }
    contexts_[index].threads = config_.threads;
    contexts_[index].threads_batch = config_.threads_batch;
  }
  if (config_.batched) {
    std::string refused = batched_lora_.AttachThreadpool(api_, contexts_[0].ctx,
                                                         std::max(config_.threads, config_.threads_batch), kBatchedPoll);
    if (!refused.empty()) {
      error = "LoRA adapters cannot be applied per token (--lora-mode batched): " + refused;
      load_error_code_ = kLoraRefused;
      return false;
    }
  }
  llama_context* first = contexts_[0].ctx;
  const llama_vocab* vocab = api_.llama_model_get_vocab(model_);
  n_vocab_ = api_.llama_vocab_n_tokens(vocab);
  for (llama_token token = 0; token < n_vocab_; token += 1) {
    if (api_.llama_vocab_is_eog(vocab, token)) eog_tokens_.push_back(token);
  }
  sampling_.candidates.resize(static_cast<size_t>(n_vocab_));
  sampling_.grammar_vocabulary.Build(api_, vocab, n_vocab_);
  // llama.cpp pads the context; the requested size is the one limit for prompts (start()) and
  // for generation (a job ends with "length" when prompt + generated tokens reach it).
  n_ctx_sequence_ = std::min(config_.context_per_sequence, static_cast<int32_t>(api_.llama_n_ctx(first)) / config_.sequences);
  return true;
}

// Called by llama.cpp on the loop thread while loading; forwarded in steps of 1%. Returning false
// cancels the load: dispose() does not wait for a model it will free anyway.
bool GenerationLoop::OnLoadProgress(float progress, void* data) {
  auto* loop = static_cast<GenerationLoop*>(data);
  if (loop->stop_requested_) return false;
  if (progress >= 1.0f || progress - loop->last_progress_ >= 0.01f) {
    loop->last_progress_ = progress;
    auto* delivery = new Delivery();
    delivery->progress = progress;
    loop->Post(delivery);
  }
  return !loop->stop_requested_;
}

// Deliveries are bounded: progress reports are dropped when config_.max_pending deliveries wait for the
// JavaScript thread, and the loop waits (backpressure) before posting events or readiness. Only
// the final delivery after a stop may exceed the bound, by one.
void GenerationLoop::Post(Delivery* delivery) {
  if (exiting_) {
    delete delivery;
    return;
  }
  delivery->decodes = decodes_;
  delivery->tokens = batch_tokens_;
  delivery->grammar_tokens = sampling_.grammar_tokens;
  delivery->grammar_retries = sampling_.grammar_retries;
  if (delivery->progress >= 0.0f) {
    bool full;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      full = pending_ >= config_.max_pending;
    }
    if (full || tsfn_.NonBlockingCall(delivery) != napi_ok) delete delivery;
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    room_.wait(lock, [this] { return pending_ < config_.max_pending || stopping_; });
    pending_ += 1;
  }
  if (tsfn_.NonBlockingCall(delivery) != napi_ok) {
    delete delivery;
    std::lock_guard<std::mutex> lock(mutex_);
    pending_ -= 1;
  }
}

// The thread's top: nothing escapes it (an exception leaving a std::thread terminates the
// process). A failure outside a decode step fails every running job and waits for dispose.
void GenerationLoop::RunGuarded() {
  std::string failure;
  try {
    Run();
    return;
  } catch (const std::exception& exception) {
    failure = std::string("the generation loop failed: ") + exception.what();
  } catch (...) {
    failure = "the generation loop failed with an unknown exception";
  }
  try {
    std::vector<Event> events;
    for (SlotState& slot : slots_) {
      if (slot.active) {
        FreeSamplers(api_, slot.job);
        PushDone(slot.job, Done::Error, failure, -1, events);
        slot.active = false;
      }
    }
    if (!events.empty()) {
      auto* delivery = new Delivery();
      delivery->events = std::move(events);
      Post(delivery);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [this] { return stopping_; });
  } catch (...) {
  }
}

void GenerationLoop::Run() {
  // Named so that per-thread CPU figures (/proc/<pid>/task/*/comm) tell the loop from the main
  // thread; llama.cpp's OpenMP workers started from here inherit the name.
  pthread_setname_np(pthread_self(), "llm-twin-loop");
  auto* ready = new Delivery();
  ready->ready = true;
  std::string error;
  if (!Load(error)) {
    ready->load_error = error;
    ready->load_error_code = load_error_code_;
    Post(ready);
    // Jobs cannot start before ready; wait for dispose.
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [this] { return stopping_; });
    return;
  }
  loaded_ = true;
  Post(ready);
  for (ContextState& state : contexts_) {
    state.batch = api_.llama_batch_init(config_.batch_size, 0, 1);
    state.has_batch = true;
  }
  // One worker per context beyond the first: the loop thread decodes the first context in use.
  std::vector<std::unique_ptr<DecodeWorker>> workers;
  for (size_t index = 1; index < contexts_.size(); index += 1) workers.push_back(std::make_unique<DecodeWorker>());
  std::vector<Job> incoming;
  std::vector<uint32_t> cancelled;
  bool stopping = false;
  while (!stopping) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !incoming_.empty() || !cancelled_.empty() || active_ > 0; });
      stopping = stopping_;
      incoming.swap(incoming_);
      cancelled.swap(cancelled_);
    }
    std::vector<Event> events;
    for (Job& job : incoming) Admit(job, events);
    incoming.clear();
    for (uint32_t id : cancelled) {
      for (SlotState& slot : slots_) {
        if (slot.active && slot.job.id == id) Finish(slot, Done::Cancelled, "", events);
      }
    }
    cancelled.clear();
    if (stopping) {
      for (SlotState& slot : slots_) {
        if (slot.active) Finish(slot, Done::Cancelled, "", events);
      }
    } else if (active_ > 0) {
      try {
        Step(workers, events);
      } catch (const std::exception& exception) {
        // Last resort: an exception escaping llama.cpp must not terminate the process (an
        // uncaught exception on this thread would); every running request fails instead.
        FailAll(std::string("generation failed: ") + exception.what(), events);
      } catch (...) {
        FailAll("generation failed with an unknown exception", events);
      }
    }
    if (!events.empty()) {
      auto* delivery = new Delivery();
      delivery->events = std::move(events);
      Post(delivery);
    }
  }
  workers.clear();
  for (ContextState& state : contexts_) {
    if (state.has_batch) api_.llama_batch_free(state.batch);
    state.has_batch = false;
  }
}

// A job JavaScript started takes its slot: the context it decodes in (adapter-schedule.h) and the
// KV it starts from (prompt-cache.h): its sibling's prompt (n > 1, copied now, or once the sibling
// has decoded it), else the slot's own cached prefix, else nothing.
void GenerationLoop::Admit(Job& job, std::vector<Event>& events) {
  SlotState& slot = slots_[static_cast<size_t>(job.slot)];
  if (slot.active) {  // the JavaScript side never does this; refuse rather than corrupt
    PushDone(job, Done::Error, "slot is busy", -1, events);
    FreeSamplers(api_, job);
    return;
  }
  int32_t context = PickContext(contexts_, slots_, slot, job);
  int32_t waiting_for = -1;
  size_t shared = SharedPrefix(slots_, job, context);
  size_t own = context == slot.context && slot.cached_adapter == job.adapter && job.cache_prompt
                   ? CommonPrefix(slot.cached, job.prompt)
                   : 0;
  // The slot's sequence in its previous context is dropped; the chosen context may hold a
  // stale one from an earlier job (cleared below unless kept).
  if (context != slot.context) ClearPrefix(api_, ContextAt(slot.context), job);
  std::vector<llama_token> cached = std::move(slot.cached);
  size_t reuse = 0;
  if (WaitsForSharedPrompt(slots_, job, context)) {
    reuse = ClearPrefix(api_, ContextAt(context), job);
    waiting_for = job.share_with;
  } else if (shared > own) {
    reuse = CopyPrefix(api_, ContextAt(context), job, shared);
    cached.assign(job.prompt.begin(), job.prompt.begin() + static_cast<std::ptrdiff_t>(reuse));
  } else if (context == slot.context && slot.cached_adapter == job.adapter) {
    reuse = ReusablePrefix(api_, ContextAt(context), cached, job);
  } else {
    reuse = ClearPrefix(api_, ContextAt(context), job);
  }
  cached.resize(reuse);
  slot = SlotState();
  slot.cached = std::move(cached);
  slot.waiting_for = waiting_for;
  slot.context = context;
  slot.active = true;
  slot.cached_adapter = job.adapter;
  slot.prompt_pos = reuse;
  slot.n_past = static_cast<int32_t>(reuse);
  job.cached_tokens = static_cast<int32_t>(reuse);
  slot.job = std::move(job);
  active_ += 1;
}

}  // namespace llm_twin
