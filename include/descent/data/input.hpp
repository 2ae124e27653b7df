#pragma once
// The bytes of a data file, for the readers (read_idx, read_csv): the file is opened with checks
// that name it in every error, then read raw or, when it starts with the gzip magic 1f 8b,
// decompressed through zlib's inflate as it is read. Nothing here is sized from what the file
// says about itself: the callers grow their buffers with the bytes that actually arrive.
//
// A gzip file is one or more complete members (RFC 1952), read as one stream, the way gzip -d,
// zcat, zlib's gzread and Python's gzip module read `cat a.gz b.gz > ab.gz`. Bytes after the last
// member that do not start another member are refused as trailing garbage, as a raw IDX file's
// extra bytes are (gzip -d only warns; Python's gzip refuses them too, except zero padding, which
// we refuse as well). A file that ends inside a member is a truncated gzip stream wherever it ends:
// in the gzip header, in the compressed data, or in the CRC-32 and size that close a member.

#include <descent/data/error.hpp>

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>

namespace descent::data::detail {

/// Whether `bytes` begin with the gzip magic 1f 8b.
inline bool has_gzip_magic(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1F &&
         static_cast<unsigned char>(bytes[1]) == 0x8B;
}

/// A data file opened for reading, raw or through zlib. Every failure is a DataError that starts
/// with the file's name.
class DataFile {
 public:
  explicit DataFile(const std::filesystem::path& path) : m_name(path.string()) {
    // Checked before opening, so that a FIFO cannot block the open.
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (std::filesystem::is_directory(status)) fail("cannot open: is a directory");
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
      fail("cannot open: not a regular file");
    }
    m_file.reset(std::fopen(m_name.c_str(), "rb"));
    if (!m_file) {
      const int error = errno;
      fail("cannot open: " + std::generic_category().message(error));
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) fail("cannot open: " + ec.message());
    m_size = size;
    char magic[2] = {0, 0};
    const std::size_t got = std::fread(magic, 1, 2, m_file.get());
    if (got < 2 && std::ferror(m_file.get())) fail_read();
    std::rewind(m_file.get());  // inflate reads the gzip header too
    if (has_gzip_magic(std::string_view(magic, got))) start_gzip();
  }
  DataFile(const DataFile&) = delete;
  DataFile& operator=(const DataFile&) = delete;
  ~DataFile() {
    if (m_gzip) inflateEnd(&m_z);
  }

  [[noreturn]] void fail(const std::string& what) const { throw DataError(m_name + ": " + what); }

  /// The file's name, as given.
  const std::string& name() const { return m_name; }
  /// Whether the file is gzip-compressed.
  bool gzipped() const { return m_gzip; }
  /// The file's size on disk, measured when it was opened.
  std::uint64_t file_size() const { return m_size; }
  /// True once the data ended because the file ended inside a gzip member.
  bool cut_off() const { return m_cut_off; }

