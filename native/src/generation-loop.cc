// The generation loop's N-API surface, on the JavaScript thread: the GenerationLoop class that
// JavaScript constructs (src/llm/llama-cpp/native/addon.ts), start / cancel / stats / dispose, the
// deliveries from the loop thread (Deliver, through a ThreadSafeFunction), the live-loop registry
// that stops loops before the process exits, and the module's exports. The class: generation-loop.h.
#include "generation-loop.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "native-stream.h"
#include "stream-exports.h"

namespace llm_twin {

// Live loops, stopped before the process exits: process.exit() and uncaught exceptions skip the
// environment's cleanup hooks, and a loop thread (or ggml's workers) still inside llama_decode
// while libc runs ggml's static destructors crashed the process (issue 13, item 24). The
// JavaScript side calls stopLiveLoops() from process's "exit" event; an atexit handler, registered
// after the first decode (ggml creates function-local statics on first use, and atexit handlers
// run in reverse order of registration), covers exits that skip that event.
namespace {

std::mutex g_live_mutex;
std::vector<GenerationLoop*> g_live;

}  // namespace

std::once_flag g_atexit_once;

Napi::Function GenerationLoop::Init(Napi::Env env) {
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
GenerationLoop::GenerationLoop(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GenerationLoop>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "GenerationLoop(options, onReady) expected");
  }
  config_ = ReadLoopConfig(env, info[0].As<Napi::Object>());
  std::string error = LoadLlamaApi(config_.library, api_);
  if (!error.empty()) throw Napi::Error::New(env, error);

  on_ready_ = Napi::Persistent(info[1].As<Napi::Function>());
  if (info.Length() > 2 && info[2].IsFunction()) on_progress_ = Napi::Persistent(info[2].As<Napi::Function>());
  // The object stays alive until the thread-safe function is finalised (after dispose), so no
  // delivery can reach a collected object.
  self_ = Napi::Persistent(info.This().As<Napi::Object>());
  tsfn_ = Tsfn::New(env, "llm-twin-generation-loop", 0, 1, this,
                    [](Napi::Env, void*, GenerationLoop* loop) { loop->self_.Reset(); });
  slots_.resize(static_cast<size_t>(config_.sequences));
  job_of_slot_.assign(static_cast<size_t>(config_.sequences), 0);
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
void GenerationLoop::StopForExit() {
  exiting_ = true;
  RequestStop();
  Join();
}

void GenerationLoop::OnCleanup(GenerationLoop* loop) {
  loop->in_cleanup_ = true;
  loop->Shutdown();
}

GenerationLoop::~GenerationLoop() {
  Shutdown();
  if (!in_cleanup_) cleanup_hook_.Remove(Env());
}

// JS-thread side of a delivery.
void GenerationLoop::Deliver(Napi::Env env, Delivery* delivery) {
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
    napi_value args[8] = {
        event.token >= 0 ? Napi::Number::New(env, event.token) : env.Undefined(),
        event.has_logprob ? Napi::Number::New(env, event.logprob) : env.Undefined(),
        event.done != Done::None ? Napi::String::New(env, DoneName(event.done)) : env.Undefined(),
        event.error.empty() ? env.Undefined() : Napi::String::New(env, event.error),
        event.cached_tokens >= 0 ? Napi::Number::New(env, event.cached_tokens) : env.Undefined(),
        env.Undefined(),
        env.Undefined(),
        event.stream ? StreamOutcomeObject(env, *event.stream) : env.Undefined(),
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
      Invoke(env, keep.Value(), {args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]});
    } else {
      Invoke(env, callback, {args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]});
    }
  }
}

