#include "socket-writer.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace llm_twin {

SocketWriter::SocketWriter() {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { Run(); });
}

SocketWriter::~SocketWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    WakeLocked();
  }
  thread_.join();
  for (auto& entry : jobs_) close(entry.second.fd);
  jobs_.clear();
  if (wake_fd_ >= 0) close(wake_fd_);
}

const char* SocketWriter::StateName(State state) {
  switch (state) {
    case State::kOpen: return "open";
    case State::kClientGone: return "client_gone";
    case State::kBufferFull: return "buffer_full";
    case State::kError: return "error";
  }
  return "error";
}

std::string SocketWriter::Open(int64_t job, int fd, size_t max_buffered) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (wake_fd_ < 0) return "the writer thread has no wake-up descriptor";
  if (jobs_.count(job) != 0) return "the job is already streaming";
  const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return std::string("dup failed: ") + std::strerror(errno);
  Job& entry = jobs_[job];
  entry.fd = copy;
  entry.max_buffered = max_buffered;
  return "";
}

SocketWriter::State SocketWriter::Write(int64_t job, std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = jobs_.find(job);
  if (found == jobs_.end()) return State::kError;
  Job& entry = found->second;
  if (entry.state != State::kOpen) return entry.state;
  if (entry.buffer.size() - entry.offset + bytes.size() > entry.max_buffered) {
    entry.state = State::kBufferFull;
    return entry.state;
  }
  entry.buffer.append(bytes.data(), bytes.size());
  if (!entry.blocked) WakeLocked();
  return State::kOpen;
}

SocketWriter::State SocketWriter::Detach(int64_t job, std::string& unwritten) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = jobs_.find(job);
  if (found == jobs_.end()) return State::kError;
  Job& entry = found->second;
  unwritten.assign(entry.buffer, entry.offset, std::string::npos);
  const State state = entry.state;
  const bool polled = entry.blocked;
  close(entry.fd);
  jobs_.erase(found);
  // A poll() in progress holds the socket open until it returns: it starts again without it.
  if (polled) WakeLocked();
  return state;
}

void SocketWriter::WakeLocked() {
  if (wake_pending_) return;
  wake_pending_ = true;
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // The counter is saturated: a wake-up is pending anyway.
  }
}

// Writes what the socket takes now (called with the lock held: the socket never blocks).
void SocketWriter::Drain(Job& job) {
  while (job.state == State::kOpen && job.offset < job.buffer.size()) {
    const ssize_t written =
        send(job.fd, job.buffer.data() + job.offset, job.buffer.size() - job.offset, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (written > 0) {
      job.offset += static_cast<size_t>(written);
      continue;
    }
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      job.blocked = true;
      break;
    }
    job.state = (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) ? State::kClientGone : State::kError;
  }
  if (job.offset == job.buffer.size()) {
    job.buffer.clear();
    job.offset = 0;
  } else if (job.offset > (1u << 16) && job.offset * 2 > job.buffer.size()) {
    job.buffer.erase(0, job.offset);
    job.offset = 0;
  }
}

void SocketWriter::Run() {
  pthread_setname_np(pthread_self(), "llm-twin-writer");
  std::vector<pollfd> fds;
  std::vector<int64_t> polled;
  for (;;) {
    fds.clear();
    polled.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      wake_pending_ = false;
      for (auto& entry : jobs_) {
        Job& job = entry.second;
        if (!job.blocked) Drain(job);
        if (job.blocked && job.state == State::kOpen) {
          fds.push_back({job.fd, POLLOUT, 0});
          polled.push_back(entry.first);
        }
      }
    }
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
    if ((fds[0].revents & POLLIN) != 0) {
      uint64_t count = 0;
      if (read(wake_fd_, &count, sizeof count) < 0) {
        // Nothing to read: another wake-up already cleared it.
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t index = 1; index < fds.size(); index += 1) {
      if (fds[index].revents == 0) continue;
      auto found = jobs_.find(polled[index - 1]);
      if (found != jobs_.end()) found->second.blocked = false;
    }
  }
}

}  // namespace llm_twin
