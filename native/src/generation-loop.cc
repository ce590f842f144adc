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

#include "batched-lora.h"
#include "grammar-sampling.h"
#include "greedy-sampling.h"
#include "llama-api.h"
#include "stream-exports.h"
#include "watermark-sampling.h"

namespace llm_twin {
namespace {

struct SamplingParams {
  float temperature = 0.0f;
  int32_t top_k = 0;
  float top_p = 1.0f;
  float typical_p = 1.0f;  // locally typical sampling (TGI's typical_p); 1 = off
  uint32_t seed = 0;
  float repeat_penalty = 1.0f;
  // OpenAI's: logit −= frequency × count + presence × (count > 0), over the generated tokens only.
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  bool ignore_eos = false;
  bool logprobs = false;
  int32_t top_logprobs = 0;     // alternatives reported per generated token (0–20)
  bool prompt_logprobs = false;  // each prompt token's log-probability (TGI's prefill details)
  int32_t share_with = -1;       // the slot whose prompt KV this job may copy (n > 1)
  bool cache_prompt = true;
  int32_t adapter = -1;
  int32_t max_tokens = 1;
  std::vector<llama_logit_bias> bias;
  std::string grammar;
  std::string grammar_root;
  WatermarkParams watermark;  // TGI's watermark (watermark-sampling.h); off unless gamma > 0
};

struct Job {
  uint32_t id = 0;
  int32_t slot = 0;
  std::vector<llama_token> prompt;
  llama_sampler* grammar = nullptr;  // checks the chain's choice (grammar-sampling.h); never fed the prompt
  llama_sampler* chain = nullptr;
  // The grammar may skip tokens by their first character (grammar-sampling.h): it has no token
  // references and every piece accepted so far is ASCII.
  bool grammar_by_first_character = false;
  // Temperature 0 without grammar or penalty: the token comes from GreedyPicker, not the chain.
  bool greedy = false;
  GreedyPicker greedy_picker;
  int32_t max_tokens = 1;
  bool logprobs = false;
  int32_t top_logprobs = 0;
  bool prompt_logprobs = false;
  // n > 1: a job started with the same prompt as the job on slot `share_with` copies that
  // sequence's prompt KV (llama_memory_seq_cp) instead of decoding the prompt again.
  int32_t share_with = -1;
  // Reuse the longest common prefix of the slot's cached tokens (llama-server's cache_prompt).
  bool cache_prompt = true;
  int32_t cached_tokens = 0;  // prompt tokens served from the slot's cache
  int32_t adapter = -1;       // index of the LoRA adapter in the loop's list; -1: the base model
};

struct SlotState {
  bool active = false;
  Job job;
  size_t prompt_pos = 0;  // prompt tokens already decoded
  int32_t n_past = 0;     // positions in the sequence's memory
  llama_token next = -1;  // the sampled token still to decode
  int32_t generated = 0;
  int32_t logits_index = -1;  // this step's batch index holding the slot's logits
  bool in_batch = false;
  // The tokens whose KV is in the slot's sequence, positions 0…n−1. Kept after a job ends (the
  // prompt cache); cleared when the sequence is cleared.
  std::vector<llama_token> cached;
  int32_t cached_adapter = -1;  // the adapter the cached KV was computed with
  // A job waiting for the prompt of the job on this slot to be decoded, to copy its KV; -1: none.
  int32_t waiting_for = -1;
  // Prompt logprobs: the batch index of this step's first prompt token and how many were added.
  int32_t prompt_batch_first = -1;
  int32_t prompt_batch_count = 0;
  size_t prompt_batch_pos = 0;  // the prompt position of that first token
  std::vector<float> prompt_logprobs;
  int32_t context = 0;          // the context holding the sequence (the cached KV; the job's decodes)
};

// One llama_context of the loop, sharing the model with the others. Each has its own KV memory
// (every slot's sequence) and its own LoRA adapter set: with several contexts, jobs of different
// adapters go to different contexts and their decode steps run concurrently, each context keeping
// its adapter (no graph rebuild per switch). A context shared by several adapters rotates its steps.
struct ContextState {
  llama_context* ctx = nullptr;
  llama_batch batch{};
  bool has_batch = false;
  int32_t step_adapter = -1;     // the adapter of the current step
  int32_t applied_adapter = -1;  // the adapter set on the context
  int32_t steps_on_adapter = 0;  // consecutive steps of step_adapter
  int32_t threads = 0;           // the thread counts last set on the context
  int32_t threads_batch = 0;
  int32_t status = 0;  // this step's llama_decode status
  std::string lora_failure;  // batched LoRA could not apply the adapters: the step's output is void
  std::string failure;  // an exception escaping this step's decode
};

// A thread that runs one task at a time for the loop thread: the decode of a second context while
// the loop thread decodes the first. Persistent, so llama.cpp's CPU workers are not recreated per
// step.
class DecodeWorker {
 public:
  DecodeWorker() : thread_([this] { Run(); }) {}
  ~DecodeWorker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  DecodeWorker(const DecodeWorker&) = delete;
  DecodeWorker& operator=(const DecodeWorker&) = delete;

