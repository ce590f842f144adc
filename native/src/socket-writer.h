// The writer thread of the native streaming path (llama-server's HTTP thread): the loop thread
// queues each job's framed chunks here and never touches a socket; this thread writes them to the
// client's socket.
//
// - The socket is the response's own (net.Socket's file descriptor, non-blocking); the writer
//   works on a dup() of it, so a descriptor JavaScript closes (the client left) can never be reused
//   under it: writes then fail with EPIPE/ECONNRESET and the job reads as "client gone".
// - A full socket (EAGAIN) keeps its bytes and is polled for POLLOUT; other jobs keep being
//   written. Bytes waiting past the job's limit end it with kBufferFull (the caller cancels it).
// - Detach(job) lets go of the job at once and hands back the bytes not written yet: nothing of
//   the job is written here after that, so the caller writes them and the end of the response
//   itself, in order. It waits only for a send() in progress (non-blocking, microseconds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace llm_twin {

class SocketWriter {
 public:
  enum class State { kOpen, kClientGone, kBufferFull, kError };

  SocketWriter();
  ~SocketWriter();
  SocketWriter(const SocketWriter&) = delete;
  SocketWriter& operator=(const SocketWriter&) = delete;

  // Writes `job`'s bytes to (a dup of) `fd`, holding at most `max_buffered` unwritten bytes.
  // Returns an empty string, or what went wrong (the job id is in use, dup failed).
  std::string Open(int64_t job, int fd, size_t max_buffered);
  // Queues bytes for the job; never waits for the socket. Not kOpen: the job must end.
  State Write(int64_t job, std::string_view bytes);
  // Lets go of the job (see above): its state, and the bytes never written in `unwritten`.
  State Detach(int64_t job, std::string& unwritten);

  static const char* StateName(State state);

 private:
  struct Job {
    int fd = -1;
    size_t max_buffered = 0;
    std::string buffer;
    size_t offset = 0;  // bytes of `buffer` already written
    State state = State::kOpen;
    bool blocked = false;  // the socket said EAGAIN: wait for POLLOUT
  };

  void Run();
  void WakeLocked();
  static void Drain(Job& job);

  std::mutex mutex_;
  std::unordered_map<int64_t, Job> jobs_;
  int wake_fd_ = -1;
  bool wake_pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace llm_twin
