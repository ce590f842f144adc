// DecodeWorker: the generation loop's persistent helper thread. With several llama.cpp contexts
// (LoRA adapter sets decoded at once), the loop thread decodes the first context of a step and one
// DecodeWorker per further context decodes the others concurrently (GenerationLoop::Step).
#pragma once

#include <pthread.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace llm_twin {

// A thread that runs one task at a time for the loop thread: the decode of a second context while
// the loop thread decodes the first. Persistent, so llama.cpp's CPU workers are not recreated per
// step.
class DecodeWorker {
 public:
  DecodeWorker() : thread_([this] { Run(); }) {}
  ~DecodeWorker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  DecodeWorker(const DecodeWorker&) = delete;
  DecodeWorker& operator=(const DecodeWorker&) = delete;

  void Post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = std::move(task);
      busy_ = true;
    }
    wake_.notify_all();
  }

  void Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return !busy_; });
  }

 private:
  void Run() {
    pthread_setname_np(pthread_self(), "llm-twin-decode");
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || task_ != nullptr; });
      if (stop_) return;
      std::function<void()> task = std::move(task_);
      task_ = nullptr;
      lock.unlock();
      task();  // never throws: the tasks catch everything
      lock.lock();
      busy_ = false;
      idle_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::function<void()> task_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace llm_twin
