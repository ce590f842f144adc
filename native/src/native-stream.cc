#include "native-stream.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "loop-params.h"

namespace llm_twin {

StreamSpec ReadStreamSpec(Napi::Env env, Napi::Object object) {
  StreamSpec spec;
  spec.fd = CheckedInt32(env, object.Get("fd"), "stream.fd", 0);
  spec.max_buffered = static_cast<size_t>(CheckedNumber(env, object.Get("maxBuffered"), "stream.maxBuffered", 1, 1e12, true));
  spec.format = ReadChunkFormat(object);
  Napi::Value stops = object.Get("stops");
  if (stops.IsArray()) {
    auto array = stops.As<Napi::Array>();
    for (uint32_t index = 0; index < array.Length(); index += 1) {
      spec.stops.push_back(array.Get(index).ToString().Utf8Value());
    }
  }
  Napi::Value stop_tokens = object.Get("stopTokens");
  if (stop_tokens.IsTypedArray()) {
    auto array = stop_tokens.As<Napi::Uint32Array>();
    for (size_t index = 0; index < array.ElementLength(); index += 1) {
      spec.stop_tokens.push_back(static_cast<llama_token>(array[index]));
    }
  }
  return spec;
}

ChunkFormat ReadChunkFormat(Napi::Object object) {
  ChunkFormat format;
  format.head = object.Get("head").ToString().Utf8Value();
  format.tail = object.Get("tail").ToString().Utf8Value();
  format.data_prefix = object.Get("dataPrefix").ToString().Utf8Value();
  format.chunked = object.Get("chunked").ToBoolean();
  return format;
}

NativeStream::NativeStream(StreamSpec spec)
    : text(std::move(spec.format), std::move(spec.stops)), stop_tokens(std::move(spec.stop_tokens)) {
  std::sort(stop_tokens.begin(), stop_tokens.end());
}

namespace {

double SteadyNowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool StreamToken(NativeStream& stream, SocketWriter& writer, uint32_t job, const LlamaApi& api,
                 const llama_vocab* vocab, llama_token token, bool end_of_generation, bool last) {
  stream.tokens.push_back(token);
  stream.times.push_back(SteadyNowMs());
  const bool stop_token = std::binary_search(stream.stop_tokens.begin(), stream.stop_tokens.end(), token);
  end_of_generation = end_of_generation || stop_token;
  if (end_of_generation) stream.piece.clear();
  else TokenPiece(api, vocab, token, /*special*/ false, stream.piece);  // control tokens give ""
  stream.out.clear();
  const bool complete = stream.text.Token(stream.piece, end_of_generation, last, stream.out);
  if (complete) {
    stream.finish = stream.text.stopped() || stop_token ? "stop" : end_of_generation ? "eos" : "length";
  }
  if (!stream.out.empty() && writer.Write(job, stream.out) != SocketWriter::State::kOpen) return true;
  return complete;
}

std::shared_ptr<StreamOutcome> EndStream(NativeStream& stream, SocketWriter& writer, uint32_t job) {
  auto outcome = std::make_shared<StreamOutcome>();
  if (!stream.text.complete()) {
    // Ended without a last token (context full): what was held back joins the text.
    stream.text.Close();
    if (stream.text.stopped()) stream.finish = "stop";
  }
  // A job's writer state, once not open, stays what Write returned.
  outcome->writer_state = writer.Detach(job, outcome->unwritten);
  outcome->tokens = std::move(stream.tokens);
  outcome->times = std::move(stream.times);
  outcome->text = stream.text.text();
  outcome->finish = stream.finish;
  return outcome;
}

Napi::Object StreamOutcomeObject(Napi::Env env, const StreamOutcome& outcome) {
  const double now = SteadyNowMs();
  Napi::Object object = Napi::Object::New(env);
  auto tokens = Napi::Uint32Array::New(env, outcome.tokens.size());
  auto ages = Napi::Float64Array::New(env, outcome.times.size());
  for (size_t index = 0; index < outcome.tokens.size(); index += 1) tokens[index] = static_cast<uint32_t>(outcome.tokens[index]);
  for (size_t index = 0; index < outcome.times.size(); index += 1) ages[index] = now - outcome.times[index];
  object.Set("tokens", tokens);
  object.Set("ages", ages);
  object.Set("text", Napi::String::New(env, outcome.text));
  object.Set("finish", Napi::String::New(env, outcome.finish));
  object.Set("unwritten", Napi::Buffer<char>::Copy(env, outcome.unwritten.data(), outcome.unwritten.size()));
  object.Set("writer", Napi::String::New(env, SocketWriter::StateName(outcome.writer_state)));
  return object;
}

}  // namespace llm_twin
