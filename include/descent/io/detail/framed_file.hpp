#pragma once
// The frame around every descent binary file's payload: a 32-byte header that names the kind of
// file, its format version and scalar type, and the payload's size and CRC-32. Written
// atomically; read back with every field checked before the payload is handed over.
//
//   offset  size  field
//        0     8  magic: 0x89 and 7 ASCII letters ("\x89DESCENT" checkpoints, "\x89DESCOPT"
//                 optimizer states)
//        8     4  u32 format version (1, 2, ...)
//       12     4  u32 bytes per Scalar: 4 (float) or 8 (double)
//       16     8  u64 payload size in bytes (the file is 32 bytes longer)
//       24     4  u32 CRC-32 of the payload (the one of gzip, PNG and zlib's crc32)
//       28     4  u32 reserved, 0

#include <descent/io/detail/binary.hpp>
#include <descent/io/detail/file.hpp>
#include <descent/io/error.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace descent::io::detail {

inline constexpr std::size_t frame_header_size = 32;

/// One kind of framed file: its magic, the newest version this build writes and reads, and
/// what error messages call it ("checkpoint").
struct FileKind {
  std::array<unsigned char, 8> magic;
  std::uint32_t version;
  std::string_view noun;
};

inline std::string scalar_name(std::uint32_t bytes) {
  return bytes == 4   ? "float (4 bytes)"
         : bytes == 8 ? "double (8 bytes)"
                      : std::to_string(bytes) + "-byte";
}

/// The header for `payload`, then both written atomically to `path`.
template <class Scalar>
void write_framed_file(const std::filesystem::path& path, const FileKind& kind,
                       const Bytes& payload, const std::string& who) {
  Writer header;
  for (const unsigned char c : kind.magic) header.u8(c);
  header.u32(kind.version);
  header.u32(sizeof(Scalar));
  header.u64(payload.size());
  header.u32(crc32(payload.data(), payload.size()));
  header.u32(0);
  write_atomically(
      path,
      {std::span<const unsigned char>(header.bytes()), std::span<const unsigned char>(payload)},
      who);
}

/// A framed file as read: the whole file and its format version.
struct Frame {
  Bytes bytes;                ///< the whole file
  std::uint32_t version = 0;  ///< its format version
  /// The payload, after the header.
  std::span<const unsigned char> payload() const {
    return std::span<const unsigned char>(bytes).subspan(frame_header_size);
  }
};

/// A framed file's payload and version, after checking the magic, version, scalar type, size
/// and checksum. Throws CheckpointError starting with `context` ("descent::io: checkpoint
/// 'run.ckpt'") and naming what is wrong.
template <class Scalar>
Frame read_framed_file(const std::filesystem::path& path, const FileKind& kind,
                       const std::string& context, const std::string& who) {
  Frame frame{read_file(path, who), 0};
  const Bytes& bytes = frame.bytes;
  const auto fail = [&](const std::string& what) -> void {
    throw CheckpointError(context + " " + what);
  };
  const std::size_t size = bytes.size();
  const std::size_t magic_bytes = std::min(size, kind.magic.size());
  if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(magic_bytes),
                  kind.magic.begin())) {
    fail("is not a descent " + std::string(kind.noun) + " (it does not start with \"\\x89" +
         std::string(kind.magic.begin() + 1, kind.magic.end()) + "\")");
  }
  if (size < frame_header_size) {
    fail("is truncated: " + std::to_string(size) + " bytes, less than the " +
         std::to_string(frame_header_size) + "-byte header");
  }
  Reader header(bytes.data() + 8, frame_header_size - 8, context);
  const std::uint32_t version = header.u32("version");
  const std::uint32_t scalar = header.u32("scalar size");
  const std::uint64_t payload = header.u64("payload size");
  const std::uint32_t crc = header.u32("checksum");
  const std::uint32_t reserved = header.u32("reserved");
  if (version == 0) fail("has format version 0, which does not exist (a corrupt header)");
  if (version > kind.version) {
    fail("has format version " + std::to_string(version) + ", newer than the " +
         std::to_string(kind.version) + " this build of descent reads (update descent)");
  }
  if (scalar != 4 && scalar != 8) {
    fail("has a corrupt header: scalar size " + std::to_string(scalar));
  }
  if (scalar != sizeof(Scalar)) {
    fail("holds " + scalar_name(scalar) + " values; it cannot be loaded as " +
         scalar_name(sizeof(Scalar)));
  }
  if (reserved != 0) fail("has a corrupt header: reserved field " + std::to_string(reserved));
  const std::size_t have = size - frame_header_size;
  if (payload > have) {
    fail("is truncated: its header announces " + std::to_string(payload) +
         " payload bytes, the file holds " + std::to_string(have));
  }
  if (payload < have) {
    fail("is corrupt: " + std::to_string(have - payload) + " bytes follow the " +
         std::to_string(payload) + " payload bytes its header announces");
  }
  const std::uint32_t actual = crc32(bytes.data() + frame_header_size, have);
  if (actual != crc) {
    fail("is corrupt: bad checksum (the payload's CRC-32 is " + std::to_string(actual) +
         ", the header says " + std::to_string(crc) + ")");
  }
  frame.version = version;
  return frame;
}

}  // namespace descent::io::detail
