// GenerationLoop: llama.cpp's decode + sampling for every sequence of one context on ONE native
// thread, the way llama-server's slot loop works. node-llama-cpp decodes on a libuv thread, returns
// to JavaScript, samples each sequence with a separate async call and lets JavaScript queue the next
// decode; those hops were the remaining gap to llama-server (docs/benchmarks.md). Here JavaScript
// only starts jobs, cancels them and receives the tokens: one ThreadSafeFunction call per decode
// step carries every slot's token.
#include <napi.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "adapter-schedule.h"
#include "batched-lora.h"
#include "decode-worker.h"
#include "grammar-sampling.h"
#include "greedy-sampling.h"
#include "job-samplers.h"
#include "llama-api.h"
#include "loop-params.h"
#include "loop-types.h"
#include "prompt-cache.h"

namespace llm_twin {
namespace {

class GenerationLoop;

// Live loops, stopped before the process exits: process.exit() and uncaught exceptions skip the
// environment's cleanup hooks, and a loop thread (or ggml's workers) still inside llama_decode
// while libc runs ggml's static destructors crashed the process (issue 13, item 24). The
// JavaScript side calls stopLiveLoops() from process's "exit" event; an atexit handler, registered
// after the first decode (ggml creates function-local statics on first use, and atexit handlers
// run in reverse order of registration), covers exits that skip that event.
std::mutex g_live_mutex;
std::vector<GenerationLoop*> g_live;
std::once_flag g_atexit_once;
void StopLiveLoopsAtExit();

void CallJs(Napi::Env env, Napi::Function, GenerationLoop* loop, Delivery* delivery);
using Tsfn = Napi::TypedThreadSafeFunction<GenerationLoop, Delivery, CallJs>;

class GenerationLoop : public Napi::ObjectWrap<GenerationLoop> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "GenerationLoop",
                       {
                           InstanceMethod("start", &GenerationLoop::Start),
                           InstanceMethod("cancel", &GenerationLoop::Cancel),
                           InstanceMethod("dispose", &GenerationLoop::Dispose),
                           InstanceMethod("stats", &GenerationLoop::Stats),
                       });
  }

  // new GenerationLoop({libraryPath, modelPath, contextSize, sequences, batchSize, threads,
  //                     flashAttention: "auto"|"on"|"off", loras?, contexts?,
  //                     loraMode?: "contexts"|"batched"}, onReady(error?: string, code?: string),
  //                     onProgress?(fraction))
  explicit GenerationLoop(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GenerationLoop>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "GenerationLoop(options, onReady) expected");
    }
    LoopConfig config = ReadLoopConfig(env, info[0].As<Napi::Object>());
    model_path_ = config.model_path;
    sequences_ = config.sequences;
    context_per_sequence_ = config.context_per_sequence;
    batch_size_ = config.batch_size;
    threads_ = config.threads;
    threads_batch_ = config.threads_batch;
    max_pending_ = config.max_pending;
    contexts_count_ = config.contexts_count;
    lora_specs_ = config.lora_specs;
    batched_ = config.batched;
    flash_ = config.flash;
    std::string error = LoadLlamaApi(config.library, api_);
    if (!error.empty()) throw Napi::Error::New(env, error);

    on_ready_ = Napi::Persistent(info[1].As<Napi::Function>());
    if (info.Length() > 2 && info[2].IsFunction()) on_progress_ = Napi::Persistent(info[2].As<Napi::Function>());
    // The object stays alive until the thread-safe function is finalised (after dispose), so no
    // delivery can reach a collected object.
    self_ = Napi::Persistent(info.This().As<Napi::Object>());
    tsfn_ = Tsfn::New(env, "llm-twin-generation-loop", 0, 1, this,
                      [](Napi::Env, void*, GenerationLoop* loop) { loop->self_.Reset(); });
    slots_.resize(static_cast<size_t>(sequences_));
    job_of_slot_.assign(static_cast<size_t>(sequences_), 0);
    // Worker threads and process exit: stop the loop thread before the environment goes away.
    cleanup_hook_ = env.AddCleanupHook(&GenerationLoop::OnCleanup, this);
    {
      std::lock_guard<std::mutex> lock(g_live_mutex);
      g_live.push_back(this);
    }
    thread_ = std::thread([this] { RunGuarded(); });
  }

  // The atexit path: stop the loop thread (a decode in flight ends first) and deliver nothing
  // more; the model and context are left to the exiting process.
  void StopForExit() {
    exiting_ = true;
    RequestStop();
    Join();
  }

  static void OnCleanup(GenerationLoop* loop) {
    loop->in_cleanup_ = true;
    loop->Shutdown();
  }

  ~GenerationLoop() override {
    Shutdown();
    if (!in_cleanup_) cleanup_hook_.Remove(Env());
  }

  // JS-thread side of a delivery.
  void Deliver(Napi::Env env, Delivery* delivery) {
    if (delivery->progress < 0.0f) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        pending_ -= 1;
      }
      room_.notify_one();
    }
    stats_decodes_ = delivery->decodes;
    stats_tokens_ = delivery->tokens;
    stats_grammar_tokens_ = delivery->grammar_tokens;
    stats_grammar_retries_ = delivery->grammar_retries;
    if (delivery->progress >= 0.0f) {
      if (!on_progress_.IsEmpty()) Invoke(env, on_progress_.Value(), {Napi::Number::New(env, delivery->progress)});
      return;
    }
    if (delivery->ready) {
      on_progress_.Reset();
      Napi::FunctionReference ready = std::move(on_ready_);
      if (!js_active_ && !disposed_) tsfn_.Unref(env);
      // A loop disposed while it loaded never reports success, even when the load had finished.
      std::string error = disposed_ && delivery->load_error.empty() ? kDisposedWhileLoading : delivery->load_error;
      const char* code = delivery->load_error.empty() ? nullptr : delivery->load_error_code;
      Invoke(env, ready.Value(), {error.empty() ? env.Undefined() : Napi::String::New(env, error),
                                  code == nullptr ? env.Undefined() : Napi::String::New(env, code)});
      return;
    }
    for (const Event& event : delivery->events) {
      auto found = callbacks_.find(event.job);
      if (found == callbacks_.end()) continue;
      Napi::Function callback = found->second.Value();
      napi_value args[7] = {
          event.token >= 0 ? Napi::Number::New(env, event.token) : env.Undefined(),
          event.has_logprob ? Napi::Number::New(env, event.logprob) : env.Undefined(),
          event.done != Done::None ? Napi::String::New(env, DoneName(event.done)) : env.Undefined(),
          event.error.empty() ? env.Undefined() : Napi::String::New(env, event.error),
          event.cached_tokens >= 0 ? Napi::Number::New(env, event.cached_tokens) : env.Undefined(),
          env.Undefined(),
          env.Undefined(),
      };
      if (!event.top.empty()) {
        // (token, logprob) pairs, most likely first.
        Napi::Float64Array top = Napi::Float64Array::New(env, event.top.size() * 2);
        for (size_t i = 0; i < event.top.size(); i += 1) {
          top[i * 2] = event.top[i].first;
          top[i * 2 + 1] = event.top[i].second;
        }
        args[5] = top;
      }
      if (!event.prompt_logprobs.empty()) {
        Napi::Float64Array prompt = Napi::Float64Array::New(env, event.prompt_logprobs.size());
        for (size_t i = 0; i < event.prompt_logprobs.size(); i += 1) prompt[i] = event.prompt_logprobs[i];
        args[6] = prompt;
      }
      if (event.done != Done::None) {
        for (uint32_t& job : job_of_slot_) {
          if (job == event.job) job = 0;
        }
        Napi::FunctionReference keep = std::move(found->second);
        callbacks_.erase(found);
        js_active_ -= 1;
        if (js_active_ == 0 && !disposed_) tsfn_.Unref(env);
        Invoke(env, keep.Value(), {args[0], args[1], args[2], args[3], args[4], args[5], args[6]});
      } else {
        Invoke(env, callback, {args[0], args[1], args[2], args[3], args[4], args[5], args[6]});
      }
    }
  }

 private:
  // Callbacks must not throw (the JavaScript adapter catches everything). One that does is
  // reported as a process warning (code LLM_TWIN_NATIVE_CALLBACK) and the other slots' events of
  // the step are still delivered.
  static void Invoke(Napi::Env env, Napi::Function callback, const std::initializer_list<napi_value>& args) {
    try {
      callback.Call(args);
    } catch (const Napi::Error& error) {
      std::string message = "a generation-loop callback threw: " + std::string(error.Message());
      try {
        Napi::Object process = env.Global().Get("process").As<Napi::Object>();
        Napi::Object warning_options = Napi::Object::New(env);
        warning_options.Set("code", "LLM_TWIN_NATIVE_CALLBACK");
        process.Get("emitWarning").As<Napi::Function>().Call(process, {Napi::String::New(env, message), warning_options});
      } catch (const Napi::Error&) {
        std::fprintf(stderr, "llm-twin: %s\n", message.c_str());
      }
    }
  }

  // start(slot, promptTokens: Uint32Array, params, onEvent(token?, logprob?, done?, error?,
  //       cachedTokens?, top?, promptLogprobs?)) → job id; cachedTokens comes with done, top
  //       (Float64Array of (token, logprob) pairs) with tokens when topLogprobs > 0, promptLogprobs
  //       (Float64Array, prompt tokens 1…n−1) with the first token when promptLogprobs is set.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (disposed_) throw Napi::Error::New(env, "The generation loop is disposed");
    if (!loaded_) throw Napi::Error::New(env, "The generation loop is not ready");
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsObject() ||
        !info[3].IsFunction()) {
      throw Napi::TypeError::New(env, "start(slot, promptTokens, params, onEvent) expected");
    }
    int32_t slot = CheckedInt32(env, info[0], "slot", 0, sequences_ - 1);
    if (job_of_slot_[static_cast<size_t>(slot)] != 0) throw Napi::Error::New(env, "slot is busy");
    if (info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      throw Napi::TypeError::New(env, "promptTokens must be a Uint32Array");
    }
    Napi::Uint32Array tokens = info[1].As<Napi::Uint32Array>();
    if (tokens.ElementLength() == 0) throw Napi::RangeError::New(env, "the prompt is empty");
    if (tokens.ElementLength() >= static_cast<size_t>(n_ctx_sequence_)) {
      throw Napi::RangeError::New(env, "the prompt does not fit the context of a sequence");
    }
    SamplingParams params = ReadParams(info[2].As<Napi::Object>(), {sequences_, lora_specs_.size(), n_vocab_, eog_tokens_});

    Job job;
    job.id = next_job_id_++;
    if (next_job_id_ == 0) next_job_id_ = 1;
    job.slot = slot;
    job.prompt.reserve(tokens.ElementLength());
    for (size_t i = 0; i < tokens.ElementLength(); i += 1) {
      uint32_t token = tokens[i];
      if (token >= static_cast<uint32_t>(n_vocab_)) throw Napi::RangeError::New(env, "prompt token out of range");
      job.prompt.push_back(static_cast<llama_token>(token));
    }
    job.max_tokens = std::max<int32_t>(1, params.max_tokens);
    job.logprobs = params.logprobs;
    job.top_logprobs = params.top_logprobs;
    job.prompt_logprobs = params.prompt_logprobs;
    job.share_with = params.share_with == slot ? -1 : params.share_with;
    // Every prompt position's logits are needed: nothing comes from the cache.
    job.cache_prompt = params.cache_prompt && !params.prompt_logprobs;
    job.adapter = params.adapter;
    std::string error;
    try {
      error = CreateSamplers({api_, model_, n_vocab_, n_ctx_sequence_}, params, job);
    } catch (const std::exception& exception) {
      error = std::string("could not create the samplers: ") + exception.what();
    }
    if (!error.empty()) {
      FreeSamplers(api_, job);
      throw Napi::Error::New(env, error);
    }

    callbacks_.emplace(job.id, Napi::Persistent(info[3].As<Napi::Function>()));
    job_of_slot_[static_cast<size_t>(slot)] = job.id;
    if (js_active_ == 0) tsfn_.Ref(env);
    js_active_ += 1;
    uint32_t id = job.id;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      incoming_.push_back(std::move(job));
    }
    wake_.notify_one();
    return Napi::Number::New(env, id);
  }

  // cancel(slot): the slot's job ends at the next step with done = "cancelled" (unless it ended).
  void Cancel(const Napi::CallbackInfo& info) {
    int32_t slot = CheckedInt32(info.Env(), info[0], "slot", 0, sequences_ - 1);
    uint32_t job = job_of_slot_[static_cast<size_t>(slot)];
    if (job == 0 || callbacks_.find(job) == callbacks_.end()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      cancelled_.push_back(job);
    }
    wake_.notify_one();
  }

  // dispose(): cancels every job (their "done" events still arrive), joins the thread, frees the
  // model and context. Idempotent.
  void Dispose(const Napi::CallbackInfo&) { Shutdown(); }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Object stats = Napi::Object::New(info.Env());
    stats.Set("decodes", Napi::Number::New(info.Env(), static_cast<double>(stats_decodes_)));
    stats.Set("tokens", Napi::Number::New(info.Env(), static_cast<double>(stats_tokens_)));
    stats.Set("grammarTokens", Napi::Number::New(info.Env(), static_cast<double>(stats_grammar_tokens_)));
    stats.Set("grammarRetries", Napi::Number::New(info.Env(), static_cast<double>(stats_grammar_retries_)));
    return stats;
  }

  void RequestStop() {
    stop_requested_ = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    room_.notify_one();
  }

  void Join() {
    std::lock_guard<std::mutex> lock(join_mutex_);
    if (thread_.joinable()) thread_.join();
  }

  // Cancels loading at llama.cpp's next progress callback (the model is not waited for), cancels
  // every job, joins the thread and frees the model and context.
  void Shutdown() {
    if (disposed_) return;
    disposed_ = true;
    {
      std::lock_guard<std::mutex> lock(g_live_mutex);
      g_live.erase(std::remove(g_live.begin(), g_live.end(), this), g_live.end());
    }
    RequestStop();
    Join();
    for (ContextState& state : contexts_) {
      if (state.ctx != nullptr) api_.llama_free(state.ctx);
      state.ctx = nullptr;
    }
    batched_lora_.FreeThreadpool();
    if (model_ != nullptr) api_.llama_model_free(model_);
    model_ = nullptr;
    tsfn_.Release();
  }

  // ---- loop thread ----

  bool Load(std::string& error) {
    llama_model_params model_params = api_.llama_model_default_params();
    model_params.n_gpu_layers = 0;
    model_params.progress_callback = &GenerationLoop::OnLoadProgress;
    model_params.progress_callback_user_data = this;
    model_ = api_.llama_model_load_from_file(model_path_.c_str(), model_params);
    if (stop_requested_) {
      error = kDisposedWhileLoading;
      return false;
    }
    if (model_ == nullptr) {
      error = "could not load the model " + model_path_;
      return false;
    }
    for (const LoraSpec& spec : lora_specs_) {
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
    if (batched_) {
      std::vector<BatchedLoraFile> files;
      for (const LoraSpec& spec : lora_specs_) files.push_back({spec.path, spec.scale});
      std::string refused = batched_lora_.Load(api_, files, api_.llama_model_n_layer(model_));
      if (!refused.empty()) {
        error = "LoRA adapters cannot be applied per token (--lora-mode batched): " + refused;
        load_error_code_ = kLoraRefused;
        return false;
      }
    }
    llama_context_params context_params = api_.llama_context_default_params();
    context_params.n_ctx = static_cast<uint32_t>(context_per_sequence_) * static_cast<uint32_t>(sequences_);
    context_params.n_seq_max = static_cast<uint32_t>(sequences_);
    context_params.n_batch = static_cast<uint32_t>(batch_size_);
    context_params.n_ubatch = static_cast<uint32_t>(batch_size_);
    context_params.n_threads = threads_;
    context_params.n_threads_batch = threads_batch_;
    context_params.flash_attn_type = flash_;
    // Batched LoRA maps graph rows to batch tokens: with a unified KV cache llama.cpp keeps the
    // batch's token order in one micro-batch (split_simple); per-sequence streams reorder it into
    // several (split_equal). Without batched LoRA the per-sequence streams stay.
    context_params.kv_unified = batched_;
    if (batched_) {
      context_params.cb_eval = &BatchedLora::Eval;
      context_params.cb_eval_user_data = &batched_lora_;
    }
    context_params.no_perf = true;
    contexts_.resize(static_cast<size_t>(contexts_count_));
    for (size_t index = 0; index < contexts_.size(); index += 1) {
      contexts_[index].ctx = api_.llama_init_from_model(model_, context_params);
      if (contexts_[index].ctx == nullptr) {
        error = index == 0 ? "could not create a llama.cpp context"
                           : "could not create llama.cpp context " + std::to_string(index + 1) + " of " +
                                 std::to_string(contexts_.size()) + " (one per LoRA adapter set decoded at once)";
        if (index > 0) load_error_code_ = kLoraRefused;
        return false;
      }
      contexts_[index].threads = threads_;
      contexts_[index].threads_batch = threads_batch_;
    }
    if (batched_) {
      std::string refused = batched_lora_.AttachThreadpool(api_, contexts_[0].ctx,
                                                           std::max(threads_, threads_batch_), kBatchedPoll);
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
    n_ctx_sequence_ = std::min(context_per_sequence_, static_cast<int32_t>(api_.llama_n_ctx(first)) / sequences_);
    return true;
  }

  // Called by llama.cpp on the loop thread while loading; forwarded in steps of 1%. Returning false
  // cancels the load: dispose() does not wait for a model it will free anyway.
  static bool OnLoadProgress(float progress, void* data) {
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

  // Deliveries are bounded: progress reports are dropped when max_pending_ deliveries wait for the
  // JavaScript thread, and the loop waits (backpressure) before posting events or readiness. Only
  // the final delivery after a stop may exceed the bound, by one.
  void Post(Delivery* delivery) {
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
        full = pending_ >= max_pending_;
      }
      if (full || tsfn_.NonBlockingCall(delivery) != napi_ok) delete delivery;
      return;
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      room_.wait(lock, [this] { return pending_ < max_pending_ || stopping_; });
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
  void RunGuarded() {
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
          events.push_back({slot.job.id, -1, false, 0, Done::Error, failure});
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

  void Run() {
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
      state.batch = api_.llama_batch_init(batch_size_, 0, 1);
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
      for (Job& job : incoming) {
        SlotState& slot = slots_[static_cast<size_t>(job.slot)];
        if (slot.active) {  // the JavaScript side never does this; refuse rather than corrupt
          events.push_back({job.id, -1, false, 0, Done::Error, "slot is busy"});
          FreeSamplers(api_, job);
          continue;
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

  llama_context* ContextAt(int32_t context) const { return contexts_[static_cast<size_t>(context)].ctx; }

  // Fills a context's batch for this step (its slots of the step's adapter, in ascending slot =
  // sequence id order: llama.cpp splits a batch wherever sequence ids are not consecutive, see
  // batch-gate.ts). Generating slots get their one token first; prompts share what is left.
  void FillBatch(int32_t context) {
    ContextState& state = contexts_[static_cast<size_t>(context)];
    llama_batch& batch = state.batch;
    batch.n_tokens = 0;
    bool any = false;
    for (const SlotState& slot : slots_) {
      if (slot.active && slot.context == context) any = true;
    }
    if (!any) return;
    // A single adapter in the context (the usual case) keeps every one of its slots in the step;
    // with several, the step rotates to the next one in use. Batched LoRA: every adapter decodes
    // in every step, applied per token (no adapter is set on the context).
    if (!batched_) {
      state.step_adapter = ChooseAdapter(state, slots_, context);
      ApplyAdapter(api_, state, state.step_adapter, loras_, lora_specs_);
    }
    // A job waiting to copy its sibling's prompt KV (n > 1) decodes nothing until then.
    auto decodes_now = [&](const SlotState& slot) {
      return slot.active && slot.context == context && (batched_ || slot.job.adapter == state.step_adapter) &&
             slot.waiting_for < 0;
    };
    int32_t generating = 0;
    for (const SlotState& slot : slots_) {
      if (decodes_now(slot) && slot.prompt_pos >= slot.job.prompt.size()) generating += 1;
    }
    int32_t prefill_budget = std::max<int32_t>(0, batch_size_ - generating);
    int32_t generating_budget = std::min(generating, batch_size_);
    auto add = [&](llama_token token, int32_t pos, int32_t seq, bool logits) {
      int32_t i = batch.n_tokens;
      batch.token[i] = token;
      batch.pos[i] = pos;
      batch.n_seq_id[i] = 1;
      batch.seq_id[i][0] = seq;
      batch.logits[i] = logits ? 1 : 0;
      batch.n_tokens += 1;
      slots_[static_cast<size_t>(seq)].cached.push_back(token);
      return i;
    };
    for (size_t index = 0; index < slots_.size(); index += 1) {
      SlotState& slot = slots_[index];
      if (!decodes_now(slot)) continue;
      int32_t seq = static_cast<int32_t>(index);
      if (slot.prompt_pos < slot.job.prompt.size()) {
        size_t remaining = slot.job.prompt.size() - slot.prompt_pos;
        size_t take = std::min(remaining, static_cast<size_t>(prefill_budget));
        slot.prompt_batch_first = batch.n_tokens;
        slot.prompt_batch_pos = slot.prompt_pos;
        slot.prompt_batch_count = static_cast<int32_t>(take);
        for (size_t k = 0; k < take; k += 1) {
          bool last = slot.prompt_pos + 1 == slot.job.prompt.size();
          int32_t i = add(slot.job.prompt[slot.prompt_pos], slot.n_past, seq, last || slot.job.prompt_logprobs);
          if (last) slot.logits_index = i;
          slot.prompt_pos += 1;
          slot.n_past += 1;
        }
        prefill_budget -= static_cast<int32_t>(take);
        slot.in_batch = take > 0;
      } else if (generating_budget > 0) {
        slot.logits_index = add(slot.next, slot.n_past, seq, true);
        slot.n_past += 1;
        generating_budget -= 1;
        slot.in_batch = true;
      }
    }
  }

  // Never throws: what escapes llama_decode is kept for the loop thread.
  void Decode(ContextState& state) {
    state.failure.clear();
    state.lora_failure.clear();
    try {
      if (batched_) {
        // The adapter of each batch token: its sequence's job's.
        token_adapters_.resize(static_cast<size_t>(state.batch.n_tokens));
        for (int32_t i = 0; i < state.batch.n_tokens; i += 1) {
          const SlotState& slot = slots_[static_cast<size_t>(state.batch.seq_id[i][0])];
          token_adapters_[static_cast<size_t>(i)] = slot.job.adapter;
        }
        batched_lora_.Prepare(state.batch, token_adapters_);
      }
      state.status = api_.llama_decode(state.ctx, state.batch);
      if (batched_) {
        // A decode that failed before its graph ran reports its own status, not missing updates.
        std::string lora_failure = batched_lora_.Finish();
        if (state.status == 0) state.lora_failure = std::move(lora_failure);
      }
    } catch (const std::exception& exception) {
      state.failure = exception.what();
    } catch (...) {
      state.failure = "an unknown exception";
    }
  }

  // One step: one llama_decode per context with slots to decode, run concurrently (the loop thread
  // decodes the first, workers the others), the threads split among them; then every slot that
  // produced logits samples its token.
  void Step(std::vector<std::unique_ptr<DecodeWorker>>& workers, std::vector<Event>& events) {
    for (SlotState& slot : slots_) {
      slot.logits_index = -1;
      slot.in_batch = false;
      slot.prompt_batch_count = 0;
    }
    std::vector<size_t> decoding;
    for (size_t context = 0; context < contexts_.size(); context += 1) {
      FillBatch(static_cast<int32_t>(context));
      if (contexts_[context].batch.n_tokens > 0) decoding.push_back(context);
    }
    if (decoding.empty()) return;
    // At most `threads` contexts decode at once (one thread each at least), so the loop never uses
    // more threads than asked; more contexts than that decode in turns within the step.
    int32_t count = static_cast<int32_t>(decoding.size());
    int32_t wave = std::min(count, std::max(1, std::min(threads_, threads_batch_)));
    for (int32_t i = 0; i < count; i += 1) {
      ContextState& state = contexts_[decoding[static_cast<size_t>(i)]];
      int32_t lane = i % wave;
      int32_t threads = std::max(1, threads_ / wave + (lane < threads_ % wave ? 1 : 0));
      int32_t threads_batch = std::max(1, threads_batch_ / wave + (lane < threads_batch_ % wave ? 1 : 0));
      if (threads != state.threads || threads_batch != state.threads_batch) {
        api_.llama_set_n_threads(state.ctx, threads, threads_batch);
        state.threads = threads;
        state.threads_batch = threads_batch;
      }
    }
    for (int32_t first = 0; first < count; first += wave) {
      int32_t last = std::min(count, first + wave);
      for (int32_t i = first + 1; i < last; i += 1) {
        ContextState* state = &contexts_[decoding[static_cast<size_t>(i)]];
        workers[static_cast<size_t>(i - first - 1)]->Post([this, state] { Decode(*state); });
      }
      Decode(contexts_[decoding[static_cast<size_t>(first)]]);
      for (int32_t i = first + 1; i < last; i += 1) workers[static_cast<size_t>(i - first - 1)]->Wait();
    }
    std::call_once(g_atexit_once, [] { std::atexit(&StopLiveLoopsAtExit); });
    for (size_t context : decoding) {
      const ContextState& state = contexts_[context];
      decodes_ += 1;
      batch_tokens_ += static_cast<uint64_t>(state.batch.n_tokens);
      if (!state.failure.empty()) throw std::runtime_error(state.failure);
    }
    for (SlotState& slot : slots_) {
      if (!slot.active || !slot.in_batch) continue;
      const ContextState& state = contexts_[static_cast<size_t>(slot.context)];
      if (!state.lora_failure.empty()) Finish(slot, Done::Error, state.lora_failure, events);
      else if (state.status != 0) Finish(slot, Done::Error, "llama_decode failed with status " + std::to_string(state.status), events);
    }
    for (size_t index = 0; index < slots_.size(); index += 1) {
      SlotState& slot = slots_[index];
      if (!slot.active) continue;
      if (slot.job.prompt_logprobs && slot.prompt_batch_count > 0) PromptLogprobs(slot);
      if (slot.logits_index >= 0 && slot.generated == 0) ReleaseWaiting(api_, contexts_, slots_, index);
    }
    for (SlotState& slot : slots_) {
      if (!slot.active || slot.logits_index < 0) continue;
      Event event;
      event.job = slot.job.id;
      if (slot.generated == 0) event.prompt_logprobs = std::move(slot.prompt_logprobs);
      std::string error;
      llama_token token = -1;
      try {
        token = Sample(slot, event, error);
      } catch (const std::exception& exception) {
        // llama.cpp throws from a grammar that accepts no token (e.g. a finished JSON value
        // with end-of-generation banned by ignore_eos): that request fails, the loop goes on.
        error = std::string("sampling failed: ") + exception.what();
      } catch (...) {
        error = "sampling failed with an unknown exception";
      }
      if (token < 0) {
        Finish(slot, Done::Error, error, events);
        continue;
      }
      event.token = token;
      slot.generated += 1;
      const llama_vocab* vocab = api_.llama_model_get_vocab(model_);
      Done done = Done::None;
      // With ignore_eos the EOG tokens are banned by the bias, so one here is grammar-forced.
      if (api_.llama_vocab_is_eog(vocab, token)) done = Done::Eos;
      // n_past + 1 = prompt + generated tokens, the sampled one included.
      else if (slot.generated >= slot.job.max_tokens || slot.n_past + 1 >= n_ctx_sequence_) done = Done::Length;
      slot.next = token;
      events.push_back(std::move(event));
      if (done != Done::None) Finish(slot, done, "", events);
    }
  }

  void FailAll(const std::string& message, std::vector<Event>& events) {
    for (SlotState& slot : slots_) {
      if (slot.active) Finish(slot, Done::Error, message, events);
    }
  }

  llama_token Sample(SlotState& slot, Event& event, std::string& error) {
    const float* logits = api_.llama_get_logits_ith(contexts_[static_cast<size_t>(slot.context)].ctx, slot.logits_index);
    return SampleToken(api_, sampling_, n_vocab_, logits, slot.job, event, error);
  }

  // The log-probability of each prompt token given the tokens before it, from this step's logits
  // of the prompt tokens (the last one's predict the first generated token instead).
  void PromptLogprobs(SlotState& slot) {
    for (int32_t k = 0; k < slot.prompt_batch_count; k += 1) {
      size_t next = slot.prompt_batch_pos + static_cast<size_t>(k) + 1;
      if (next >= slot.job.prompt.size()) break;
      const float* logits =
          api_.llama_get_logits_ith(contexts_[static_cast<size_t>(slot.context)].ctx, slot.prompt_batch_first + k);
      if (logits == nullptr) {
        slot.prompt_logprobs.push_back(std::numeric_limits<float>::quiet_NaN());
        continue;
      }
      slot.prompt_logprobs.push_back(logits[slot.job.prompt[next]] - LogNormalizer(logits, n_vocab_));
    }
  }

  // The sequence keeps its KV for the next job on the slot (the prompt cache), except after an
  // error, when what it holds is unknown.
  void Finish(SlotState& slot, Done done, const std::string& error, std::vector<Event>& events) {
    if (done == Done::Error) {
      api_.llama_memory_seq_rm(api_.llama_get_memory(contexts_[static_cast<size_t>(slot.context)].ctx), slot.job.slot, -1, -1);
      slot.cached.clear();
    }
    FreeSamplers(api_, slot.job);
    Event event;
    event.job = slot.job.id;
    event.done = done;
    event.error = error;
    event.cached_tokens = slot.job.cached_tokens;
    events.push_back(std::move(event));
    slot.active = false;
    slot.waiting_for = -1;
    active_ -= 1;
    AbandonWaiting(slots_, slot.job.slot);
  }

  // Batched LoRA's threadpool: how long idle workers poll for the next graph compute (ggml's 0 –
  // 100) before they sleep; the adapters' updates between computes are short. 50: ggml's and
  // llama-server's default.
  static constexpr uint32_t kBatchedPoll = 50;
  static constexpr const char* kDisposedWhileLoading = "the generation loop was disposed while the model loaded";
  // onReady's code when the model loaded but the LoRA configuration (--lora, --lora-mode,
  // --lora-contexts) cannot be served; the same string is LORA_REFUSED in native/addon.ts.
  static constexpr const char* kLoraRefused = "lora_refused";

  LlamaApi api_;
  std::string model_path_;
  int32_t sequences_ = 1;
  int32_t context_per_sequence_ = 512;
  int32_t batch_size_ = 512;
  int32_t threads_ = 1;
  int32_t threads_batch_ = 1;
  int32_t max_pending_ = kDefaultMaxPending;
  int32_t contexts_count_ = 1;
  std::vector<LoraSpec> lora_specs_;
  bool batched_ = false;  // LoRA adapters applied per token in one context (batched-lora.h)
  llama_flash_attn_type flash_ = LLAMA_FLASH_ATTN_TYPE_AUTO;

  // Written by the loop thread before "ready" is posted, read-only afterwards.
  llama_model* model_ = nullptr;
  std::vector<ContextState> contexts_;  // contexts_count_ of them, sharing model_
  int32_t n_vocab_ = 0;
  int32_t n_ctx_sequence_ = 0;
  std::vector<llama_token> eog_tokens_;
  std::vector<llama_adapter_lora*> loras_;  // freed with the model
  BatchedLora batched_lora_;                // read by llama.cpp's eval callback on the loop thread
  const char* load_error_code_ = nullptr;   // set by Load with its error, posted with "ready"
  std::atomic<bool> loaded_{false};

  // Loop thread only.
  std::vector<SlotState> slots_;
  SamplingWorkspace sampling_;
  std::vector<int32_t> token_adapters_;
  float last_progress_ = 0.0f;
  int32_t active_ = 0;
  uint64_t decodes_ = 0;
  uint64_t batch_tokens_ = 0;

  // Shared, under mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Job> incoming_;
  std::vector<uint32_t> cancelled_;
  bool stopping_ = false;
  std::condition_variable room_;  // a delivery was consumed (pending_ went down) or stopping
  int32_t pending_ = 0;           // deliveries (not progress) posted and not yet delivered
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> exiting_{false};
  std::mutex join_mutex_;

  // JavaScript thread only.
  Tsfn tsfn_;
  Napi::FunctionReference on_ready_;
  Napi::FunctionReference on_progress_;
  Napi::ObjectReference self_;
  std::unordered_map<uint32_t, Napi::FunctionReference> callbacks_;
  std::vector<uint32_t> job_of_slot_;
  uint32_t next_job_id_ = 1;
  int32_t js_active_ = 0;
  bool disposed_ = false;
  uint64_t stats_decodes_ = 0;
  uint64_t stats_tokens_ = 0;
  uint64_t stats_grammar_tokens_ = 0;
  uint64_t stats_grammar_retries_ = 0;
  std::thread thread_;
  Napi::Env::CleanupHook<void (*)(GenerationLoop*), GenerationLoop> cleanup_hook_;
  bool in_cleanup_ = false;

  friend void CallJs(Napi::Env, Napi::Function, GenerationLoop*, Delivery*);
};

void StopLiveLoopsAtExit() {
  std::lock_guard<std::mutex> lock(g_live_mutex);
  for (GenerationLoop* loop : g_live) loop->StopForExit();
  g_live.clear();
}

void CallJs(Napi::Env env, Napi::Function, GenerationLoop* loop, Delivery* delivery) {
  std::unique_ptr<Delivery> owned(delivery);
  if (env == nullptr || loop == nullptr) return;  // the environment is shutting down
  loop->Deliver(env, delivery);
}

}  // namespace

}  // namespace llm_twin

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("GenerationLoop", llm_twin::GenerationLoop::Init(env));
  exports.Set("stopLiveLoops", Napi::Function::New(env, [](const Napi::CallbackInfo&) { llm_twin::StopLiveLoopsAtExit(); }));
  return exports;
}

NODE_API_MODULE(llm_twin_native, InitModule)
