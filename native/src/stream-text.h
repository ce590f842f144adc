// Streamed text without JavaScript: generated token pieces turned into the SSE chunks the OpenAI
// routes write, byte for byte as the JavaScript path writes them (src/llm/llama-cpp/text-output.ts,
// src/llm-server/sse-chunks.ts, src/llm-server/client-connection.ts):
// - TokenText holds back tokens whose bytes end in an incomplete UTF-8 character (at most 4 tokens,
//   as createIncrementalDetokenizer) and replaces invalid bytes with U+FFFD as V8 decodes UTF-8;
// - StopText is createStopMatcher over UTF-8 (the text is always whole characters, so byte and
//   UTF-16 matching agree): it holds back a possible stop prefix and cuts at the earliest stop;
// - AppendJsonString is JSON.stringify of a string; AppendSseEvent frames an event as startSse does.
// Nothing here calls llama.cpp or N-API: the loop gives it pieces (llama_token_to_piece, no lstrip,
// special = false) and writes what it returns.
#pragma once

#include <string>
#include <vector>

namespace llm_twin {

// `bytes` with every maximal invalid subsequence replaced by U+FFFD (WHATWG's UTF-8 decode, V8's).
std::string Utf8WithReplacement(const std::string& bytes);

// Appends JSON.stringify(text) for valid UTF-8 `text` (quotes included).
void AppendJsonString(std::string& out, const std::string& text);

// Appends `<prefix><json>\n\n`, framed as one HTTP chunk (`<hex size>\r\n…\r\n`) when `chunked`.
void AppendSseEvent(std::string& out, const std::string& prefix, const std::string& json, bool chunked);

// createIncrementalDetokenizer over token pieces.
class TokenText {
 public:
  // The text that became complete with this piece ("" while a character is incomplete).
  std::string Push(const std::string& piece);
  // Whatever is still held back.
  std::string Flush();

 private:
  std::string pending_;
  int pending_tokens_ = 0;
};

// createStopMatcher over UTF-8 text.
class StopText {
 public:
  explicit StopText(std::vector<std::string> stops);
  // Adds text; returns the text safe to emit and sets `stopped` when a stop sequence matched.
  std::string Push(const std::string& text, bool& stopped);
  // The text held back as a possible stop prefix.
  std::string Flush();

 private:
  std::vector<std::string> stops_;
  std::string buffer_;
};

// What the chunk of one token looks like: `head` + JSON string of the text + `tail` is the chunk's
// JSON (jsonWithText's two parts), sent as `data_prefix` + JSON, chunked or not.
struct ChunkFormat {
  std::string head;
  std::string tail;
  std::string data_prefix = "data: ";
  bool chunked = true;
};

// One streamed job's text: the per-token steps of build-engine.ts's run() and the OpenAI route's
// chunk for every token with text.
class StreamedText {
 public:
  StreamedText(ChunkFormat format, std::vector<std::string> stops);

  // One generated token. `end_of_generation`: an end-of-generation or stop token (its own text is
  // not output); `last`: the job's last token (max tokens). Appends the token's framed chunk to
  // `out` when it has text. Returns true when the text is complete (stop sequence, last token).
  bool Token(const std::string& piece, bool end_of_generation, bool last, std::string& out);
  // The generation ended without a last token (context full, cancelled): what was held back joins
  // the text, without a chunk (as the JavaScript path does).
  void Close();

  bool stopped() const { return stopped_; }
  bool complete() const { return complete_; }
  const std::string& text() const { return text_; }

 private:
  ChunkFormat format_;
  TokenText tokens_;
  StopText stop_;
  std::string text_;
  std::string json_;  // reused per chunk
  bool stopped_ = false;
  bool complete_ = false;
};

}  // namespace llm_twin
