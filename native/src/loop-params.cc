// Reading and checking what JavaScript passes to the generation loop: the options of
// new GenerationLoop(…) (ReadLoopConfig) and the sampling parameters of start() (ReadParams).
// A bad value throws a TypeError or RangeError naming it, before anything is started.
#include "loop-params.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace llm_twin {

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

int32_t CheckedInt32(Napi::Env env, Napi::Value value, const char* name, int32_t min, int32_t max) {
  return static_cast<int32_t>(CheckedNumber(env, value, name, min, max, true));
}

LoopConfig ReadLoopConfig(Napi::Env env, Napi::Object options) {
  LoopConfig config;
  auto text = [&](const char* key) {
    Napi::Value value = options.Get(key);
    if (!value.IsString()) throw Napi::TypeError::New(env, std::string(key) + " must be a string");
    return value.As<Napi::String>().Utf8Value();
  };
  config.library = text("libraryPath");
  config.model_path = text("modelPath");
  config.sequences = CheckedInt32(env, options.Get("sequences"), "sequences", 1, 1024);
  config.context_per_sequence = CheckedInt32(env, options.Get("contextSize"), "contextSize", 1, 1 << 24);
  config.batch_size = CheckedInt32(env, options.Get("batchSize"), "batchSize", 1, 1 << 20);
  config.threads = CheckedInt32(env, options.Get("threads"), "threads", 1, 1024);
  // llama.cpp uses n_threads for one-token decodes and n_threads_batch for prompts and decodes of
  // several sequences (llama-context.cpp, graph_compute); default: the same.
  Napi::Value threads_batch = options.Get("threadsBatch");
  config.threads_batch = threads_batch.IsUndefined() ? config.threads : CheckedInt32(env, threads_batch, "threadsBatch", 1, 1024);
  Napi::Value pending = options.Get("maxPendingDeliveries");
  config.max_pending = pending.IsUndefined() ? kDefaultMaxPending : CheckedInt32(env, pending, "maxPendingDeliveries", 1, 1 << 20);
  Napi::Value contexts = options.Get("contexts");
  config.contexts_count = contexts.IsUndefined() ? 1 : CheckedInt32(env, contexts, "contexts", 1, 64);
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
      config.lora_specs.push_back({path.As<Napi::String>().Utf8Value(), scale});
    }
  }
  Napi::Value lora_mode = options.Get("loraMode");
  if (!lora_mode.IsUndefined()) {
    std::string mode = lora_mode.IsString() ? lora_mode.As<Napi::String>().Utf8Value() : "";
    if (mode != "batched" && mode != "contexts") throw Napi::TypeError::New(env, "loraMode must be \"batched\" or \"contexts\"");
    // Batched: one context serves the base model and every adapter, per token (batched-lora.h).
    config.batched = mode == "batched" && !config.lora_specs.empty();
    if (config.batched && config.contexts_count != 1) throw Napi::RangeError::New(env, "loraMode \"batched\" uses one context");
  }
  if (static_cast<int64_t>(config.context_per_sequence) * config.sequences > std::numeric_limits<uint32_t>::max()) {
    throw Napi::RangeError::New(env, "contextSize × sequences is too large");
  }
  std::string flash = text("flashAttention");
  config.flash = flash == "on" ? LLAMA_FLASH_ATTN_TYPE_ENABLED
           : flash == "off" ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                            : LLAMA_FLASH_ATTN_TYPE_AUTO;
  // llama.cpp reserves at least one output per sequence in a batch (GGML_ASSERT otherwise), and
  // a batch must hold one token of every generating sequence; node-llama-cpp raises it alike.
  config.batch_size = std::max(config.batch_size, config.sequences);
  return config;
}

SamplingParams ReadParams(Napi::Object object, const ParamLimits& limits) {
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
  params.share_with = static_cast<int32_t>(number("shareWith", -1, -1, limits.sequences - 1, true));
  params.adapter = static_cast<int32_t>(number("adapter", -1, -1, static_cast<double>(limits.adapters) - 1, true));
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
      if (!(token >= 0 && token < limits.n_vocab) || std::floor(token) != token) {
        throw Napi::RangeError::New(env, "logit bias token out of range");
      }
      if (std::isnan(value) || value == std::numeric_limits<double>::infinity()) {
        throw Napi::RangeError::New(env, "a logit bias must be finite or -Infinity");
      }
      params.bias.push_back({static_cast<llama_token>(token), static_cast<float>(value)});
    }
  }
  if (params.ignore_eos) {
    for (llama_token token : limits.eog_tokens) params.bias.push_back({token, -std::numeric_limits<float>::infinity()});
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

}  // namespace llm_twin
