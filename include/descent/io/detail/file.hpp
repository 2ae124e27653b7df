#pragma once
// Whole-file reads for the readers of descent's binary files; atomic writes (a reader, or a
// process started after a crash, sees the old file or the whole new one) are in
// descent/detail/atomic_write.hpp, which nn uses too.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <descent/detail/atomic_write.hpp>
#include <descent/io/error.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace descent::io::detail {

using descent::detail::FileDescriptor;
using descent::detail::write_atomically;

/// The whole content of a regular file. Throws CheckpointError naming `who` and the file.
inline std::vector<unsigned char> read_file(const std::filesystem::path& path,
                                            const std::string& who) {
  const auto fail = [&](const std::string& why) {
    throw CheckpointError(who + ": cannot read '" + path.string() + "': " + why);
  };
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(std::strerror(errno));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) fail(std::strerror(errno));
  if (!S_ISREG(info.st_mode)) fail("not a regular file");
  std::vector<unsigned char> bytes(static_cast<std::size_t>(info.st_size));
  std::size_t got = 0;
  while (true) {
    if (got == bytes.size()) bytes.resize(got + 65536);  // the file grew since fstat
    const ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

}  // namespace descent::io::detail
