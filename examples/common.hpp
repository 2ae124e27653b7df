#pragma once
// Support code shared by the example programs that train networks (fashion_mnist, showdown):
// command-line parsing whose errors name the flag, a tiny JSON writer, atomic file writes, and
// Fashion-MNIST's location and install hint. Example support code, not library API.

#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace descent::examples {

/// Where Debian's dataset-fashion-mnist package puts the gzipped IDX files.
inline constexpr std::string_view fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";
inline constexpr std::string_view fashion_mnist_hint =
    "hint: sudo apt-get install dataset-fashion-mnist  (with --reinstall if its files are damaged),\n"
    "      or pass --data DIR";

/// A bad command line: main() prints "<program>: <what>" and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// "--flag: message", for errors that name the flag they are about.
[[noreturn]] inline void flag_error(std::string_view flag, const std::string& message) {
  throw UsageError(std::string(flag) + ": " + message);
}

/// Walks argv as "--flag value" pairs (and bare switches), naming the flag in every error.
class Args {
 public:
  Args(int argc, char** argv) : m_args(argv + 1, argv + argc) {}

  bool done() const { return m_next >= m_args.size(); }
  /// The next flag; anything that is not "--name" or "-h" is an error.
  std::string_view flag() {
    m_flag = m_args[m_next++];
    if (m_flag.size() < 2 || m_flag[0] != '-') {
      throw UsageError("unexpected argument '" + std::string(m_flag) + "' (flags start with --)");
    }
    return m_flag;
  }
  /// The value of the flag just read: the next argument, whatever it looks like ("-1" too).
  std::string_view value() {
    if (m_next >= m_args.size()) flag_error(m_flag, "needs a value");
    return m_args[m_next++];
  }

  /// A whole number in [lo, hi].
  long long integer(long long lo, long long hi = std::numeric_limits<long long>::max()) {
    const std::string_view text = value();
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) {
      flag_error(m_flag, "'" + std::string(text) + "' is not a whole number");
    }
    if (v < lo || v > hi) {
      flag_error(m_flag, "must be " +
                             (hi == std::numeric_limits<long long>::max()
                                  ? ">= " + std::to_string(lo)
                                  : "from " + std::to_string(lo) + " to " + std::to_string(hi)) +
                             ", got " + std::string(text));
    }
    return v;
  }

  /// A finite number: 0.5, 1e-3, ... (std::from_chars, so the locale never matters).
  double real() {
    const std::string_view text = value();
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v)) {
      flag_error(m_flag, "'" + std::string(text) + "' is not a finite number");
    }
    return v;
  }

 private:
  std::vector<std::string_view> m_args;
  std::size_t m_next = 0;
  std::string_view m_flag;
};

/// Runs f(); a std::invalid_argument from the library becomes a UsageError naming the flag.
template <class F>
decltype(auto) checked_flag(std::string_view flag, F&& f) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    flag_error(flag, e.what());
  }
}

/// "a,b,c" -> {"a", "b", "c"}; empty items are dropped.
inline std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (comma != 0) items.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

/// Shortest text that reads back to exactly v ("0.1", "1e-07"); std::to_chars ignores the locale.
inline std::string format_exact(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : std::string("nan");
}

/// v as the JSON number that reads back to it (max_digits10 significant digits), or null when it
/// is not finite (JSON has no NaN).
inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general,
                                       std::numeric_limits<double>::max_digits10);
  return ec == std::errc{} ? std::string(buf, end) : std::string("null");
}

inline std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

/// Writes `text` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees half a file. Throws std::runtime_error naming the file and the reason.
inline void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  const std::filesystem::path tmp =
      path.string() + ".tmp." + std::to_string(static_cast<long long>(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (out) out.close();
    if (!out) {
      const int error = errno;
      std::error_code ignore;
      std::filesystem::remove(tmp, ignore);
      throw std::runtime_error("cannot write '" + path.string() + "': " + std::strerror(error) +
                               " (writing " + tmp.string() + ")");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignore;
    std::filesystem::remove(tmp, ignore);
    throw std::runtime_error("cannot write '" + path.string() + "': " + ec.message());
  }
}

/// Runs an example's body: usage errors exit 2, any other error 1, each as one line on stderr
/// prefixed with the program's name. Never a crash, never an uncaught exception.
template <class Body>
int guarded_main(const char* program, Body&& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace descent::examples
