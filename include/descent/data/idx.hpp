#pragma once
// Reader for the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected by the
// gzip magic 1f 8b, read through zlib):
//
//   00 00 <type> <ndims>   type 0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32,
//                          0x0E float64
//   ndims x uint32         the sizes, outermost first (images x rows x columns), big-endian
//   data                   row-major (the last dimension varies fastest), big-endian
//
// The header is checked against a size limit and against what the file can hold before anything is
// allocated, and the data is read into a buffer that grows with the bytes that actually arrive, so
// a corrupt or hostile header costs nothing. Every problem is a DataError whose message names the
// file and what was wrong: bytes after the data (or after the gzip stream), a file or gzip stream
// that ends early (wherever it ends), a corrupt gzip stream, too little memory for the data.

#include <descent/data/error.hpp>
#include <descent/data/input.hpp>
#include <descent/error.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace descent::data {

/// The element type named by the third byte of an IDX file.
enum class IdxType : std::uint8_t {
  ubyte = 0x08,
  sbyte = 0x09,
  int16 = 0x0B,
  int32 = 0x0C,
  float32 = 0x0D,
  float64 = 0x0E
};

/// The element type's name: "ubyte", "sbyte", "int16", "int32", "float32" or "float64".
inline constexpr std::string_view idx_type_name(IdxType type) {
  switch (type) {
    case IdxType::ubyte: return "ubyte";
    case IdxType::sbyte: return "sbyte";
    case IdxType::int16: return "int16";
    case IdxType::int32: return "int32";
    case IdxType::float32: return "float32";
    case IdxType::float64: return "float64";
  }
  return "unknown";
}

/// Most dimensions an IDX header may claim.
inline constexpr std::size_t max_idx_dims = 16;
/// Most elements an IDX header may claim; MNIST's largest file holds 47 million.
inline constexpr std::uint64_t max_idx_elements = std::uint64_t{1} << 32;

/// An IDX file's contents: its sizes and its values in file order, in the file's own element type
/// (so MNIST's pixels stay one byte each), converted to native byte order.
struct IdxArray {
  /// The values, as a vector of the element type; the alternatives are in IdxType order.
  using Data =
      std::variant<std::vector<std::uint8_t>, std::vector<std::int8_t>, std::vector<std::int16_t>,
                   std::vector<std::int32_t>, std::vector<float>, std::vector<double>>;

  std::vector<std::uint32_t> dims;  ///< outermost first: {images, rows, columns}
  Data data;                        ///< product(dims) values, row-major

  /// The element type, which follows from the alternative data holds.
  IdxType type() const {
    constexpr std::array<IdxType, 6> types{IdxType::ubyte, IdxType::sbyte,   IdxType::int16,
                                           IdxType::int32, IdxType::float32, IdxType::float64};
    return types[data.index()];
  }

  /// Number of values, the product of dims.
  std::size_t size() const {
    return std::visit([](const auto& v) { return v.size(); }, data);
  }

  /// The values as stored; T must be the stored type (std::uint8_t for ubyte, float for float32
  /// ...), otherwise std::invalid_argument.
  template <class T>
  const std::vector<T>& values() const {
    if (const auto* v = std::get_if<std::vector<T>>(&data)) return *v;
    throw InvalidArgument("descent::data::IdxArray::values<T>: T does not match the stored " +
                          std::string(idx_type_name(type())) + " data");
  }

  /// The values converted to T, whatever the stored type.
  template <class T>
  std::vector<T> as() const {
    return std::visit(
        [](const auto& v) {
          std::vector<T> out(v.size());
          for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<T>(v[i]);
          return out;
        },
        data);
  }
};

namespace detail {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "descent::data reads IDX files on little- or big-endian machines only");
static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559,
              "IDX float data is IEEE 754");

template <class U>
constexpr U byteswap(U u) {
  U r = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    r = static_cast<U>((r << 8) | (u & 0xFF));
    u = static_cast<U>(u >> 8);
  }
  return r;
}

/// Big-endian file order to native order, in place.
template <class T>
void big_endian_to_native(std::vector<T>& values) {
  if constexpr (sizeof(T) > 1 && std::endian::native == std::endian::little) {
    using U = std::conditional_t<sizeof(T) == 2, std::uint16_t,
                                 std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;
    static_assert(sizeof(U) == sizeof(T));
    for (T& x : values) {
      U u;
      std::memcpy(&u, &x, sizeof u);
      u = byteswap(u);
      std::memcpy(&x, &u, sizeof u);
    }
  }
}

