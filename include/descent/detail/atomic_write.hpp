#pragma once
// Writes that are atomic: a reader, or a process started after a crash, sees either the old file
// or the whole new one, never a mix or a prefix. Checkpoints, .npy exports, History::save_csv
// and io::write_file_atomically all write through write_atomically.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <descent/error.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>

namespace descent::detail {

/// Closes a file descriptor on every path out of a scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (m_fd >= 0) ::close(m_fd);
  }
  int get() const { return m_fd; }
  /// Closes now and reports whether that worked (close can report a failed delayed write).
  bool close() {
    const int fd = m_fd;
    m_fd = -1;
    return ::close(fd) == 0;
  }

 private:
  int m_fd;
};

/// The file `path` names once symbolic links are followed (a dangling link's target too), so that
/// replacing it keeps the link. Throws std::runtime_error naming `who` on a loop of links.
inline std::filesystem::path link_target(const std::filesystem::path& path,
                                         const std::string& who) {
  std::filesystem::path target = path;
  for (int hops = 0;; ++hops) {
    std::error_code ec;
    if (!std::filesystem::is_symlink(std::filesystem::symlink_status(target, ec))) return target;
    if (hops == 40) {
      throw RuntimeError(who + ": cannot write '" + path.string() +
                         "': too many levels of symbolic links");
    }
    const std::filesystem::path link = std::filesystem::read_symlink(target, ec);
    if (ec) {
      throw RuntimeError(who + ": cannot write '" + path.string() + "': reading link '" +
                         target.string() + "': " + ec.message());
    }
    target = link.is_absolute() ? link : target.parent_path() / link;
  }
}

/// Writes the pieces, one after the other, to `path`: into a temporary file in the same folder
/// (so the rename stays within one file system), fsync'ed, renamed over `path`, and then the
/// folder fsync'ed so that the rename itself is on disk. A crash at any point leaves `path` as it
/// was or complete; at worst a stray "<path>.tmp.<pid>.<n>" remains. Throws std::runtime_error
/// naming `who`, the file and the system's reason, and then removes the temporary file.
/// A symbolic link is followed: the file it points to is replaced and the link stays. A file
/// that exists keeps its permission bits (a 0600 file stays private) and, where the process may
/// set it, its owner; a new file gets 0666 less the umask.
inline void write_atomically(const std::filesystem::path& link,
                             std::initializer_list<std::span<const unsigned char>> pieces,
                             const std::string& who) {
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path path = link_target(link, who);
  const std::filesystem::path tmp =
      path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const auto fail = [&](const std::string& doing, int error) {
    ::unlink(tmp.c_str());
    throw RuntimeError(who + ": cannot write '" + path.string() + "': " + doing + ": " +
                       std::strerror(error));
  };
  FileDescriptor fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666));
  if (fd.get() < 0) {
    const int error = errno;
    throw RuntimeError(who + ": cannot write '" + path.string() + "': creating '" + tmp.string() +
                       "': " + std::strerror(error));
  }
  struct stat old {};
  if (::stat(path.c_str(), &old) == 0) {
    if (::fchown(fd.get(), old.st_uid, old.st_gid) != 0) {
      // Only root may give a file away; the mode below still keeps others out.
    }
    if (::fchmod(fd.get(), old.st_mode & 07777) != 0) {
      fail("setting the mode of '" + tmp.string() + "'", errno);
    }
  }
  for (const auto piece : pieces) {
    const unsigned char* p = piece.data();
    std::size_t left = piece.size();
    while (left > 0) {
      const ssize_t n = ::write(fd.get(), p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("writing '" + tmp.string() + "'", n < 0 ? errno : ENOSPC);
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  if (::fsync(fd.get()) != 0) fail("fsync of '" + tmp.string() + "'", errno);
  if (!fd.close()) fail("closing '" + tmp.string() + "'", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("renaming '" + tmp.string() + "'", errno);
  // The rename is in the folder's data: sync it too. Some file systems refuse to fsync a
  // folder; the file itself is complete either way, so that is not an error.
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  FileDescriptor dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
}

}  // namespace descent::detail
