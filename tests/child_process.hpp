// Runs part of a test in a forked child, for what must not touch the test process: a lowered
// memory limit, a private read-only mount, a worker killed mid-trial. Shared by data_test.cpp and
// tune_test.cpp.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <catch2/catch.hpp>

#include <exception>
#include <string>

namespace descent_test {

/// Runs `body` (returning a std::string) in a child process and returns that text. An exception
/// escaping `body` comes back as "exception: <what>"; the child must end by itself with status 0,
/// so a crash in it fails the test.
template <class F>
std::string in_child_process(F&& body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    std::string out;
    try {
      out = body();
    } catch (const std::exception& e) {
      out = std::string("exception: ") + e.what();
    }
    const auto written = ::write(fds[1], out.data(), out.size());
    ::_exit(written == static_cast<ssize_t>(out.size()) ? 0 : 3);
  }
  ::close(fds[1]);
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return out;
}

/// Runs `work(die)` in a child process and kills it with SIGKILL once it calls `die()` (from inside
/// a trial, say: a worker that dies there). Returns the child's process id once it is reaped; it
/// must die by the signal, not end by itself.
template <class F>
pid_t kill_child_when_ready(F&& work) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    const auto die = [&] {
      const char ready = 'r';
      if (::write(fds[1], &ready, 1) != 1) ::_exit(3);
      ::pause();  // killed here
    };
    work(die);
    ::_exit(0);
  }
  ::close(fds[1]);
  char ready = 0;
  REQUIRE(::read(fds[0], &ready, 1) == 1);
  ::close(fds[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  return child;
}

}  // namespace descent_test