inline std::string hex_byte(unsigned byte) {
  constexpr char digits[] = "0123456789abcdef";
  return {'0', 'x', digits[(byte >> 4) & 0xF], digits[byte & 0xF]};
}

inline std::size_t idx_element_size(IdxType type) {
  switch (type) {
    case IdxType::ubyte:
    case IdxType::sbyte: return 1;
    case IdxType::int16: return 2;
    case IdxType::int32:
    case IdxType::float32: return 4;
    case IdxType::float64: return 8;
  }
  return 0;
}

/// Deflate cannot compress better than about 1032:1, so a gzip file of n bytes holds at most this.
inline std::uint64_t gzip_capacity(std::uint64_t compressed_bytes) {
  constexpr std::uint64_t ratio = 1032, slack = 1024;
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  return compressed_bytes > (max - slack) / ratio ? max : compressed_bytes * ratio + slack;
}

/// Reads `count` values into a vector that grows with the bytes that arrive, so that a header
/// promising more than the file holds costs at most twice what it does hold (a raw file's size
/// was checked against the header, so its vector is allocated once).
template <class T>
std::vector<T> read_idx_values(DataFile& in, std::size_t count) {
  constexpr std::size_t first_chunk = (std::size_t{1} << 20) / sizeof(T);
  const std::uint64_t promised = std::uint64_t{count} * sizeof(T);
  std::vector<T> values;
  std::size_t have = 0;  // bytes read
  try {
    values.resize(in.gzipped() ? std::min(count, first_chunk) : count);
    while (true) {
      const std::size_t want = values.size() * sizeof(T) - have;
      const std::size_t got = in.read(reinterpret_cast<unsigned char*>(values.data()) + have, want);
      have += got;
      if (got < want) {
        in.fail(in.truncated() + ": header promises " + std::to_string(promised) +
                " bytes of data, file has " + std::to_string(have));
      }
      if (values.size() == count) break;
      values.resize(std::min(count, 2 * values.size()));
    }
  } catch (const std::bad_alloc&) {
    in.fail("not enough memory for the " + std::to_string(promised) +
            " bytes of data the header promises (" + std::to_string(have) + " read)");
  }
  big_endian_to_native(values);
  return values;
}

}  // namespace detail

