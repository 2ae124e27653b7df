#pragma once
// Who runs a trial, for the storages' crashed-worker checks (sqlite_storage.hpp and
// postgresql_storage.hpp share them): a worker is its host name, process id and the process's
// start time, so a pid the system reused for another process is not mistaken for the worker.

#include <descent/detail/format.hpp>

#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/types.h>
#include <unistd.h>

namespace descent::tune::detail {

/// This machine's host name ("unknown" if the system will not say).
inline std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

/// The start time of process `pid` in clock ticks since boot (field 22 of /proc/PID/stat), -1
/// when there is no such process or it is a zombie. With the pid, it names a process uniquely.
inline long long process_start(long long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return -1;
  const auto paren = text.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string state;
  fields >> state;
  if (state == "Z" || state == "X") return -1;
  std::string skip;
  for (int field = 4; field < 22; ++field) fields >> skip;  // fields 4..21
  long long start = -1;
  fields >> start;
  return fields ? start : -1;
}

/// True when a worker recorded on this host is certainly gone.
inline bool worker_gone(long long pid, long long start) {
  if (pid <= 0 || pid > INT_MAX) return true;  // no process has it (kill(0 or -1) means groups)
  if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) return true;
  const long long now = process_start(pid);
  return now < 0 || (start >= 0 && now != start);
}

/// Why a heartbeat-less worker is declared dead (age in seconds, rounded; any double prints).
inline std::string no_heartbeat(double age, long long pid, const std::string& host) {
  return "no heartbeat for " + descent::detail::format_number(std::round(age)) + " s from worker " +
         std::to_string(pid) + " on " + host;
}

}  // namespace descent::tune::detail