  void Post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = std::move(task);
      busy_ = true;
    }
    wake_.notify_all();
  }

  void Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return !busy_; });
  }

 private:
  void Run() {
    pthread_setname_np(pthread_self(), "llm-twin-decode");
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || task_ != nullptr; });
      if (stop_) return;
      std::function<void()> task = std::move(task_);
      task_ = nullptr;
      lock.unlock();
      task();  // never throws: the tasks catch everything
      lock.lock();
      busy_ = false;
      idle_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::function<void()> task_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

enum class Done : uint8_t { None, Eos, Length, Cancelled, Error };

const char* DoneName(Done done) {
  switch (done) {
    case Done::Eos: return "eos";
    case Done::Length: return "length";
    case Done::Cancelled: return "cancelled";
    case Done::Error: return "error";
    default: return nullptr;
  }
}

struct Event {
  uint32_t job = 0;
  int32_t token = -1;
  bool has_logprob = false;
  float logprob = 0.0f;
  Done done = Done::None;
  std::string error;
  int32_t cached_tokens = -1;  // with done: prompt tokens that came from the cache
  std::vector<std::pair<llama_token, float>> top;  // the most likely tokens, by logprob
  std::vector<float> prompt_logprobs;  // with the first token: prompt tokens 1…n−1
};

// One delivery to JavaScript: the model finished loading (or failed to), or one step's events.
struct Delivery {
  float progress = -1.0f;  // model loading progress, 0…1, when >= 0
  bool ready = false;
  std::string load_error;
  const char* load_error_code = nullptr;  // kLoraRefused when the LoRA configuration is at fault
  std::vector<Event> events;
  uint64_t decodes = 0;
  uint64_t tokens = 0;
  uint64_t grammar_tokens = 0;
  uint64_t grammar_retries = 0;
};

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

// Numbers cross the boundary as doubles: every one is checked (finite, integral where an integer
// is meant, within range) before it is converted, instead of a cast with undefined behaviour.
double CheckedNumber(Napi::Env env, Napi::Value value, const char* name, double min, double max, bool integer) {
  if (!value.IsNumber()) throw Napi::TypeError::New(env, std::string(name) + " must be a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (std::isnan(number) || number < min || number > max || (integer && std::floor(number) != number)) {
    throw Napi::RangeError::New(env, std::string(name) + " must be " + (integer ? "an integer" : "a number") +
                                         " in [" + std::to_string(static_cast<long long>(min)) + ", " +
                                         std::to_string(static_cast<long long>(max)) + "]");
  }
  return number;
}

