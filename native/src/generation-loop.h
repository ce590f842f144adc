// GenerationLoop: llama.cpp's decode + sampling for every sequence of one context on ONE native
// thread, the way llama-server's slot loop works. node-llama-cpp decodes on a libuv thread, returns
// to JavaScript, samples each sequence with a separate async call and lets JavaScript queue the next
// decode; those hops were the remaining gap to llama-server (docs/benchmarks.md). Here JavaScript
// only starts jobs, cancels them and receives the tokens: one ThreadSafeFunction call per decode
// step carries every slot's token.
//
// The class is defined across three files, by thread:
//   generation-loop.cc  the N-API surface, on the JavaScript thread: the constructor, start, cancel,
//                       stats, dispose, the deliveries (Deliver), process exit;
//   loop-thread.cc      the loop thread: loading the model, the loop (jobs in, events out, via
//                       Post with backpressure), placing each new job on its slot (Admit);
//   loop-step.cc        one decode step: filling each context's batch, decoding the contexts
//                       concurrently, sampling every slot's token, ending jobs.
// The rest is free functions over the loop's data (loop-types.h): loop-params (reading the
// JavaScript arguments), job-samplers (a job's samplers, choosing its token), prompt-cache (KV
// reuse and sharing), adapter-schedule (which context and adapter a step decodes), and
// decode-worker.h (the helper thread decoding a further context).
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "batched-lora.h"
#include "decode-worker.h"
#include "job-samplers.h"
#include "llama-api.h"
#include "loop-params.h"
#include "loop-types.h"
#include "socket-writer.h"

namespace llm_twin {

class GenerationLoop;

// Stops every live loop before the process exits (generation-loop.cc). Registered with atexit
// after the first decode (Step), once: g_atexit_once.
void StopLiveLoopsAtExit();
extern std::once_flag g_atexit_once;

void CallJs(Napi::Env env, Napi::Function, GenerationLoop* loop, Delivery* delivery);
using Tsfn = Napi::TypedThreadSafeFunction<GenerationLoop, Delivery, CallJs>;

class GenerationLoop : public Napi::ObjectWrap<GenerationLoop> {
 public:
  // ---- JavaScript thread (generation-loop.cc) ----
  static Napi::Function Init(Napi::Env env);
  explicit GenerationLoop(const Napi::CallbackInfo& info);
  ~GenerationLoop() override;
  void StopForExit();
  static void OnCleanup(GenerationLoop* loop);
  void Deliver(Napi::Env env, Delivery* delivery);

 private:
  static void Invoke(Napi::Env env, Napi::Function callback, const std::initializer_list<napi_value>& args);
  Napi::Value Start(const Napi::CallbackInfo& info);
  void Cancel(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo&);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  void RequestStop();
  void Join();
  void Shutdown();

  // ---- loop thread (loop-thread.cc) ----
  bool Load(std::string& error);
  static bool OnLoadProgress(float progress, void* data);
  void Post(Delivery* delivery);
  void RunGuarded();
  void Run();
  void Admit(Job& job, std::vector<Event>& events);

  // ---- one decode step, on the loop thread (loop-step.cc) ----
  void FillBatch(int32_t context);
  void Decode(ContextState& state);
  void Step(std::vector<std::unique_ptr<DecodeWorker>>& workers, std::vector<Event>& events);
  void FailAll(const std::string& message, std::vector<Event>& events);
  llama_token Sample(SlotState& slot, Event& event, std::string& error);
  void PromptLogprobs(SlotState& slot);
  void Finish(SlotState& slot, Done done, const std::string& error, std::vector<Event>& events);
  void PushDone(Job& job, Done done, const std::string& error, int32_t cached_tokens, std::vector<Event>& events);

  llama_context* ContextAt(int32_t context) const { return contexts_[static_cast<size_t>(context)].ctx; }

  // Batched LoRA's threadpool: how long idle workers poll for the next graph compute (ggml's 0 –
  // 100) before they sleep; the adapters' updates between computes are short. 50: ggml's and
  // llama-server's default.
  static constexpr uint32_t kBatchedPoll = 50;
  static constexpr const char* kDisposedWhileLoading = "the generation loop was disposed while the model loaded";
  // onReady's code when the model loaded but the LoRA configuration (--lora, --lora-mode,
  // --lora-contexts) cannot be served; the same string is LORA_REFUSED in native/addon.ts.
  static constexpr const char* kLoraRefused = "lora_refused";

  LlamaApi api_;
  LoopConfig config_;  // the options, checked (loop-params.h); set once, in the constructor

  // Written by the loop thread before "ready" is posted, read-only afterwards.
  llama_model* model_ = nullptr;
  std::vector<ContextState> contexts_;  // config_.contexts_count of them, sharing model_
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
  // The writer thread of streamed jobs (native-stream.h), started with the first one. Set on the
  // JavaScript thread before that job is queued; used by the loop thread for streamed jobs only.
  std::unique_ptr<SocketWriter> writer_;
  Napi::Env::CleanupHook<void (*)(GenerationLoop*), GenerationLoop> cleanup_hook_;
  bool in_cleanup_ = false;

  friend void CallJs(Napi::Env, Napi::Function, GenerationLoop*, Delivery*);
};

}  // namespace llm_twin
