// A job streamed by the addon (the native streaming fast path, docs/llm-service.md): the loop
// thread turns each generated token into its SSE chunk (stream-text.h) and queues it for the
// writer thread (socket-writer.h); JavaScript hears from the job once, when it ends, with its
// tokens, text, finish reason and per-token times (StreamOutcome), and writes the end of the
// response (finish chunk, usage, [DONE]) after the bytes the writer had not written yet.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llama-api.h"
#include "socket-writer.h"
#include "stream-text.h"

namespace llm_twin {

// start()'s `stream` parameter: where and how the job's chunks are written.
struct StreamSpec {
  int fd = -1;
  size_t max_buffered = 0;
  ChunkFormat format;
  std::vector<std::string> stops;         // stop sequences (the request's and the template's)
  std::vector<llama_token> stop_tokens;   // tokens that end generation besides the model's EOG
};

// Reads {fd, maxBuffered, head, tail, dataPrefix, chunked, stops: string[], stopTokens: Uint32Array}.
StreamSpec ReadStreamSpec(Napi::Env env, Napi::Object object);

// Reads the chunk format's {head, tail, dataPrefix, chunked}.
ChunkFormat ReadChunkFormat(Napi::Object object);

struct NativeStream {
  NativeStream(StreamSpec spec);
  StreamedText text;
  std::vector<llama_token> stop_tokens;  // sorted
  std::vector<llama_token> tokens;       // generated, in order
  std::vector<double> times;             // steady-clock ms at which each token was sampled
  std::string piece;                     // scratch: the token's bytes
  std::string out;                       // scratch: the token's framed chunk
  std::string finish = "eos";            // "stop" | "eos" | "length", as build-engine.ts names them
};

// What JavaScript receives with the job's done event.
struct StreamOutcome {
  std::vector<llama_token> tokens;
  std::vector<double> times;
  std::string text;
  std::string finish;
  std::string unwritten;
  SocketWriter::State writer_state = SocketWriter::State::kOpen;
};

// One sampled token of a streamed job, on the loop thread. `last`: the job's max tokens reached.
// Returns true when the job must end now: its text is complete (end of generation, a stop token
// or sequence, the last token) or the writer refused the chunk (the writer's state, which EndStream
// reports, says why).
bool StreamToken(NativeStream& stream, SocketWriter& writer, uint32_t job, const LlamaApi& api,
                 const llama_vocab* vocab, llama_token token, bool end_of_generation, bool last);

// The job ended (any way): the text is closed and the writer lets go of the socket.
std::shared_ptr<StreamOutcome> EndStream(NativeStream& stream, SocketWriter& writer, uint32_t job);

// The outcome as JavaScript receives it: {tokens: Uint32Array, ages: Float64Array (ms before
// now), text, finish, unwritten: Buffer, writer: "open"|"client_gone"|"buffer_full"|"error"}.
Napi::Object StreamOutcomeObject(Napi::Env env, const StreamOutcome& outcome);

}  // namespace llm_twin