int32_t CheckedInt32(Napi::Env env, Napi::Value value, const char* name, int32_t min,
                     int32_t max = std::numeric_limits<int32_t>::max()) {
  return static_cast<int32_t>(CheckedNumber(env, value, name, min, max, true));
}

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
    Napi::Object options = info[0].As<Napi::Object>();
    auto text = [&](const char* key) {
      Napi::Value value = options.Get(key);
      if (!value.IsString()) throw Napi::TypeError::New(env, std::string(key) + " must be a string");
      return value.As<Napi::String>().Utf8Value();
    };
    std::string library = text("libraryPath");
    model_path_ = text("modelPath");
    sequences_ = CheckedInt32(env, options.Get("sequences"), "sequences", 1, 1024);
    context_per_sequence_ = CheckedInt32(env, options.Get("contextSize"), "contextSize", 1, 1 << 24);
    batch_size_ = CheckedInt32(env, options.Get("batchSize"), "batchSize", 1, 1 << 20);
    threads_ = CheckedInt32(env, options.Get("threads"), "threads", 1, 1024);
    // llama.cpp uses n_threads for one-token decodes and n_threads_batch for prompts and decodes of
    // several sequences (llama-context.cpp, graph_compute); default: the same.
    Napi::Value threads_batch = options.Get("threadsBatch");
    threads_batch_ = threads_batch.IsUndefined() ? threads_ : CheckedInt32(env, threads_batch, "threadsBatch", 1, 1024);
    Napi::Value pending = options.Get("maxPendingDeliveries");
    max_pending_ = pending.IsUndefined() ? kDefaultMaxPending : CheckedInt32(env, pending, "maxPendingDeliveries", 1, 1 << 20);
    Napi::Value contexts = options.Get("contexts");
    contexts_count_ = contexts.IsUndefined() ? 1 : CheckedInt32(env, contexts, "contexts", 1, 64);
    Napi::Value loras = options.Get("loras");
    if (!loras.IsUndefined()) {
      if (!loras.IsArray()) throw Napi::TypeError::New(env, "loras must be an array");
      Napi::Array list = loras.As<Napi::Array>();
      for (uint32_t i = 0; i < list.Length(); i += 1) {
        Napi::Value entry = list.Get(i);
        if (!entry.IsObject()) throw Napi::TypeError::New(env, "loras[] must be {path, scale} objects");
        Napi::Object lora = entry.As<Napi::Object>();
        Napi::Value path = lora.Get("path");
        if (!path.IsString()) throw Napi::TypeError::New(env, "loras[].path must be a string");
        float scale = static_cast<float>(CheckedNumber(env, lora.Get("scale"), "loras[].scale", -1e6, 1e6, false));
        lora_specs_.push_back({path.As<Napi::String>().Utf8Value(), scale});
      }
    }
    Napi::Value lora_mode = options.Get("loraMode");
    if (!lora_mode.IsUndefined()) {
      std::string mode = lora_mode.IsString() ? lora_mode.As<Napi::String>().Utf8Value() : "";
      if (mode != "batched" && mode != "contexts") throw Napi::TypeError::New(env, "loraMode must be \"batched\" or \"contexts\"");
      // Batched: one context serves the base model and every adapter, per token (batched-lora.h).
      batched_ = mode == "batched" && !lora_specs_.empty();
      if (batched_ && contexts_count_ != 1) throw Napi::RangeError::New(env, "loraMode \"batched\" uses one context");
    }
    if (static_cast<int64_t>(context_per_sequence_) * sequences_ > std::numeric_limits<uint32_t>::max()) {
      throw Napi::RangeError::New(env, "contextSize × sequences is too large");
    }
    std::string flash = text("flashAttention");
    flash_ = flash == "on" ? LLAMA_FLASH_ATTN_TYPE_ENABLED
             : flash == "off" ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                              : LLAMA_FLASH_ATTN_TYPE_AUTO;
    // llama.cpp reserves at least one output per sequence in a batch (GGML_ASSERT otherwise), and
    // a batch must hold one token of every generating sequence; node-llama-cpp raises it alike.
    batch_size_ = std::max(batch_size_, sequences_);
    std::string error = LoadLlamaApi(library, api_);
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
    SamplingParams params = ReadParams(info[2].As<Napi::Object>());

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
      error = CreateSamplers(params, job);
    } catch (const std::exception& exception) {
      error = std::string("could not create the samplers: ") + exception.what();
    }
    if (!error.empty()) {
      FreeSamplers(job);
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

  SamplingParams ReadParams(Napi::Object object) {
    SamplingParams params;
    Napi::Env env = object.Env();
    constexpr double kMaxInt32 = std::numeric_limits<int32_t>::max();
    auto number = [&](const char* key, double fallback, double min, double max, bool integer) {
      Napi::Value value = object.Get(key);
      return value.IsUndefined() ? fallback : CheckedNumber(env, value, key, min, max, integer);
    };
    params.temperature = static_cast<float>(number("temperature", 0, 0, 1e6, false));
    params.top_k = static_cast<int32_t>(number("topK", 0, 0, kMaxInt32, true));
    params.top_p = static_cast<float>(number("topP", 1, 0, 1, false));
    params.typical_p = static_cast<float>(number("typicalP", 1, 0, 1, false));
    // Seeds are 32-bit in llama.cpp; the JavaScript side reduces larger ones modulo 2^32.
    params.seed = static_cast<uint32_t>(number("seed", 0, 0, std::numeric_limits<uint32_t>::max(), true));
    params.repeat_penalty = static_cast<float>(number("repeatPenalty", 1, 0, 1e6, false));
    params.frequency_penalty = static_cast<float>(number("frequencyPenalty", 0, -2, 2, false));
    params.presence_penalty = static_cast<float>(number("presencePenalty", 0, -2, 2, false));
    params.max_tokens = static_cast<int32_t>(number("maxTokens", 1, 1, kMaxInt32, true));
    params.ignore_eos = object.Get("ignoreEos").ToBoolean();
    params.logprobs = object.Get("logprobs").ToBoolean();
    params.top_logprobs = static_cast<int32_t>(number("topLogprobs", 0, 0, kMaxTopLogprobs, true));
    params.prompt_logprobs = object.Get("promptLogprobs").ToBoolean();
    params.share_with = static_cast<int32_t>(number("shareWith", -1, -1, sequences_ - 1, true));
    params.adapter = static_cast<int32_t>(number("adapter", -1, -1, static_cast<double>(lora_specs_.size()) - 1, true));
    Napi::Value cache_prompt = object.Get("cachePrompt");
    params.cache_prompt = cache_prompt.IsUndefined() || cache_prompt.ToBoolean();
    Napi::Value bias = object.Get("logitBias");
    if (!bias.IsUndefined()) {
      // Float64Array of (token, bias) pairs; the bias is finite or −Infinity (banned).
      if (!bias.IsTypedArray() || bias.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
        throw Napi::TypeError::New(env, "logitBias must be a Float64Array");
      }
      Napi::Float64Array pairs = bias.As<Napi::Float64Array>();
      if (pairs.ElementLength() % 2 != 0) throw Napi::RangeError::New(env, "logitBias must hold (token, bias) pairs");
      for (size_t i = 0; i + 1 < pairs.ElementLength(); i += 2) {
        double token = pairs[i];
        double value = pairs[i + 1];
        if (!(token >= 0 && token < n_vocab_) || std::floor(token) != token) {
          throw Napi::RangeError::New(env, "logit bias token out of range");
        }
        if (std::isnan(value) || value == std::numeric_limits<double>::infinity()) {
          throw Napi::RangeError::New(env, "a logit bias must be finite or -Infinity");
        }
        params.bias.push_back({static_cast<llama_token>(token), static_cast<float>(value)});
      }
    }
    if (params.ignore_eos) {
      for (llama_token token : eog_tokens_) params.bias.push_back({token, -std::numeric_limits<float>::infinity()});
    }
    params.watermark.gamma = number("watermarkGamma", 0, 0, 1, false);
    params.watermark.delta = static_cast<float>(number("watermarkDelta", 0, 0, 1e6, false));
    Napi::Value grammar = object.Get("grammar");
    if (grammar.IsString()) {
      params.grammar = grammar.As<Napi::String>().Utf8Value();
      Napi::Value root = object.Get("grammarRoot");
      params.grammar_root = root.IsString() ? root.As<Napi::String>().Utf8Value() : "root";
    }
    return params;
  }

  // Built on the JavaScript thread so that a bad grammar fails start() synchronously.
  std::string CreateSamplers(const SamplingParams& params, Job& job) {
    const llama_vocab* vocab = api_.llama_model_get_vocab(model_);
    if (!params.grammar.empty()) {
      job.grammar = api_.llama_sampler_init_grammar(vocab, params.grammar.c_str(), params.grammar_root.c_str());
      if (job.grammar == nullptr) return "the grammar could not be parsed";
      job.grammar_by_first_character = params.grammar.find('<') == std::string::npos;
    }
    llama_sampler_chain_params chain_params = api_.llama_sampler_chain_default_params();
    chain_params.no_perf = true;
    job.chain = api_.llama_sampler_chain_init(chain_params);
    if (params.watermark.On()) {
      llama_token previous = job.prompt.empty() ? -1 : job.prompt.back();
      api_.llama_sampler_chain_add(job.chain, NewWatermarkSampler(api_, params.watermark, previous));
    }
    if (!params.bias.empty()) {
      api_.llama_sampler_chain_add(job.chain, api_.llama_sampler_init_logit_bias(
                                                  n_vocab_, static_cast<int32_t>(params.bias.size()), params.bias.data()));
    }
    if (params.repeat_penalty != 1.0f) {
      api_.llama_sampler_chain_add(job.chain,
                                   api_.llama_sampler_init_penalties(n_vocab_, kRepeatPenaltyWindow, params.repeat_penalty, 0, 0));
      // The penalty window starts with the prompt, as node-llama-cpp's does; the grammar sampler
      // must not see the prompt (it would try to parse it).
      for (llama_token token : job.prompt) api_.llama_sampler_accept(job.chain, token);
    }
    // Added after the prompt went through the chain: these count the generated tokens only, all
    // of them (a window as long as a sequence).
    bool counted = params.frequency_penalty != 0.0f || params.presence_penalty != 0.0f;
    if (counted) {
      api_.llama_sampler_chain_add(job.chain, api_.llama_sampler_init_penalties(n_vocab_, n_ctx_sequence_, 1.0f,
                                                                                params.frequency_penalty,
                                                                                params.presence_penalty));
    }
    if (params.temperature <= 0.0f) {
      api_.llama_sampler_chain_add(job.chain, api_.llama_sampler_init_greedy());
      if (job.grammar == nullptr && params.repeat_penalty == 1.0f && !counted && !params.watermark.On()) {
        job.greedy = true;
        job.greedy_picker = GreedyPicker(params.bias);
      }
    } else {
      if (params.top_k > 0) api_.llama_sampler_chain_add(job.chain, api_.llama_sampler_init_top_k(params.top_k));
      if (params.top_p < 1.0f) api_.llama_sampler_chain_add(job.chain, api_.llama_sampler_init_top_p(params.top_p, 1));
      if (params.typical_p < 1.0f) {
        api_.llama_sampler_chain_add(job.chain, api_.llama_sampler_init_typical(params.typical_p, 1));
      }
      api_.llama_sampler_chain_add(job.chain, api_.llama_sampler_init_temp(params.temperature));
      api_.llama_sampler_chain_add(job.chain, api_.llama_sampler_init_dist(params.seed));
    }
    return "";
  }

  void FreeSamplers(Job& job) {
    if (job.grammar != nullptr) api_.llama_sampler_free(job.grammar);
    if (job.chain != nullptr) api_.llama_sampler_free(job.chain);
    job.grammar = nullptr;
    job.chain = nullptr;
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
    candidates_.resize(static_cast<size_t>(n_vocab_));
    grammar_vocabulary_.Build(api_, vocab, n_vocab_);
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
    delivery->grammar_tokens = grammar_tokens_;
    delivery->grammar_retries = grammar_retries_;
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
          FreeSamplers(slot.job);
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
          FreeSamplers(job);
          continue;
        }
        int32_t context = PickContext(slot, job);
        int32_t waiting_for = -1;
        size_t shared = SharedPrefix(job, context);
        size_t own = context == slot.context && slot.cached_adapter == job.adapter && job.cache_prompt
                         ? CommonPrefix(slot.cached, job.prompt)
                         : 0;
        // The slot's sequence in its previous context is dropped; the chosen context may hold a
        // stale one from an earlier job (cleared below unless kept).
        if (context != slot.context) ClearPrefix(slot.context, job);
        std::vector<llama_token> cached = std::move(slot.cached);
        size_t reuse = 0;
        if (WaitsForSharedPrompt(job, context)) {
          reuse = ClearPrefix(context, job);
          waiting_for = job.share_with;
        } else if (shared > own) {
          reuse = CopyPrefix(context, job, shared);
          cached.assign(job.prompt.begin(), job.prompt.begin() + static_cast<std::ptrdiff_t>(reuse));
        } else if (context == slot.context && slot.cached_adapter == job.adapter) {
          reuse = ReusablePrefix(context, cached, job);
        } else {
          reuse = ClearPrefix(context, job);
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

  // How much of the slot's cache the job keeps: the longest common prefix with its prompt, less
  // one token when the whole prompt matches (its logits must be computed), none without
  // cache_prompt. The rest of the sequence is removed.
  size_t ReusablePrefix(int32_t context, const std::vector<llama_token>& cached, const Job& job) {
    size_t reuse = 0;
    if (job.cache_prompt) {
      size_t limit = std::min(cached.size(), job.prompt.size() - 1);
      while (reuse < limit && cached[reuse] == job.prompt[reuse]) reuse += 1;
    }
    llama_memory_t memory = api_.llama_get_memory(contexts_[static_cast<size_t>(context)].ctx);
    if (!api_.llama_memory_seq_rm(memory, job.slot, static_cast<llama_pos>(reuse), -1)) {
      // Memory that cannot drop a tail (recurrent models): start from scratch.
      api_.llama_memory_seq_rm(memory, job.slot, -1, -1);
      reuse = 0;
    }
    return reuse;
  }

  size_t ClearPrefix(int32_t context, const Job& job) {
    api_.llama_memory_seq_rm(api_.llama_get_memory(contexts_[static_cast<size_t>(context)].ctx), job.slot, -1, -1);
    return 0;
  }

  // The longest common prefix, less one token when the whole prompt matches (its logits must be
  // computed).
  static size_t CommonPrefix(const std::vector<llama_token>& cached, const std::vector<llama_token>& prompt) {
    size_t limit = std::min(cached.size(), prompt.size() - 1);
    size_t length = 0;
    while (length < limit && cached[length] == prompt[length]) length += 1;
    return length;
  }

  // n > 1: what the sibling sequence (share_with) holds of this job's prompt, when the job decodes
  // in the sibling's context (KV is copied within a context only).
  size_t SharedPrefix(const Job& job, int32_t context) {
    if (job.share_with < 0 || job.prompt_logprobs) return 0;
    const SlotState& sibling = slots_[static_cast<size_t>(job.share_with)];
    if (sibling.context != context || sibling.waiting_for >= 0 || sibling.cached_adapter != job.adapter) return 0;
    return CommonPrefix(sibling.cached, job.prompt);
  }

  // The sibling is still decoding this same prompt (in `context`): wait for it and copy its KV,
  // rather than decode the prompt twice.
  bool WaitsForSharedPrompt(const Job& job, int32_t context) {
    if (job.share_with < 0 || job.prompt_logprobs) return false;
    const SlotState& sibling = slots_[static_cast<size_t>(job.share_with)];
    return sibling.active && sibling.context == context && sibling.waiting_for < 0 &&
           sibling.job.adapter == job.adapter && sibling.prompt_pos < sibling.job.prompt.size() &&
           sibling.job.prompt == job.prompt;
  }

  // Copies the sibling's sequence into the job's and keeps its first `length` positions. With one
  // KV stream per sequence (kv_unified = false) llama.cpp copies whole streams (at the next
  // decode), so the tail is removed afterwards.
  size_t CopyPrefix(int32_t context, const Job& job, size_t length) {
    llama_memory_t memory = api_.llama_get_memory(contexts_[static_cast<size_t>(context)].ctx);
    api_.llama_memory_seq_rm(memory, job.slot, -1, -1);
    api_.llama_memory_seq_cp(memory, job.share_with, job.slot, -1, -1);
    if (!api_.llama_memory_seq_rm(memory, job.slot, static_cast<llama_pos>(length), -1)) {
      api_.llama_memory_seq_rm(memory, job.slot, -1, -1);
      return 0;
    }
    return length;
  }

  // The prompt of the job on `source` is decoded: the jobs waiting for it (placed in its context)
  // copy its KV and sample from the same logits in this step.
  void ReleaseWaiting(size_t source) {
    SlotState& from = slots_[source];
    for (size_t index = 0; index < slots_.size(); index += 1) {
      SlotState& waiting = slots_[index];
      if (!waiting.active || waiting.waiting_for != static_cast<int32_t>(source)) continue;
      llama_memory_t memory = api_.llama_get_memory(contexts_[static_cast<size_t>(from.context)].ctx);
      api_.llama_memory_seq_rm(memory, static_cast<llama_seq_id>(index), -1, -1);
      api_.llama_memory_seq_cp(memory, static_cast<llama_seq_id>(source), static_cast<llama_seq_id>(index), -1, -1);
      waiting.waiting_for = -1;
      waiting.cached = from.cached;
      waiting.prompt_pos = waiting.job.prompt.size();
      waiting.n_past = from.n_past;
      waiting.logits_index = from.logits_index;
      waiting.in_batch = true;
      waiting.job.cached_tokens = static_cast<int32_t>(waiting.job.prompt.size());
    }
  }

  // The job on `source` ended before its prompt was decoded: the jobs waiting for it decode
  // their prompts themselves.
  void AbandonWaiting(int32_t source) {
    for (SlotState& waiting : slots_) {
      if (waiting.active && waiting.waiting_for == source) waiting.waiting_for = -1;
    }
  }

  static float LogNormalizer(const float* logits, int32_t n_vocab) {
    float max = logits[0];
    for (int32_t i = 1; i < n_vocab; i += 1) max = std::max(max, logits[i]);
    double sum = 0;
    for (int32_t i = 0; i < n_vocab; i += 1) sum += std::exp(static_cast<double>(logits[i] - max));
    return max + static_cast<float>(std::log(sum));
  }

  // The context a job decodes in. With one context, always it. With several: one already decoding
  // this adapter only (the batch grows; the slot's own first, for its cached prefix); else an idle
  // one (the slot's own, else one already set to this adapter); else, every context busy with other
  // adapters, the least loaded, whose steps then rotate among its adapters.
  // A job of n > 1 that can copy its sibling's prompt KV goes to the sibling's context (KV cannot
  // be copied across contexts) when that saves more than the slot's own cached prefix.
  int32_t PickContext(const SlotState& slot, const Job& job) {
    size_t count = contexts_.size();
    if (count == 1) return 0;
    if (job.share_with >= 0) {
      int32_t sibling = slots_[static_cast<size_t>(job.share_with)].context;
      size_t own = slot.cached_adapter == job.adapter && job.cache_prompt ? CommonPrefix(slot.cached, job.prompt) : 0;
      if (WaitsForSharedPrompt(job, sibling) || SharedPrefix(job, sibling) > own) return sibling;
    }
    std::vector<int32_t> active(count, 0);
    std::vector<bool> same(count, true);
    for (const SlotState& other : slots_) {
      if (!other.active) continue;
      size_t context = static_cast<size_t>(other.context);
      active[context] += 1;
      if (other.job.adapter != job.adapter) same[context] = false;
    }
    size_t own = static_cast<size_t>(slot.context);
    if (active[own] > 0 && same[own]) return slot.context;
    for (size_t c = 0; c < count; c += 1) {
      if (active[c] > 0 && same[c]) return static_cast<int32_t>(c);
    }
    if (active[own] == 0) return slot.context;
    for (size_t c = 0; c < count; c += 1) {
      if (active[c] == 0 && contexts_[c].applied_adapter == job.adapter) return static_cast<int32_t>(c);
    }
    for (size_t c = 0; c < count; c += 1) {
      if (active[c] == 0) return static_cast<int32_t>(c);
    }
    size_t least = 0;
    for (size_t c = 1; c < count; c += 1) {
      if (active[c] < active[least]) least = c;
    }
    return static_cast<int32_t>(least);
  }

  // llama.cpp applies LoRA adapters per context: a step decodes the slots of one adapter (or the
  // base model) only. With several in use, the steps rotate among them, so none starves
  // (llama-server likewise batches only requests with the same adapter set together). Changing the
  // context's adapters makes llama.cpp rebuild its graph, so an adapter keeps the loop for up to
  // kStepsPerAdapter steps while others wait.
  // With several contexts, each context's slots are chosen per adapter (PickContext), so a context
  // rotates only when more adapter sets are in use than there are contexts.
  int32_t ChooseAdapter(int32_t context) {
    ContextState& state = contexts_[static_cast<size_t>(context)];
    bool current_active = false;
    for (const SlotState& slot : slots_) {
      if (slot.active && slot.context == context && slot.job.adapter == state.step_adapter) current_active = true;
    }
    state.steps_on_adapter += 1;
    if (current_active && state.steps_on_adapter < kStepsPerAdapter) return state.step_adapter;
    state.steps_on_adapter = 0;
    bool any = false;
    int32_t first = std::numeric_limits<int32_t>::max();
    int32_t next = std::numeric_limits<int32_t>::max();
    for (const SlotState& slot : slots_) {
      if (!slot.active || slot.context != context) continue;
      any = true;
      first = std::min(first, slot.job.adapter);
      if (slot.job.adapter > state.step_adapter) next = std::min(next, slot.job.adapter);
    }
    if (!any) return state.step_adapter;
    return next != std::numeric_limits<int32_t>::max() ? next : first;
  }

  void ApplyAdapter(ContextState& state, int32_t adapter) {
    if (adapter == state.applied_adapter) return;
    if (adapter < 0) {
      api_.llama_set_adapters_lora(state.ctx, nullptr, 0, nullptr);
    } else {
      llama_adapter_lora* chosen = loras_[static_cast<size_t>(adapter)];
      float scale = lora_specs_[static_cast<size_t>(adapter)].scale;
      api_.llama_set_adapters_lora(state.ctx, &chosen, 1, &scale);
    }
    state.applied_adapter = adapter;
  }

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
      state.step_adapter = ChooseAdapter(context);
      ApplyAdapter(state, state.step_adapter);
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
      if (slot.logits_index >= 0 && slot.generated == 0) ReleaseWaiting(index);
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
    if (logits == nullptr) {
      error = "no logits for the sequence";
      return -1;
    }
    llama_token token = -1;
    if (slot.job.grammar != nullptr) {
      bool retried = false;
      token = SampleWithGrammar(api_, grammar_vocabulary_, slot.job.grammar, slot.job.chain, logits, candidates_,
                                slot.job.grammar_by_first_character, retried);
      grammar_tokens_ += 1;
      if (retried) grammar_retries_ += 1;
    } else if (slot.job.greedy) {
      token = slot.job.greedy_picker.Pick(logits, n_vocab_, greedy_scratch_);
    } else {
      for (int32_t id = 0; id < n_vocab_; id += 1) candidates_[static_cast<size_t>(id)] = {id, logits[id], 0.0f};
      llama_token_data_array array{candidates_.data(), candidates_.size(), -1, false};
      api_.llama_sampler_apply(slot.job.chain, &array);
      if (array.selected >= 0 && static_cast<size_t>(array.selected) < array.size) token = array.data[array.selected].id;
    }
    if (token < 0) {
      error = token == kGrammarDeadEnd ? kGrammarDeadEndMessage : "the sampler selected no token";
      return -1;
    }
    if (slot.job.grammar != nullptr) {
      api_.llama_sampler_accept(slot.job.grammar, token);
      if (!grammar_vocabulary_.Ascii(token)) slot.job.grammar_by_first_character = false;
    }
    api_.llama_sampler_accept(slot.job.chain, token);
    if (slot.job.logprobs || slot.job.top_logprobs > 0) {
      // log-softmax of the raw logits (before bias, grammar and temperature): the model's own
      // distribution, as vLLM reports by default and node-llama-cpp's confidence is.
      float normalizer = LogNormalizer(logits, n_vocab_);
      event.has_logprob = true;
      event.logprob = logits[token] - normalizer;
      if (slot.job.top_logprobs > 0) {
        size_t count = std::min(static_cast<size_t>(slot.job.top_logprobs), static_cast<size_t>(n_vocab_));
        top_scratch_.resize(static_cast<size_t>(n_vocab_));
        for (int32_t i = 0; i < n_vocab_; i += 1) top_scratch_[static_cast<size_t>(i)] = i;
        std::partial_sort(top_scratch_.begin(), top_scratch_.begin() + static_cast<std::ptrdiff_t>(count),
                          top_scratch_.end(), [logits](llama_token a, llama_token b) {
                            return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                          });
        event.top.reserve(count);
        for (size_t i = 0; i < count; i += 1) {
          llama_token id = top_scratch_[i];
          event.top.emplace_back(id, logits[id] - normalizer);
        }
      }
    }
    return token;
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
    FreeSamplers(slot.job);
    Event event;
    event.job = slot.job.id;
    event.done = done;
    event.error = error;
    event.cached_tokens = slot.job.cached_tokens;
    events.push_back(std::move(event));
    slot.active = false;
    slot.waiting_for = -1;
    active_ -= 1;
    AbandonWaiting(slot.job.slot);
  }

  struct LoraSpec {
    std::string path;
    float scale;
  };

  static constexpr int32_t kRepeatPenaltyWindow = 64;
  static constexpr int32_t kMaxTopLogprobs = 20;
  static constexpr int32_t kStepsPerAdapter = 16;
  // Batched LoRA's threadpool: how long idle workers poll for the next graph compute (ggml's 0 –
  // 100) before they sleep; the adapters' updates between computes are short. 50: ggml's and
  // llama-server's default.
  static constexpr uint32_t kBatchedPoll = 50;
  static constexpr int32_t kDefaultMaxPending = 64;
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
  std::vector<llama_token_data> candidates_;
  std::vector<float> greedy_scratch_;
  GrammarVocabulary grammar_vocabulary_;  // built when the model loads
  uint64_t grammar_tokens_ = 0;           // tokens sampled under a grammar
  uint64_t grammar_retries_ = 0;          // of which the grammar refused the first choice
  std::vector<llama_token> top_scratch_;
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
  llm_twin::RegisterStreamExports(env, exports);
  return exports;
}

NODE_API_MODULE(llm_twin_native, InitModule)
