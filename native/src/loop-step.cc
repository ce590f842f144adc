// One decode step of the loop thread: fills each context's batch (generating slots' next token
// first, prompts in what is left), decodes the contexts concurrently (the loop thread and one
// DecodeWorker per further context), then samples every slot that produced logits and ends the
// jobs that are done (eos, length, error).
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "adapter-schedule.h"
#include "generation-loop.h"
#include "native-stream.h"
#include "prompt-cache.h"

namespace llm_twin {

// Fills a context's batch for this step (its slots of the step's adapter, in ascending slot =
// sequence id order: llama.cpp splits a batch wherever sequence ids are not consecutive, see
// batch-gate.ts). Generating slots get their one token first; prompts share what is left.
void GenerationLoop::FillBatch(int32_t context) {
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
  if (!config_.batched) {
    state.step_adapter = ChooseAdapter(state, slots_, context);
    ApplyAdapter(api_, state, state.step_adapter, loras_, config_.lora_specs);
  }
  // A job waiting to copy its sibling's prompt KV (n > 1) decodes nothing until then.
  auto decodes_now = [&](const SlotState& slot) {
    return slot.active && slot.context == context && (config_.batched || slot.job.adapter == state.step_adapter) &&
           slot.waiting_for < 0;
  };
  int32_t generating = 0;
  for (const SlotState& slot : slots_) {
    if (decodes_now(slot) && slot.prompt_pos >= slot.job.prompt.size()) generating += 1;
  }
  int32_t prefill_budget = std::max<int32_t>(0, config_.batch_size - generating);
  int32_t generating_budget = std::min(generating, config_.batch_size);
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
void GenerationLoop::Decode(ContextState& state) {
  state.failure.clear();
  state.lora_failure.clear();
  try {
    if (config_.batched) {
      // The adapter of each batch token: its sequence's job's.
      token_adapters_.resize(static_cast<size_t>(state.batch.n_tokens));
      for (int32_t i = 0; i < state.batch.n_tokens; i += 1) {
        const SlotState& slot = slots_[static_cast<size_t>(state.batch.seq_id[i][0])];
        token_adapters_[static_cast<size_t>(i)] = slot.job.adapter;
      }
      batched_lora_.Prepare(state.batch, token_adapters_);
    }
    state.status = api_.llama_decode(state.ctx, state.batch);
    if (config_.batched) {
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
void GenerationLoop::Step(std::vector<std::unique_ptr<DecodeWorker>>& workers, std::vector<Event>& events) {
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
  int32_t wave = std::min(count, std::max(1, std::min(config_.threads, config_.threads_batch)));
  for (int32_t i = 0; i < count; i += 1) {
    ContextState& state = contexts_[decoding[static_cast<size_t>(i)]];
    int32_t lane = i % wave;
    int32_t threads = std::max(1, config_.threads / wave + (lane < config_.threads % wave ? 1 : 0));
    int32_t threads_batch = std::max(1, config_.threads_batch / wave + (lane < config_.threads_batch % wave ? 1 : 0));
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
    if (slot.job.stream) {
      // Streamed by the addon: the chunk goes to the writer; no event until the job ends.
      NativeStream& stream = *slot.job.stream;
      const bool ends = StreamToken(stream, *writer_, slot.job.id, api_, vocab, token, done == Done::Eos,
                                    slot.generated >= slot.job.max_tokens);
      if (ends && done == Done::None) done = Done::Cancelled;  // a stop, or the client is gone
      if (done != Done::None) Finish(slot, done, "", events);
      continue;
    }
    events.push_back(std::move(event));
    if (done != Done::None) Finish(slot, done, "", events);
  }
}

void GenerationLoop::FailAll(const std::string& message, std::vector<Event>& events) {
  for (SlotState& slot : slots_) {
    if (slot.active) Finish(slot, Done::Error, message, events);
  }
}

llama_token GenerationLoop::Sample(SlotState& slot, Event& event, std::string& error) {
  const float* logits = api_.llama_get_logits_ith(contexts_[static_cast<size_t>(slot.context)].ctx, slot.logits_index);
  return SampleToken(api_, sampling_, n_vocab_, logits, slot.job, event, error);
}

// The log-probability of each prompt token given the tokens before it, from this step's logits
// of the prompt tokens (the last one's predict the first generated token instead).
void GenerationLoop::PromptLogprobs(SlotState& slot) {
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
void GenerationLoop::Finish(SlotState& slot, Done done, const std::string& error, std::vector<Event>& events) {
  if (done == Done::Error) {
    api_.llama_memory_seq_rm(api_.llama_get_memory(contexts_[static_cast<size_t>(slot.context)].ctx), slot.job.slot, -1, -1);
    slot.cached.clear();
  }
  FreeSamplers(api_, slot.job);
  PushDone(slot.job, done, error, slot.job.cached_tokens, events);
  slot.active = false;
  slot.waiting_for = -1;
  active_ -= 1;
  AbandonWaiting(slots_, slot.job.slot);
}

// The job's done event (cached_tokens −1: none reported); a streamed job's stream ends with it.
void GenerationLoop::PushDone(Job& job, Done done, const std::string& error, int32_t cached_tokens,
                              std::vector<Event>& events) {
  Event event;
  event.job = job.id;
  event.done = done;
  event.error = error;
  event.cached_tokens = cached_tokens;
  if (job.stream) {
    event.stream = EndStream(*job.stream, *writer_, job.id);
    job.stream.reset();
  }
  events.push_back(std::move(event));
}

}  // namespace llm_twin
