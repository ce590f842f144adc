// The writer thread of the native streaming path (llama-server's HTTP thread): the loop thread
// queues each job's framed chunks here and never touches a socket; this thread writes them to the
// client's socket.
//
// - The socket is the response's own (net.Socket's file descriptor, non-blocking); the writer
//   works on a dup() of it, so a descriptor JavaScript closes (the client left) can never be reused
//   under it: writes then fail with EPIPE/ECONNRESET and the job reads as "client gone".
// - A full socket (EAGAIN) keeps its bytes and is polled for POLLOUT; other jobs keep being
//   written. Bytes waiting past the job's limit end it with kBufferFull (the caller cancels it).
// - End(job) writes what the socket takes now, then hands the rest back through the callback and
//   lets go of the socket: nothing of the job is written here after that, so the caller can write
//   the unwritten bytes and the end of the response itself, in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace llm_twin {

class SocketWriter {
 public:
  enum class State { kOpen, kClientGone, kBufferFull, kError };
  // Runs on the writer thread once the job is let go: its state and the bytes never written.
  using EndCallback = std::function<void(State state, std::string unwritten)>;

  SocketWriter();
  ~SocketWriter();
  SocketWriter(const SocketWriter&) = delete;
  SocketWriter& operator=(const SocketWriter&) = delete;

  // Writes `job`'s bytes to (a dup of) `fd`, holding at most `max_buffered` unwritten bytes.
  // Returns an empty string, or what went wrong (the job id is in use, dup failed).
  std::string Open(int64_t job, int fd, size_t max_buffered);
  // Queues bytes for the job; never waits for the socket. Not kOpen: the job must end.
  State Write(int64_t job, std::string_view bytes);
  // Lets go of the job (see above); `on_end` runs on the writer thread.
  void End(int64_t job, EndCallback on_end);

  static const char* StateName(State state);

 private:
  struct Job {
    int fd = -1;
    size_t max_buffered = 0;
    std::string buffer;
    size_t offset = 0;  // bytes of `buffer` already written
    State state = State::kOpen;
    bool blocked = false;  // the socket said EAGAIN: wait for POLLOUT
    bool ending = false;
    EndCallback on_end;
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