  /// Reads up to n bytes of data (decompressed, for a gzip file); fewer only at its end, which is
  /// a clean end unless cut_off(). A corrupt gzip stream, bytes after its last member or a read
  /// error throw.
  std::size_t read(void* out, std::size_t n) {
    auto* p = static_cast<unsigned char*>(out);
    if (!m_gzip) {
      const std::size_t got = std::fread(p, 1, n, m_file.get());
      if (got < n && std::ferror(m_file.get())) fail_read();
      return got;
    }
    std::size_t total = 0;
    while (total < n && !m_end) {
      if (m_z.avail_in == 0 && !fill()) {  // the file ended
        m_cut_off = m_in_member;
        m_end = true;
        break;
      }
      if (!m_in_member) {
        start_member();
        continue;
      }
      const auto room = static_cast<uInt>(std::min<std::size_t>(n - total, std::size_t{1} << 30));
      m_z.next_out = p + total;
      m_z.avail_out = room;
      const int rc = inflate(&m_z, Z_NO_FLUSH);
      total += room - m_z.avail_out;
      if (rc == Z_STREAM_END) {
        m_in_member = false;
      } else if (rc == Z_MEM_ERROR) {
        fail("not enough memory for zlib");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {  // Z_DATA_ERROR, or Z_NEED_DICT (not gzip)
        fail("corrupt gzip stream: " + std::string(m_z.msg ? m_z.msg : "invalid data"));
      }
      // Z_OK and Z_BUF_ERROR: more input or more room is needed; the loop provides it.
    }
    return total;
  }

  /// The whole data, in a string that grows with the bytes that arrive (a raw file's is sized
  /// once from its size). A cut-off gzip stream, and running out of memory, throw.
  std::string read_all() {
    constexpr std::size_t chunk = std::size_t{1} << 16;
    std::string text;
    try {
      if (!m_gzip && m_size < text.max_size() - chunk) text.reserve(std::size_t(m_size) + chunk);
      for (std::size_t got = chunk; got == chunk;) {
        const std::size_t old = text.size();
        text.resize(old + chunk);
        got = read(text.data() + old, chunk);
        text.resize(old + got);
      }
    } catch (const std::bad_alloc&) {
      fail("not enough memory to read it (" + std::to_string(text.size()) + " bytes read, " +
           std::to_string(m_size) + (m_gzip ? " gzip-compressed" : "") + " bytes on disk)");
    }
    if (m_cut_off) fail(truncated() + ": after " + std::to_string(text.size()) + " bytes of data");
    return text;
  }

  /// Which kind of truncation a message should name: "truncated gzip stream (the file ends
  /// inside it)" when the file ended inside a gzip member, "truncated" otherwise.
  std::string truncated() const {
    return m_cut_off ? "truncated gzip stream (the file ends inside it)" : "truncated";
  }

 private:
  static constexpr std::size_t input_buffer_bytes = std::size_t{1} << 15;

  [[noreturn]] void fail_read() const {
    const int error = errno;
    fail("read error: " + std::generic_category().message(error));
  }

  void start_gzip() {
    m_in = std::make_unique<unsigned char[]>(input_buffer_bytes);
    m_z.zalloc = Z_NULL;
    m_z.zfree = Z_NULL;
    m_z.opaque = Z_NULL;
    m_z.next_in = m_in.get();
    m_z.avail_in = 0;
    // 16 + 15: a gzip wrapper (not zlib's, not raw deflate) and the largest window.
    const int rc = inflateInit2(&m_z, 16 + MAX_WBITS);
    if (rc == Z_MEM_ERROR) fail("not enough memory for zlib");
    if (rc != Z_OK) fail("cannot start zlib: " + std::string(m_z.msg ? m_z.msg : "error"));
    m_gzip = true;
  }

  // Moves the unread input to the front of the buffer and reads more after it; false when the
  // file gave nothing more.
  bool fill() {
    if (m_z.avail_in > 0) std::memmove(m_in.get(), m_z.next_in, m_z.avail_in);
    m_z.next_in = m_in.get();
    const std::size_t got =
        std::fread(m_in.get() + m_z.avail_in, 1, input_buffer_bytes - m_z.avail_in, m_file.get());
    if (got == 0 && std::ferror(m_file.get())) fail_read();
    m_z.avail_in += static_cast<uInt>(got);
    return got > 0;
  }

  // At the start, or after a member's end: the next member, or bytes that are not one.
  void start_member() {
    if (m_z.avail_in < 2) fill();  // a magic split across two reads
    const std::string_view next(reinterpret_cast<const char*>(m_z.next_in), m_z.avail_in);
    // A lone 1f at the very end is the start of a member that the file cuts off.
    if (has_gzip_magic(next) || next == "\x1F") {
      if (inflateReset(&m_z) != Z_OK) fail("cannot restart zlib");
      m_in_member = true;
      return;
    }
    std::uint64_t extra = m_z.avail_in;
    m_z.avail_in = 0;
    while (fill()) {
      extra += m_z.avail_in;
      m_z.avail_in = 0;
    }
    fail("trailing garbage: " + std::to_string(extra) +
         " bytes after the end of the gzip stream (not another gzip member)");
  }

  // Closes the file also when the constructor throws.
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  std::string m_name;
  std::unique_ptr<std::FILE, Closer> m_file;
  std::uint64_t m_size = 0;
  bool m_gzip = false;
  z_stream m_z{};
  std::unique_ptr<unsigned char[]> m_in;
  bool m_in_member = false;
  bool m_end = false;
  bool m_cut_off = false;
};

}  // namespace descent::data::detail