// Callbacks must not throw (the JavaScript adapter catches everything). One that does is
// reported as a process warning (code LLM_TWIN_NATIVE_CALLBACK) and the other slots' events of
// the step are still delivered.
void GenerationLoop::Invoke(Napi::Env env, Napi::Function callback, const std::initializer_list<napi_value>& args) {
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
Napi::Value GenerationLoop::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (disposed_) throw Napi::Error::New(env, "The generation loop is disposed");
  if (!loaded_) throw Napi::Error::New(env, "The generation loop is not ready");
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsObject() ||
      !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, "start(slot, promptTokens, params, onEvent) expected");
  }
  int32_t slot = CheckedInt32(env, info[0], "slot", 0, config_.sequences - 1);
  if (job_of_slot_[static_cast<size_t>(slot)] != 0) throw Napi::Error::New(env, "slot is busy");
  if (info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    throw Napi::TypeError::New(env, "promptTokens must be a Uint32Array");
  }
  Napi::Uint32Array tokens = info[1].As<Napi::Uint32Array>();
  if (tokens.ElementLength() == 0) throw Napi::RangeError::New(env, "the prompt is empty");
  if (tokens.ElementLength() >= static_cast<size_t>(n_ctx_sequence_)) {
    throw Napi::RangeError::New(env, "the prompt does not fit the context of a sequence");
  }
  SamplingParams params = ReadParams(info[2].As<Napi::Object>(), {config_.sequences, config_.lora_specs.size(), n_vocab_, eog_tokens_});

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
  // Streamed by the addon: the socket is taken (dup'd) now, while JavaScript's descriptor is valid.
  Napi::Value stream = info[2].As<Napi::Object>().Get("stream");
  if (stream.IsObject()) {
    StreamSpec spec = ReadStreamSpec(env, stream.As<Napi::Object>());
    if (!writer_) writer_ = std::make_unique<SocketWriter>();
    std::string failure = writer_->Open(job.id, spec.fd, spec.max_buffered);
    if (!failure.empty()) throw Napi::Error::New(env, "cannot stream to the socket: " + failure);
    job.stream = std::make_shared<NativeStream>(std::move(spec));
  }
  std::string error;
  try {
    error = CreateSamplers({api_, model_, n_vocab_, n_ctx_sequence_}, params, job);
  } catch (const std::exception& exception) {
    error = std::string("could not create the samplers: ") + exception.what();
  }
  if (!error.empty()) {
    FreeSamplers(api_, job);
    if (job.stream) {
      std::string unwritten;
      writer_->Detach(job.id, unwritten);
    }
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
void GenerationLoop::Cancel(const Napi::CallbackInfo& info) {
  int32_t slot = CheckedInt32(info.Env(), info[0], "slot", 0, config_.sequences - 1);
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
void GenerationLoop::Dispose(const Napi::CallbackInfo&) { Shutdown(); }

Napi::Value GenerationLoop::Stats(const Napi::CallbackInfo& info) {
  Napi::Object stats = Napi::Object::New(info.Env());
  stats.Set("decodes", Napi::Number::New(info.Env(), static_cast<double>(stats_decodes_)));
  stats.Set("tokens", Napi::Number::New(info.Env(), static_cast<double>(stats_tokens_)));
  stats.Set("grammarTokens", Napi::Number::New(info.Env(), static_cast<double>(stats_grammar_tokens_)));
  stats.Set("grammarRetries", Napi::Number::New(info.Env(), static_cast<double>(stats_grammar_retries_)));
  return stats;
}

void GenerationLoop::RequestStop() {
  stop_requested_ = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  room_.notify_one();
}

void GenerationLoop::Join() {
  std::lock_guard<std::mutex> lock(join_mutex_);
  if (thread_.joinable()) thread_.join();
}

// Cancels loading at llama.cpp's next progress callback (the model is not waited for), cancels
// every job, joins the thread and frees the model and context.
void GenerationLoop::Shutdown() {
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
  writer_.reset();
  tsfn_.Release();
}

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

}  // namespace llm_twin

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("GenerationLoop", llm_twin::GenerationLoop::Init(env));
  exports.Set("stopLiveLoops", Napi::Function::New(env, [](const Napi::CallbackInfo&) { llm_twin::StopLiveLoopsAtExit(); }));
  llm_twin::RegisterStreamExports(env, exports);
  return exports;
}

NODE_API_MODULE(llm_twin_native, InitModule)
