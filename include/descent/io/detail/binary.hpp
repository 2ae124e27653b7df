#pragma once
// The encoding of descent's binary files: little-endian fixed-width integers, IEEE floats by
// their bits, strings and arrays as a u64 count and then the items. Reader checks every count
// against the bytes that are left before it allocates, so no byte string makes it read out of
// bounds or reserve more memory than the file's own size.

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <descent/io/error.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace descent::io::detail {

using Bytes = std::vector<unsigned char>;

/// CRC-32 as gzip, PNG and zlib's crc32() compute it (reflected polynomial 0xEDB88320), here so
/// that checkpoints need no zlib. A byte at a time from a 256-entry table: a checkpoint is
/// checked once per load and written once per epoch.
inline std::uint32_t crc32(const unsigned char* data, std::size_t size) {
  static constexpr auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

/// The unsigned integer with the bits of Scalar (float -> u32, double -> u64).
template <class Scalar>
using BitsOf = std::conditional_t<sizeof(Scalar) == 4, std::uint32_t, std::uint64_t>;

class Writer {
 public:
  void u8(std::uint8_t v) { m_bytes.push_back(v); }
  void u32(std::uint32_t v) { put(v); }
  void u64(std::uint64_t v) { put(v); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v)); }
  void f64(double v) { put(std::bit_cast<std::uint64_t>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    m_bytes.insert(m_bytes.end(), s.begin(), s.end());
  }
  /// n Scalars, without a count.
  template <class Scalar>
  void raw(const Scalar* data, std::size_t n) {
    static_assert(std::is_floating_point_v<Scalar> && (sizeof(Scalar) == 4 || sizeof(Scalar) == 8));
    if constexpr (std::endian::native == std::endian::little) {
      const auto* p = reinterpret_cast<const unsigned char*>(data);
      m_bytes.insert(m_bytes.end(), p, p + n * sizeof(Scalar));
    } else {
      for (std::size_t i = 0; i < n; ++i) put(std::bit_cast<BitsOf<Scalar>>(data[i]));
    }
  }
  /// A u64 count, then the Scalars.
  template <class Scalar>
  void array(const Scalar* data, std::size_t n) {
    u64(n);
    raw(data, n);
  }

  Bytes& bytes() { return m_bytes; }
  const Bytes& bytes() const { return m_bytes; }

 private:
  template <class U>
  void put(U v) {
    for (std::size_t i = 0; i < sizeof(U); ++i) {
      m_bytes.push_back(static_cast<unsigned char>(v >> (8 * i)));
    }
  }
  Bytes m_bytes;
};

/// Reads what Writer wrote from [data, data + size). Every method names what it reads, and a
/// read past the end throws CheckpointError("<context>: <what> ...").
class Reader {
 public:
  Reader(const unsigned char* data, std::size_t size, std::string context)
      : m_data(data), m_left(size), m_context(std::move(context)) {}

  std::size_t left() const { return m_left; }

  std::uint8_t u8(std::string_view what) { return get<std::uint8_t>(what); }
  std::uint32_t u32(std::string_view what) { return get<std::uint32_t>(what); }
  std::uint64_t u64(std::string_view what) { return get<std::uint64_t>(what); }
  std::int64_t i64(std::string_view what) {
    return static_cast<std::int64_t>(get<std::uint64_t>(what));
  }
  double f64(std::string_view what) { return std::bit_cast<double>(get<std::uint64_t>(what)); }
  bool flag(std::string_view what) {
    const std::uint8_t v = u8(what);
    if (v > 1) fail(std::string(what) + " is " + std::to_string(v) + ", not 0 or 1");
    return v == 1;
  }

  /// A u64 count of items of `item_size` bytes each, checked against the bytes left.
  std::size_t count(std::string_view what, std::size_t item_size) {
    const std::uint64_t n = u64(what);
    if (n > m_left / std::max<std::size_t>(item_size, 1)) {
      fail(std::string(what) + " claims " + std::to_string(n) + " items of " +
           std::to_string(item_size) + " bytes, but only " + std::to_string(m_left) +
           " bytes are left");
    }
    return static_cast<std::size_t>(n);
  }

  std::string str(std::string_view what) {
    const std::size_t n = count(what, 1);
    std::string s(reinterpret_cast<const char*>(m_data), n);
    skip(n);
    return s;
  }

  /// n Scalars, without a count, into out[0, n).
  template <class Scalar>
  void raw(std::string_view what, Scalar* out, std::size_t n) {
    if (n > m_left / sizeof(Scalar)) fail(std::string(what) + " runs past the end");
    if constexpr (std::endian::native == std::endian::little) {
      if (n > 0) std::memcpy(out, m_data, n * sizeof(Scalar));
      skip(n * sizeof(Scalar));
    } else {
      for (std::size_t i = 0; i < n; ++i) out[i] = std::bit_cast<Scalar>(get<BitsOf<Scalar>>(what));
    }
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw CheckpointError(m_context + ": " + message);
  }

 private:
  template <class U>
  U get(std::string_view what) {
    if (m_left < sizeof(U)) fail(std::string(what) + " runs past the end");
    U v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) v |= static_cast<U>(U(m_data[i]) << (8 * i));
    skip(sizeof(U));
    return v;
  }
  void skip(std::size_t n) {
    m_data += n;
    m_left -= n;
  }

  const unsigned char* m_data;
  std::size_t m_left;
  std::string m_context;
};

}  // namespace descent::io::detail