/// Reads an IDX file, raw or gzip-compressed. Throws DataError for a missing file, an unreadable or
/// corrupt gzip stream, a wrong magic, an unknown type, zero or more than max_idx_dims dimensions,
/// more than max_idx_elements values, fewer bytes than the header promises, or bytes after them.
inline IdxArray read_idx(const std::filesystem::path& path) {
  detail::DataFile in(path);

  std::array<unsigned char, 4> magic{};
  const std::size_t got = in.read(magic.data(), magic.size());
  if (got == 0 && !in.cut_off()) {
    in.fail(in.gzipped() ? "empty file (an empty gzip stream), not an IDX file"
                         : "empty file, not an IDX file");
  }
  if (got < magic.size()) {
    in.fail(in.truncated() + ": " + std::to_string(got) + " bytes, too short for an IDX header");
  }
  if (magic[0] != 0 || magic[1] != 0) {
    in.fail("wrong magic: not an IDX file (it starts with " + detail::hex_byte(magic[0]) + " " +
            detail::hex_byte(magic[1]) + ", an IDX file with 0x00 0x00)");
  }
  const auto type = static_cast<IdxType>(magic[2]);
  const std::size_t element_size = detail::idx_element_size(type);
  if (element_size == 0) {
    in.fail("unknown data type " + detail::hex_byte(magic[2]) +
            " (IDX knows 0x08 ubyte, 0x09 sbyte, 0x0b int16, 0x0c int32, 0x0d float32, "
            "0x0e float64)");
  }
  const std::size_t ndims = magic[3];
  if (ndims == 0) in.fail("zero dimensions in the IDX header");
  if (ndims > max_idx_dims) {
    in.fail("too many dimensions: the header claims " + std::to_string(ndims) + ", at most " +
            std::to_string(max_idx_dims) + " are supported");
  }

  std::array<unsigned char, 4 * max_idx_dims> size_bytes{};
  const std::size_t header_rest = 4 * ndims;
  if (in.read(size_bytes.data(), header_rest) < header_rest) {
    in.fail(in.truncated() + ": the header promises " + std::to_string(ndims) +
            " dimension sizes, the file ends inside them");
  }
  IdxArray array;
  array.dims.resize(ndims);
  bool any_zero = false;
  for (std::size_t d = 0; d < ndims; ++d) {
    const unsigned char* b = &size_bytes[4 * d];
    array.dims[d] = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                    (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    any_zero = any_zero || array.dims[d] == 0;
  }

  // Checked against the limit as it is multiplied, so it cannot overflow.
  std::uint64_t elements = any_zero ? 0 : 1;
  for (std::size_t d = 0; d < ndims && elements != 0; ++d) {
    if (elements > max_idx_elements / array.dims[d]) {
      std::string shape;
      for (std::size_t k = 0; k < ndims; ++k) {
        shape += (k ? " x " : "") + std::to_string(array.dims[k]);
      }
      in.fail("too large: the header claims " + shape + " elements, more than the limit of " +
              std::to_string(max_idx_elements));
    }
    elements *= array.dims[d];
  }
  const std::uint64_t data_bytes = elements * element_size;  // <= 2^35
  if (data_bytes > std::numeric_limits<std::size_t>::max()) {
    in.fail("too large: " + std::to_string(data_bytes) + " bytes of data do not fit in memory");
  }

  // Promises the file cannot keep are refused before reading (the reading itself grows its
  // buffer with what arrives, so this is for the message, not for safety).
  const std::uint64_t header_bytes = 4 + header_rest;
  if (!in.gzipped()) {
    const std::uint64_t size = in.file_size();
    const std::uint64_t available = size > header_bytes ? size - header_bytes : 0;
    if (data_bytes > available) {
      in.fail("truncated: header promises " + std::to_string(data_bytes) +
              " bytes of data, file has " + std::to_string(available));
    }
    if (data_bytes < available) {
      in.fail("trailing garbage: " + std::to_string(available - data_bytes) + " bytes after the " +
              std::to_string(data_bytes) + " bytes of data the header promises");
    }
  } else if (const std::uint64_t capacity = detail::gzip_capacity(in.file_size());
             header_bytes + data_bytes > capacity) {
    in.fail("truncated: header promises " + std::to_string(data_bytes) +
            " bytes of data, more than a gzip file of " + std::to_string(in.file_size()) +
            " bytes can hold");
  }

  const auto count = static_cast<std::size_t>(elements);
  switch (type) {
    case IdxType::ubyte: array.data = detail::read_idx_values<std::uint8_t>(in, count); break;
    case IdxType::sbyte: array.data = detail::read_idx_values<std::int8_t>(in, count); break;
    case IdxType::int16: array.data = detail::read_idx_values<std::int16_t>(in, count); break;
    case IdxType::int32: array.data = detail::read_idx_values<std::int32_t>(in, count); break;
    case IdxType::float32: array.data = detail::read_idx_values<float>(in, count); break;
    case IdxType::float64: array.data = detail::read_idx_values<double>(in, count); break;
  }

  // Anything after the data: bytes a raw file grew since it was measured, or a gzip stream's
  // (reading to its end also checks its CRC and that nothing follows its last member). Counted
  // up to a limit, so that a compressed flood of them costs little time.
  constexpr std::uint64_t counted = std::uint64_t{1} << 20;
  std::array<unsigned char, 4096> rest;
  std::uint64_t extra = 0;
  for (std::size_t n; extra <= counted && (n = in.read(rest.data(), rest.size())) > 0;) extra += n;
  if (extra > 0) {
    const std::string bytes =
        extra > counted ? "more than " + std::to_string(counted) : std::to_string(extra);
    in.fail("trailing garbage: " + bytes + " bytes after the " + std::to_string(data_bytes) +
            " bytes of data the header promises");
  }
  if (in.cut_off()) {
    in.fail(in.truncated() + ": after the " + std::to_string(data_bytes) +
            " bytes of data, before the end of the stream and its CRC-32");
  }
  return array;
}

}  // namespace descent::data
