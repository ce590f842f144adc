{
  "targets": [
    {
      "target_name": "llm_twin_native",
      "sources": ["src/generation-loop.cc", "src/loop-thread.cc", "src/loop-step.cc", "src/loop-params.cc", "src/job-samplers.cc", "src/prompt-cache.cc", "src/adapter-schedule.cc", "src/grammar-sampling.cc", "src/greedy-sampling.cc", "src/watermark-sampling.cc", "src/batched-lora.cc", "src/llama-api.cc", "src/stream-text.cc", "src/socket-writer.cc", "src/native-stream.cc", "src/stream-exports.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(module_root_dir)/../build/llama-headers/include",
        "<(module_root_dir)/../build/llama-headers/ggml/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wextra"],
      "libraries": ["-ldl", "-pthread"]
    }
  ]
}
