// The native streaming pieces as the addon exports them for tests (stream-text.h, socket-writer.h):
// `streamText` runs a job's pieces through StreamedText, `utf8WithReplacement` and `jsonString`
// expose the conversions, and `StreamSocketWriter` wraps a SocketWriter.
#include "stream-exports.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "native-stream.h"
#include "socket-writer.h"
#include "stream-text.h"

namespace llm_twin {

namespace {

std::string BytesOf(const Napi::Value& value) {
  if (value.IsBuffer()) {
    auto buffer = value.As<Napi::Buffer<char>>();
    return std::string(buffer.Data(), buffer.Length());
  }
  return value.ToString().Utf8Value();
}

Napi::Buffer<char> BufferOf(Napi::Env env, const std::string& bytes) {
  return Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size());
}

// streamText(pieces: Buffer[], ends: Uint8Array, stops: string[], format, close: boolean)
// ends[i]: 1 = the token is end-of-generation, 2 = it is the last token. Returns
// {out: Buffer, text: string, stopped: boolean, tokens: number (tokens used)}.
Napi::Value StreamTextForTests(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto pieces = info[0].As<Napi::Array>();
  auto ends = info[1].As<Napi::Uint8Array>();
  auto stop_values = info[2].As<Napi::Array>();
  std::vector<std::string> stops;
  for (uint32_t index = 0; index < stop_values.Length(); index += 1) stops.push_back(BytesOf(stop_values.Get(index)));
  StreamedText text(ReadChunkFormat(info[3].As<Napi::Object>()), std::move(stops));
  std::string out;
  uint32_t used = 0;
  for (uint32_t index = 0; index < pieces.Length(); index += 1) {
    const uint8_t end = index < ends.ElementLength() ? ends[index] : 0;
    used += 1;
    if (text.Token(BytesOf(pieces.Get(index)), end == 1, end == 2, out)) break;
  }
  if (info[4].ToBoolean().Value()) text.Close();
  auto result = Napi::Object::New(env);
  result.Set("out", BufferOf(env, out));
  result.Set("text", BufferOf(env, text.text()));
  result.Set("stopped", Napi::Boolean::New(env, text.stopped()));
  result.Set("tokens", Napi::Number::New(env, used));
  return result;
}

class StreamSocketWriter : public Napi::ObjectWrap<StreamSocketWriter> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "StreamSocketWriter",
                       {InstanceMethod("open", &StreamSocketWriter::Open),
                        InstanceMethod("write", &StreamSocketWriter::Write),
                        InstanceMethod("detach", &StreamSocketWriter::Detach),
                        InstanceMethod("close", &StreamSocketWriter::Close)});
  }

  explicit StreamSocketWriter(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<StreamSocketWriter>(info), writer_(std::make_unique<SocketWriter>()) {}

 private:
  SocketWriter* Writer(Napi::Env env) {
    if (!writer_) throw Napi::Error::New(env, "the writer is closed");
    return writer_.get();
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    const auto job = info[0].As<Napi::Number>().Int64Value();
    const int fd = info[1].As<Napi::Number>().Int32Value();
    const auto max = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());
    const std::string error = Writer(info.Env())->Open(job, fd, max);
    if (!error.empty()) throw Napi::Error::New(info.Env(), error);
    return info.Env().Undefined();
  }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    const auto job = info[0].As<Napi::Number>().Int64Value();
    const std::string bytes = BytesOf(info[1]);
    return Napi::String::New(info.Env(), SocketWriter::StateName(Writer(info.Env())->Write(job, bytes)));
  }

  // detach(job) → {state, unwritten: Buffer}
  Napi::Value Detach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto job = info[0].As<Napi::Number>().Int64Value();
    std::string unwritten;
    const SocketWriter::State state = Writer(env)->Detach(job, unwritten);
    auto result = Napi::Object::New(env);
    result.Set("state", Napi::String::New(env, SocketWriter::StateName(state)));
    result.Set("unwritten", BufferOf(env, unwritten));
    return result;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    writer_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<SocketWriter> writer_;
};

}  // namespace

void RegisterStreamExports(Napi::Env env, Napi::Object exports) {
  exports.Set("streamText", Napi::Function::New(env, StreamTextForTests));
  exports.Set("utf8WithReplacement", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                return BufferOf(info.Env(), Utf8WithReplacement(BytesOf(info[0])));
              }));
  exports.Set("jsonString", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                std::string out;
                AppendJsonString(out, BytesOf(info[0]));
                return BufferOf(info.Env(), out);
              }));
  exports.Set("StreamSocketWriter", StreamSocketWriter::Init(env));
}

}  // namespace llm_twin
