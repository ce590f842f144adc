#include "stream-text.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace llm_twin {

namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";
// A UTF-8 character is at most 4 bytes, so at most 4 byte tokens are ever held back.
constexpr int kMaxHeldTokens = 4;

bool EndsWithReplacement(const std::string& text) {
  return text.size() >= 3 && text.compare(text.size() - 3, 3, kReplacement) == 0;
}

bool EndsWith(const std::string& text, const char* data, size_t length) {
  return text.size() >= length && text.compare(text.size() - length, length, data, length) == 0;
}

}  // namespace

std::string Utf8WithReplacement(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead));
      i += 1;
      continue;
    }
    int need = 0;
    unsigned char lower = 0x80;
    unsigned char upper = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      need = 2;
      if (lead == 0xE0) lower = 0xA0;
      if (lead == 0xED) upper = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      need = 3;
      if (lead == 0xF0) lower = 0x90;
      if (lead == 0xF4) upper = 0x8F;
    } else {
      out += kReplacement;
      i += 1;
      continue;
    }
    size_t j = i + 1;
    bool valid = true;
    for (int k = 0; k < need; k += 1) {
      if (j >= n) {
        valid = false;
        break;
      }
      const auto next = static_cast<unsigned char>(bytes[j]);
      if (next < lower || next > upper) {
        valid = false;
        break;
      }
      lower = 0x80;
      upper = 0xBF;
      j += 1;
    }
    if (valid) out.append(bytes, i, j - i);
    else out += kReplacement;
    // The byte that broke the sequence (if any) starts the next one.
    i = j;
  }
  return out;
}

void AppendJsonString(std::string& out, const std::string& text) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the bytes copied as they are
  for (size_t i = 0; i < text.size(); i += 1) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(text, run, std::string::npos);
  out.push_back('"');
}

void AppendSseEvent(std::string& out, const std::string& prefix, const std::string& json, bool chunked) {
  const size_t size = prefix.size() + json.size() + 2;
  if (chunked) {
    char head[24];
    const int length = std::snprintf(head, sizeof head, "%zx\r\n", size);
    out.append(head, static_cast<size_t>(length));
  }
  out += prefix;
  out += json;
  out += "\n\n";
  if (chunked) out += "\r\n";
}

std::string TokenText::Push(const std::string& piece) {
  pending_ += piece;
  pending_tokens_ += 1;
  std::string text = Utf8WithReplacement(pending_);
  if (pending_tokens_ < kMaxHeldTokens && EndsWithReplacement(text)) return "";
  pending_.clear();
  pending_tokens_ = 0;
  return text;
}

std::string TokenText::Flush() {
  if (pending_tokens_ == 0) return "";
  std::string text = Utf8WithReplacement(pending_);
  pending_.clear();
  pending_tokens_ = 0;
  return text;
}

StopText::StopText(std::vector<std::string> stops) {
  for (auto& stop : stops) {
    if (!stop.empty()) stops_.push_back(std::move(stop));
  }
}

std::string StopText::Push(const std::string& text, bool& stopped) {
  stopped = false;
  if (stops_.empty()) return text;
  buffer_ += text;
  size_t stop_at = std::string::npos;
  for (const auto& stop : stops_) stop_at = std::min(stop_at, buffer_.find(stop));
  if (stop_at != std::string::npos) {
    std::string emitted = buffer_.substr(0, stop_at);
    buffer_.clear();
    stopped = true;
    return emitted;
  }
  // The longest suffix of the buffer that is a proper prefix of a stop sequence stays held back.
  size_t hold = 0;
  for (const auto& stop : stops_) {
    for (size_t length = std::min(stop.size() - 1, buffer_.size()); length > hold; length -= 1) {
      if (EndsWith(buffer_, stop.data(), length)) {
        hold = length;
        break;
      }
    }
  }
  std::string emitted = buffer_.substr(0, buffer_.size() - hold);
  buffer_.erase(0, buffer_.size() - hold);
  return emitted;
}

std::string StopText::Flush() {
  std::string rest;
  rest.swap(buffer_);
  return rest;
}

StreamedText::StreamedText(ChunkFormat format, std::vector<std::string> stops)
    : format_(std::move(format)), stop_(std::move(stops)) {}

bool StreamedText::Token(const std::string& piece, bool end_of_generation, bool last, std::string& out) {
  if (complete_) return true;
  last = last || end_of_generation;
  // The last token's text carries everything still held back, so the chunks add up to the text.
  std::string raw = end_of_generation ? tokens_.Flush() : tokens_.Push(piece);
  if (last && !end_of_generation) raw += tokens_.Flush();
  bool stopped = false;
  std::string text = stop_.Push(raw, stopped);
  if (last && !stopped) text += stop_.Flush();
  text_ += text;
  if (!text.empty()) {
    json_.clear();
    json_ += format_.head;
    AppendJsonString(json_, text);
    json_ += format_.tail;
    AppendSseEvent(out, format_.data_prefix, json_, format_.chunked);
  }
  stopped_ = stopped;
  complete_ = stopped || last;
  return complete_;
}

void StreamedText::Close() {
  if (complete_) return;
  complete_ = true;
  bool stopped = false;
  text_ += stop_.Push(tokens_.Flush(), stopped);
  if (stopped) stopped_ = true;
  else text_ += stop_.Flush();
}

}  // namespace llm_twin
