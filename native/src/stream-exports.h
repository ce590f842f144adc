// Test exports of the native streaming pieces (stream-exports.cc).
#pragma once

#include <napi.h>

namespace llm_twin {

void RegisterStreamExports(Napi::Env env, Napi::Object exports);

}  // namespace llm_twin
