// Fuzzes read_idx. The first byte picks what the rest of the input becomes before it is read:
//   0  the file as it is: raw IDX, or a gzip stream when it starts 1f 8b
//   1  gzip-compressed here (level from the first byte): read_idx must agree with reading the
//      same bytes raw: the same array, or both refused
//   2  gzip-compressed here, then cut to rest[0] / 256 of its length: always refused
//   3  split at rest[0] into two gzip members, one after the other: agrees with the raw bytes
//   4  split at rest[0]: the first part gzip-compressed, the second appended as it is: refused
//      when the second part is not empty and does not start another member (trailing garbage)
// Whatever the mode, read_idx must return an array that matches its header or throw DataError.
// Mutations of a real gzip stream mostly break its CRC in the first inflate; the modes that
// compress in-process reach the IDX parsing behind gzip, cut-off streams and member boundaries.

#include <descent/data/idx.hpp>

#include "gzip_bytes.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include <unistd.h>

namespace {

std::string temp_path(const char* what) {
  return (std::filesystem::temp_directory_path() /
          ("descent_fuzz_idx_" + std::string(what) + "." + std::to_string(::getpid())))
      .string();
}

void write(const std::string& path, std::string_view bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    std::abort();
  }
}

// The array read from `bytes` written to a file, or nothing when read_idx refused it.
std::optional<descent::data::IdxArray> read(const char* what, std::string_view bytes) {
  const std::string path = temp_path(what);
  write(path, bytes);
  std::optional<descent::data::IdxArray> array;
  try {
    array = descent::data::read_idx(path);
  } catch (const descent::data::DataError&) {
  }
  std::filesystem::remove(path);
  if (array) {
    std::size_t product = 1;
    for (const auto d : array->dims) product *= d;
    if (array->dims.empty() || array->size() != product) std::abort();  // header and data disagree
    (void)array->as<double>();
  }
  return array;
}

bool same(const std::optional<descent::data::IdxArray>& a,
          const std::optional<descent::data::IdxArray>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  if (a->dims != b->dims || a->data.index() != b->data.index()) return false;
  return std::visit(
      [&](const auto& values) {
        using V = std::decay_t<decltype(values)>;
        const V& other = std::get<V>(b->data);
        return values.size() == other.size() &&
               (values.empty() || std::memcmp(values.data(), other.data(),
                                              values.size() * sizeof(values[0])) == 0);
      },
      a->data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const unsigned pick = bytes[0];
  const std::string_view rest(reinterpret_cast<const char*>(bytes + 1), size - 1);
  const int level = int(pick / 5 % 10);
  using descent::data::detail::has_gzip_magic;  // bytes that read_idx would decompress itself
  switch (pick % 5) {
    case 0: {
      (void)read("file", rest);
      break;
    }
    case 1: {
      const auto gz = read("gz", gzip_bytes(rest, level));
      if (!has_gzip_magic(rest) && !same(gz, read("raw", rest))) std::abort();
      break;
    }
    case 2: {
      if (rest.empty()) break;
      const std::string gz = gzip_bytes(rest.substr(1), level);
      const std::size_t cut = gz.size() * static_cast<unsigned char>(rest[0]) / 256;
      if (read("cut", std::string_view(gz).substr(0, cut))) std::abort();  // a cut stream was read
      break;
    }
    case 3:
    case 4: {
      if (rest.empty()) break;
      const std::string_view data = rest.substr(1);
      const std::size_t at =
          std::min<std::size_t>(static_cast<unsigned char>(rest[0]), data.size());
      const std::string_view first = data.substr(0, at), second = data.substr(at);
      if (pick % 5 == 3) {
        const auto members = read("members", gzip_bytes(first, level) + gzip_bytes(second, level));
        if (!has_gzip_magic(data) && !same(members, read("raw", data))) std::abort();
      } else {
        const auto appended = read("appended", gzip_bytes(first, level) + std::string(second));
        if (!second.empty() && !has_gzip_magic(second) && appended) std::abort();  // garbage read
      }
      break;
    }
  }
  return 0;
}
