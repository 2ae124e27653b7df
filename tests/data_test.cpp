// The data module: IDX and CSV readers (every type, every error, raw and gzipped fixtures written
// here at run time), loaders, scalers, the seeded split, batches and gather. A replaced global
// operator new records the largest allocation, to show that a lying IDX header is rejected before
// anything is allocated (or, behind gzip, costs no more than the data the stream holds), and that
// gather() allocates nothing. A forked child under an address-space limit shows that running out
// of memory while reading is an error naming the file.

#include "child_process.hpp"
#include "counting_new.hpp"

#include <descent/data.hpp>

#include <catch2/catch.hpp>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <typeinfo>
#include <vector>


namespace {

namespace fs = std::filesystem;
namespace data = descent::data;
using Catch::Matchers::Contains;
using data::DataError;
using data::IdxType;
using Bytes = std::vector<std::uint8_t>;
using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;

/// The largest single operator-new request made while f() ran (f's exception, if any, swallowed).
template <class F>
std::size_t largest_allocation_in(F&& f) {
  g_largest_allocation = 0;
  try {
    f();
  } catch (const std::exception&) {
  }
  return g_largest_allocation.load();
}


/// A fresh directory under the system's temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::random_device device;
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    m_path = fs::temp_directory_path() /
             ("descent-data-test-" + std::to_string(stamp) + "-" + std::to_string(device()));
    fs::create_directories(m_path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  fs::path operator/(const std::string& name) const { return m_path / name; }
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

void write_file(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

void write_gzip(const fs::path& path, const Bytes& bytes) {
  gzFile gz = gzopen(path.string().c_str(), "wb");
  REQUIRE(gz != nullptr);
  const int written = bytes.empty() ? 0 : gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  CHECK(written == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(gz) == Z_OK);
}

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <class T>
void append_big_endian(Bytes& out, T value) {
  std::uint8_t raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  if constexpr (std::endian::native == std::endian::little) std::reverse(raw, raw + sizeof(T));
  out.insert(out.end(), raw, raw + sizeof(T));
}

Bytes idx_header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
  Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const auto d : dims) append_big_endian(b, d);
  return b;
}

template <class T>
Bytes idx_file(std::uint8_t type, const std::vector<std::uint32_t>& dims, const std::vector<T>& values) {
  Bytes b = idx_header(type, dims);
  for (const T v : values) append_big_endian(b, v);
  return b;
}

/// Bytes that do not compress, so a gzip file of them is about as large as they are.
Bytes noise(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

}  // namespace

// ---- IDX -----------------------------------------------------------------------------------

TEST_CASE("IDX files of every type read back exactly, raw and gzipped", "[data][idx]") {
  TempDir dir;
  const std::vector<std::uint32_t> dims{2, 3, 2};
  const auto check = [&](std::uint8_t type_byte, IdxType type, const auto& values) {
    using T = typename std::decay_t<decltype(values)>::value_type;
    REQUIRE(values.size() == 12);
    const Bytes file = idx_file(type_byte, dims, values);
    for (const bool gz : {false, true}) {
      const fs::path path = dir / ("type" + std::to_string(type_byte) + (gz ? ".gz" : ""));
      if (gz) {
        write_gzip(path, file);
      } else {
        write_file(path, file);
      }
      INFO(path.string());
      const data::IdxArray a = data::read_idx(path);
      CHECK(a.dims == dims);
      CHECK(a.type() == type);
      CHECK(a.size() == 12);
      CHECK(a.values<T>() == values);
      const std::vector<double> converted = a.as<double>();
      for (std::size_t i = 0; i < values.size(); ++i) CHECK(converted[i] == static_cast<double>(values[i]));
    }
  };
  check(0x08, IdxType::ubyte, std::vector<std::uint8_t>{0, 1, 2, 127, 128, 200, 255, 3, 4, 5, 6, 7});
  check(0x09, IdxType::sbyte, std::vector<std::int8_t>{0, -1, 1, -128, 127, 5, -5, 64, -64, 2, 3, 4});
  check(0x0B, IdxType::int16,
        std::vector<std::int16_t>{0, -1, 1, -32768, 32767, 258, -258, 1000, -1000, 7, 8, 9});
  check(0x0C, IdxType::int32,
        std::vector<std::int32_t>{0, -1, 1, std::numeric_limits<std::int32_t>::min(),
                                  std::numeric_limits<std::int32_t>::max(), 65536, -65536, 16909060,
                                  -16909060, 10, 11, 12});
  check(0x0D, IdxType::float32,
        std::vector<float>{0.0f, -0.0f, 1.5f, -2.25f, 3.25e10f, -1e-30f, std::numeric_limits<float>::max(),
                           std::numeric_limits<float>::denorm_min(), 0.1f, 7.0f, -8.5f,
                           std::numeric_limits<float>::infinity()});
  check(0x0E, IdxType::float64,
        std::vector<double>{0.0, -0.0, 1.5, -2.25, 3.25e100, -1e-300, std::numeric_limits<double>::max(),
                            std::numeric_limits<double>::denorm_min(), 0.1, 7.0, -8.5,
                            -std::numeric_limits<double>::infinity()});
}

TEST_CASE("IDX data is big-endian and row-major, whatever the machine", "[data][idx]") {
  TempDir dir;
  // int16, one dimension of 2: 0x0102 = 258 and 0xFFFE = -2.
  write_file(dir / "be.idx", Bytes{0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE});
  const auto a = data::read_idx(dir / "be.idx");
  CHECK(a.dims == std::vector<std::uint32_t>{2});
  CHECK(a.values<std::int16_t>() == std::vector<std::int16_t>{258, -2});
  // float32 1.0 is 3F 80 00 00; sizes 1 x 1 are 00 00 00 01 each.
  write_file(dir / "f.idx", Bytes{0, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0x3F, 0x80, 0, 0});
  CHECK(data::read_idx(dir / "f.idx").values<float>() == std::vector<float>{1.0f});
}

TEST_CASE("An IDX array with a zero dimension is empty, not an error", "[data][idx]") {
  TempDir dir;
  write_file(dir / "empty.idx", idx_header(0x08, {0, 28, 28}));
  const auto a = data::read_idx(dir / "empty.idx");
  CHECK(a.size() == 0);
  CHECK(a.dims == std::vector<std::uint32_t>{0, 28, 28});
}

TEST_CASE("IdxArray::values<T> with the wrong T throws, naming the stored type", "[data][idx]") {
  data::IdxArray a;
  a.dims = {1};
  a.data = std::vector<float>{1.0f};
  CHECK(a.type() == IdxType::float32);
  CHECK_THROWS_AS(a.values<double>(), std::invalid_argument);
  CHECK_THROWS_WITH(a.values<std::uint8_t>(), Contains("float32"));
  CHECK(a.values<float>().size() == 1);
}

TEST_CASE("Bad IDX files throw DataError naming the file and the problem", "[data][idx][errors]") {
  TempDir dir;
  const auto path = [&](const std::string& name) { return dir / name; };
  const auto raw = [&](const std::string& name, const Bytes& bytes) {
    write_file(path(name), bytes);
    return path(name);
  };

  SECTION("missing file, directory, empty file") {
    CHECK_THROWS_AS(data::read_idx(path("nothing-here.idx")), DataError);
    CHECK_THROWS_WITH(data::read_idx(path("nothing-here.idx")),
                      Contains("nothing-here.idx: cannot open") && Contains("No such file"));
    CHECK_THROWS_WITH(data::read_idx(dir.path()), Contains("is a directory"));
    CHECK_THROWS_WITH(data::read_idx(raw("empty.idx", {})), Contains("empty.idx: empty file"));
    CHECK_THROWS_WITH(data::read_idx(raw("short.idx", {0, 0, 8})),
                      Contains("short.idx: truncated: 3 bytes, too short for an IDX header"));
  }
  SECTION("wrong magic, unknown type, zero or too many dimensions") {
    CHECK_THROWS_WITH(data::read_idx(raw("zip.idx", {0x50, 0x4B, 3, 4, 0, 0, 0, 0})),
                      Contains("zip.idx: wrong magic") && Contains("0x50 0x4b"));
    CHECK_THROWS_WITH(data::read_idx(raw("type.idx", {0, 0, 0x0A, 1, 0, 0, 0, 1, 7})),
                      Contains("type.idx: unknown data type 0x0a"));
    CHECK_THROWS_WITH(data::read_idx(raw("type2.idx", {0, 0, 0x07, 1, 0, 0, 0, 1, 7})),
                      Contains("unknown data type 0x07"));
    CHECK_THROWS_WITH(data::read_idx(raw("zero.idx", {0, 0, 0x08, 0})),
                      Contains("zero.idx: zero dimensions"));
    Bytes many = idx_header(0x08, std::vector<std::uint32_t>(17, 1));
    many.push_back(1);
    CHECK_THROWS_WITH(data::read_idx(raw("many.idx", many)),
                      Contains("many.idx: too many dimensions: the header claims 17"));
    CHECK_THROWS_WITH(data::read_idx(raw("dims.idx", {0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0})),
                      Contains("dims.idx: truncated: the header promises 3 dimension sizes"));
  }
  SECTION("truncated and trailing data, raw") {
    Bytes b = idx_header(0x08, {10});
    b.insert(b.end(), {1, 2, 3, 4});
    CHECK_THROWS_WITH(data::read_idx(raw("trunc.idx", b)),
                      Contains("trunc.idx: truncated: header promises 10 bytes of data, file has 4"));
    Bytes f = idx_header(0x0D, {2});  // 8 bytes of float32 promised
    f.insert(f.end(), {0x3F, 0x80, 0, 0, 0x3F});
    CHECK_THROWS_WITH(data::read_idx(raw("truncf.idx", f)),
                      Contains("truncated: header promises 8 bytes of data, file has 5"));
    Bytes t = idx_file<std::uint8_t>(0x08, {2, 3}, {1, 2, 3, 4, 5, 6});
    t.insert(t.end(), {9, 9, 9});
    CHECK_THROWS_WITH(data::read_idx(raw("trail.idx", t)),
                      Contains("trail.idx: trailing garbage: 3 bytes after the 6 bytes of data"));
  }
  SECTION("truncated and trailing data, gzipped") {
    // 7,840,000 bytes promised, 1200 present: more than so small a gzip file can hold.
    Bytes images = idx_header(0x08, {10000, 28, 28});
    const Bytes some = noise(1200);
    images.insert(images.end(), some.begin(), some.end());
    write_gzip(path("t10k-images-idx3-ubyte.gz"), images);
    CHECK_THROWS_WITH(data::read_idx(path("t10k-images-idx3-ubyte.gz")),
                      Contains("t10k-images-idx3-ubyte.gz: truncated: header promises 7840000 bytes of data"));
    // A promise the file could keep, not kept: read, then found short.
    Bytes b = idx_header(0x08, {1000});
    b.insert(b.end(), some.begin(), some.begin() + 100);
    write_gzip(path("short.gz"), b);
    CHECK_THROWS_WITH(data::read_idx(path("short.gz")),
                      Contains("short.gz: truncated: header promises 1000 bytes of data, file has 100"));
    Bytes t = idx_file<std::int32_t>(0x0C, {2}, {1, 2});
    t.insert(t.end(), {9, 9, 9, 9, 9});
    write_gzip(path("trail.gz"), t);
    CHECK_THROWS_WITH(data::read_idx(path("trail.gz")),
                      Contains("trail.gz: trailing garbage: 5 bytes after the 8 bytes of data"));
  }
  SECTION("corrupt and cut-off gzip streams") {
    Bytes good = idx_header(0x08, {4000});
    const Bytes values = noise(4000, 7);
    good.insert(good.end(), values.begin(), values.end());
    write_gzip(path("good.gz"), good);
    CHECK(data::read_idx(path("good.gz")).size() == 4000);
    const Bytes gz = read_file(path("good.gz"));
    REQUIRE(gz.size() > 1000);

    Bytes bad_crc = gz;  // the trailer is CRC-32 then the size, 4 bytes each
    bad_crc[bad_crc.size() - 8] ^= 0xFF;
    write_file(path("crc.gz"), bad_crc);
    CHECK_THROWS_WITH(data::read_idx(path("crc.gz")), Contains("crc.gz: corrupt gzip stream"));

    Bytes bad_method = gz;  // the byte after the magic names the compression method, 8 = deflate
    bad_method[2] = 0x07;
    write_file(path("method.gz"), bad_method);
    CHECK_THROWS_WITH(data::read_idx(path("method.gz")), Contains("method.gz: corrupt gzip stream"));

    write_file(path("magic-only.gz"), {0x1F, 0x8B, 0x00, 0x01, 0x02});
    CHECK_THROWS_AS(data::read_idx(path("magic-only.gz")), DataError);
    CHECK_THROWS_WITH(data::read_idx(path("magic-only.gz")), Contains("magic-only.gz: "));

    const Bytes cut(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2));
    write_file(path("cut.gz"), cut);
    CHECK_THROWS_WITH(data::read_idx(path("cut.gz")),
                      Contains("cut.gz: truncated gzip stream (the file ends inside it): "
                               "header promises 4000 bytes of data, file has"));
  }
}

TEST_CASE("A header claiming 2^31 images is rejected before anything is allocated",
          "[data][idx][errors]") {
  TempDir dir;
  // 20 bytes claiming 2^31 x 28 x 28 ubyte images (1.7e12 bytes).
  Bytes huge = idx_header(0x08, {2147483648u, 28, 28});
  huge.insert(huge.end(), {1, 2, 3, 4});
  REQUIRE(huge.size() == 20);
  write_file(dir / "huge.idx", huge);
  write_gzip(dir / "huge.gz", huge);
  for (const char* name : {"huge.idx", "huge.gz"}) {
    INFO(name);
    CHECK_THROWS_WITH(data::read_idx(dir / name),
                      Contains("too large: the header claims 2147483648 x 28 x 28 elements") &&
                          Contains("limit of 4294967296"));
    CHECK(largest_allocation_in([&] { (void)data::read_idx(dir / name); }) < 64 * 1024);
  }
  // A product of sizes that overflows 64 bits.
  write_file(dir / "overflow.idx", idx_header(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}));
  CHECK_THROWS_WITH(data::read_idx(dir / "overflow.idx"), Contains("too large"));

  // Within the element limit, but more than the file holds: also refused before allocating.
  Bytes lying = idx_header(0x0E, {60000, 28, 28});  // 376 MB of float64 promised
  lying.insert(lying.end(), {1, 2, 3, 4});
  write_file(dir / "lying.idx", lying);
  write_gzip(dir / "lying.gz", lying);
  CHECK_THROWS_WITH(data::read_idx(dir / "lying.idx"),
                    Contains("truncated: header promises 376320000 bytes of data, file has 4"));
  CHECK_THROWS_WITH(data::read_idx(dir / "lying.gz"),
                    Contains("truncated: header promises 376320000 bytes of data, more than a gzip file"));
  CHECK(largest_allocation_in([&] { (void)data::read_idx(dir / "lying.idx"); }) < 64 * 1024);
  CHECK(largest_allocation_in([&] { (void)data::read_idx(dir / "lying.gz"); }) < 64 * 1024);
}

TEST_CASE("A gzip header promising more than the stream holds allocates with the data read",
          "[data][idx][errors]") {
  // 200 KB of noise in a gzip that could hold 206 MB: a promise of 150 MB passes the capacity
  // check, and used to be allocated (and zeroed) whole before the reader found it was not kept.
  TempDir dir;
  Bytes b = idx_header(0x08, {150'000'000u});
  const Bytes some = noise(200'000, 11);
  b.insert(b.end(), some.begin(), some.end());
  write_gzip(dir / "liar.gz", b);
  CHECK_THROWS_WITH(data::read_idx(dir / "liar.gz"),
                    Contains("liar.gz: truncated: header promises 150000000 bytes of data, "
                             "file has 200000"));
  CHECK(largest_allocation_in([&] { (void)data::read_idx(dir / "liar.gz"); }) < 4 * 1024 * 1024);

  // The same with float64 values: the growing buffer counts bytes, not elements.
  Bytes f = idx_header(0x0E, {10'000'000u});
  f.insert(f.end(), some.begin(), some.begin() + 100'003);
  write_gzip(dir / "liar64.gz", f);
  CHECK_THROWS_WITH(data::read_idx(dir / "liar64.gz"),
                    Contains("header promises 80000000 bytes of data, file has 100003"));
  CHECK(largest_allocation_in([&] { (void)data::read_idx(dir / "liar64.gz"); }) < 4 * 1024 * 1024);
}

TEST_CASE("Bytes after the end of a gzip stream are refused, as after a raw file's data",
          "[data][idx][errors]") {
  TempDir dir;
  const Bytes file = idx_file<std::uint8_t>(0x08, {2, 3}, {1, 2, 3, 4, 5, 6});
  write_gzip(dir / "good.gz", file);
  const Bytes gz = read_file(dir / "good.gz");
  REQUIRE(data::read_idx(dir / "good.gz").size() == 6);

  Bytes junk = gz;
  junk.insert(junk.end(), {'j', 'u', 'n', 'k'});
  write_file(dir / "junk.gz", junk);
  CHECK_THROWS_WITH(data::read_idx(dir / "junk.gz"),
                    Contains("junk.gz: trailing garbage: 4 bytes after the end of the gzip "
                             "stream"));
  Bytes zeros = gz;  // zero padding, which gzip -d accepts with a warning
  zeros.insert(zeros.end(), 600, 0);
  write_file(dir / "zeros.gz", zeros);
  CHECK_THROWS_WITH(data::read_idx(dir / "zeros.gz"), Contains("trailing garbage: 600 bytes"));

  // Two members read as one stream (cat a.gz b.gz), as gzip -d and Python's gzip read them.
  const auto half = static_cast<std::ptrdiff_t>(file.size() / 2);
  write_gzip(dir / "a.gz", Bytes(file.begin(), file.begin() + half));
  write_gzip(dir / "b.gz", Bytes(file.begin() + half, file.end()));
  Bytes both = read_file(dir / "a.gz");
  const Bytes second = read_file(dir / "b.gz");
  both.insert(both.end(), second.begin(), second.end());
  write_file(dir / "both.gz", both);
  const auto a = data::read_idx(dir / "both.gz");
  CHECK(a.dims == std::vector<std::uint32_t>{2, 3});
  CHECK(a.values<std::uint8_t>() == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6});
  // A second member after complete data is data after the data.
  Bytes extra = gz;
  extra.insert(extra.end(), second.begin(), second.end());
  write_file(dir / "extra.gz", extra);
  CHECK_THROWS_WITH(data::read_idx(dir / "extra.gz"),
                    Contains("extra.gz: trailing garbage: 9 bytes after the 6 bytes of data"));
}

TEST_CASE("A gzip stream cut anywhere is a truncated gzip stream, named as such",
          "[data][idx][errors]") {
  TempDir dir;
  write_gzip(dir / "whole.gz", idx_file<std::int16_t>(0x0B, {3}, {1, -2, 3}));
  const Bytes gz = read_file(dir / "whole.gz");
  REQUIRE(data::read_idx(dir / "whole.gz").size() == 3);
  // From the magic alone to all but the last byte of the size that closes the stream (cut in the
  // CRC-32 or size, the data is whole, and used to be accepted).
  for (std::size_t n = 2; n < gz.size(); ++n) {
    INFO("cut after " << n << " of " << gz.size() << " bytes");
    write_file(dir / "cut.gz", Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(n)));
    CHECK_THROWS_WITH(data::read_idx(dir / "cut.gz"),
                      Contains("cut.gz: truncated gzip stream (the file ends inside it)"));
  }
  // Cut after the 10-byte gzip header: this used to be an "empty file".
  write_file(dir / "header.gz", Bytes(gz.begin(), gz.begin() + 10));
  CHECK_THROWS_WITH(data::read_idx(dir / "header.gz"),
                    Contains("header.gz: truncated gzip stream (the file ends inside it): 0 bytes, "
                             "too short for an IDX header"));
  // A complete gzip stream of nothing is an empty file, and says it is gzip.
  write_gzip(dir / "nothing.gz", {});
  CHECK_THROWS_WITH(data::read_idx(dir / "nothing.gz"),
                    Contains("nothing.gz: empty file (an empty gzip stream), not an IDX file"));
}

TEST_CASE("A named pipe is refused as not a regular file, without waiting for a writer",
          "[data][idx][csv][errors]") {
  TempDir dir;
  const fs::path fifo = dir / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Opening a FIFO for reading blocks until a writer comes; the readers used to open it first.
  CHECK_THROWS_WITH(data::read_idx(fifo), Contains("pipe: cannot open: not a regular file"));
  CHECK_THROWS_WITH(data::read_csv(fifo), Contains("pipe: cannot open: not a regular file"));
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DESCENT_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define DESCENT_TEST_SANITIZED 1
#endif
#endif

namespace {

/// Runs f in a child process whose address space may grow by only `headroom` bytes; returns what
/// f threw (a DataError's message, or "std::bad_alloc" and the like), or "" when f returned.
template <class F>
std::string error_under_memory_limit(std::size_t headroom, F&& f) {
  return descent_test::in_child_process([&]() -> std::string {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0;
    statm >> pages;
    const auto limit = rlim_t(pages * std::size_t(::sysconf(_SC_PAGESIZE)) + headroom);
    const rlimit address_space{limit, limit};
    if (pages == 0 || ::setrlimit(RLIMIT_AS, &address_space) != 0) return "cannot set RLIMIT_AS";
    try {
      f();
    } catch (const DataError& e) {
      return e.what();
    } catch (const std::exception& e) {
      return std::string("not a DataError: ") + typeid(e).name() + ": " + e.what();
    }
    return "";
  });
}

}  // namespace

TEST_CASE("Running out of memory while reading is a DataError naming the file",
          "[data][idx][csv][errors]") {
#ifdef DESCENT_TEST_SANITIZED
  WARN("skipped: a sanitizer's allocator does not report an address-space limit as bad_alloc");
#else
  TempDir dir;
  // 64 MiB of zeros really in the stream (a 64 KiB file), read under a 24 MiB allowance.
  constexpr std::uint32_t size = 64u << 20;
  {
    gzFile gz = gzopen((dir / "zeros-idx1-ubyte.gz").string().c_str(), "wb1");
    REQUIRE(gz != nullptr);
    const Bytes header = idx_header(0x08, {size});
    REQUIRE(gzwrite(gz, header.data(), unsigned(header.size())) == int(header.size()));
    const Bytes zeros(1 << 20, 0);
    for (std::uint32_t i = 0; i < size / zeros.size(); ++i) {
      REQUIRE(gzwrite(gz, zeros.data(), unsigned(zeros.size())) == int(zeros.size()));
    }
    REQUIRE(gzclose(gz) == Z_OK);
  }
  const auto read_idx = [&] { (void)data::read_idx(dir / "zeros-idx1-ubyte.gz"); };
  CHECK_THAT(error_under_memory_limit(24 << 20, read_idx),
             Contains("zeros-idx1-ubyte.gz: not enough memory for the 67108864 bytes of data"));
  {
    gzFile gz = gzopen((dir / "zeros.csv.gz").string().c_str(), "wb1");
    REQUIRE(gz != nullptr);
    REQUIRE(gzwrite(gz, "x\n", 2) == 2);
    std::string lines;
    for (int i = 0; i < (1 << 19); ++i) lines += "0\n";
    for (int i = 0; i < 64; ++i) {
      REQUIRE(gzwrite(gz, lines.data(), unsigned(lines.size())) == int(lines.size()));
    }
    REQUIRE(gzclose(gz) == Z_OK);
  }
  const auto read_csv = [&] { (void)data::read_csv(dir / "zeros.csv.gz"); };
  CHECK_THAT(error_under_memory_limit(24 << 20, read_csv),
             Contains("zeros.csv.gz: not enough memory"));
#endif
}

// ---- MNIST-format directories ----------------------------------------------------------------

namespace {

void write_mnist(const TempDir& dir, const std::string& prefix, const std::vector<Bytes>& images,
                 const Bytes& labels, bool gz) {
  Bytes img = idx_header(0x08, {static_cast<std::uint32_t>(images.size()), 2, 2});
  for (const auto& image : images) img.insert(img.end(), image.begin(), image.end());
  const Bytes lab = idx_file<std::uint8_t>(0x08, {static_cast<std::uint32_t>(labels.size())}, labels);
  const std::string ext = gz ? ".gz" : "";
  const auto write = gz ? write_gzip : write_file;
  write(dir / (prefix + "-images-idx3-ubyte" + ext), img);
  write(dir / (prefix + "-labels-idx1-ubyte" + ext), lab);
}

}  // namespace

TEST_CASE("load_mnist reads a split into columns of pixels scaled to [0, 1]", "[data][mnist]") {
  const std::vector<Bytes> images{{0, 255, 51, 102}, {255, 0, 0, 0}, {1, 2, 3, 4}};
  const Bytes labels{7, 0, 9};
  for (const bool gz : {true, false}) {
    INFO((gz ? "gzipped" : "raw"));
    TempDir dir;
    write_mnist(dir, "t10k", images, labels, gz);
    const auto d = data::load_mnist<float>(dir.path(), data::Split::test);
    REQUIRE(d.size() == 3);
    REQUIRE(d.features() == 4);
    REQUIRE(d.targets() == 1);
    for (Eigen::Index j = 0; j < 3; ++j) {
      for (Eigen::Index i = 0; i < 4; ++i) CHECK(d.x(i, j) == float(images[std::size_t(j)][std::size_t(i)]) / 255.0f);
      CHECK(d.y(0, j) == float(labels[std::size_t(j)]));
    }
    CHECK(d.x(1, 0) == 1.0f);
    CHECK_THROWS_WITH(data::load_mnist<float>(dir.path(), data::Split::train),
                      Contains("no train images file") && Contains("train-images-idx3-ubyte.gz"));
  }
}

TEST_CASE("load_mnist rejects mismatched counts, bad labels and wrong types, naming the files",
          "[data][mnist][errors]") {
  TempDir dir;
  write_mnist(dir, "train", {{1, 2, 3, 4}, {5, 6, 7, 8}}, {1, 2, 3}, true);
  CHECK_THROWS_WITH(data::load_mnist<double>(dir.path(), data::Split::train),
                    Contains("train-images-idx3-ubyte.gz has 2 images but") &&
                        Contains("train-labels-idx1-ubyte.gz has 3 labels"));
  write_mnist(dir, "t10k", {{1, 2, 3, 4}, {5, 6, 7, 8}}, {1, 12}, true);
  CHECK_THROWS_WITH(data::load_mnist<double>(dir.path(), data::Split::test),
                    Contains("t10k-labels-idx1-ubyte.gz: label 12 of sample 1 is not in 0..9"));
  write_gzip(dir / "t10k-images-idx3-ubyte.gz", idx_file<float>(0x0D, {1, 1, 1}, {0.5f}));
  CHECK_THROWS_WITH(data::load_mnist<double>(dir.path(), data::Split::test),
                    Contains("t10k-images-idx3-ubyte.gz: expected ubyte images") && Contains("float32"));
  fs::remove(dir / "t10k-labels-idx1-ubyte.gz");
  CHECK_THROWS_WITH(data::load_mnist<double>(dir.path(), data::Split::test), Contains("no t10k labels file"));
  CHECK_THROWS_WITH(data::load_mnist<double>(dir / "missing", data::Split::test), Contains("not a directory"));
}

TEST_CASE("Fashion-MNIST's test split, when installed, has 10000 images of 784 pixels in [0, 1]",
          "[data][mnist][fashion]") {
  const fs::path dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(dir)) {
    WARN("skipped: " << dir << " is not installed (Debian package dataset-fashion-mnist)");
    return;
  }
  const auto d = data::load_mnist<float>(dir, data::Split::test);
  CHECK(d.size() == 10000);
  CHECK(d.features() == 784);
  CHECK(d.targets() == 1);
  CHECK(d.y.minCoeff() == 0.0f);
  CHECK(d.y.maxCoeff() == 9.0f);
  CHECK((d.y.array() == d.y.array().floor()).all());
  CHECK(d.x.minCoeff() == 0.0f);
  CHECK(d.x.maxCoeff() == 1.0f);
  std::set<float> classes(d.y.data(), d.y.data() + d.y.size());
  CHECK(classes.size() == 10);
}

// ---- CSV -----------------------------------------------------------------------------------

TEST_CASE("CSV: header, label column by name, trimming, quotes, CRLF, blank lines", "[data][csv]") {
  TempDir dir;
  write_text(dir / "iris.csv",
             "\xEF\xBB\xBF\"sepal length\", sepal width ,species,petal\r\n"
             "5.1, 3.5 ,0,1.4\r\n"
             "\r\n"
             "  4.9,\t3.0, 1 ,+1.5e0\r\n"
             "\"7\",-3.25,2,.5\n");
  const auto t = data::read_csv(dir / "iris.csv", {.label = "species"});
  CHECK(t.feature_names == std::vector<std::string>{"sepal length", "sepal width", "petal"});
  CHECK(t.label_name == "species");
  CHECK(t.rows == 3);
  CHECK(t.features == 3);
  CHECK(t.values == std::vector<double>{5.1, 3.5, 1.4, 4.9, 3.0, 1.5, 7, -3.25, 0.5});
  CHECK(t.labels == std::vector<double>{0, 1, 2});

  const auto d = data::load_csv<double>(dir / "iris.csv", {.label = "species"});
  REQUIRE(d.x.rows() == 3);
  REQUIRE(d.x.cols() == 3);
  CHECK(d.x(0, 1) == 4.9);  // sample 1 is column 1
  CHECK(d.x(2, 2) == 0.5);
  CHECK(d.y.rows() == 1);
  CHECK(d.y(0, 2) == 2.0);
}

TEST_CASE("CSV: label by index, no header, no label, another separator", "[data][csv]") {
  TempDir dir;
  write_text(dir / "plain.csv", "1;2;3\n4;5;6\n");
  const auto t = data::read_csv(dir / "plain.csv", {.header = false, .label = 0, .separator = ';'});
  CHECK(t.feature_names.empty());
  CHECK(t.values == std::vector<double>{2, 3, 5, 6});
  CHECK(t.labels == std::vector<double>{1, 4});
  const auto d = data::load_csv<float>(dir / "plain.csv", {.header = false, .separator = ';'});
  CHECK(d.features() == 3);
  CHECK(d.size() == 2);
  CHECK(d.targets() == 0);
  CHECK(d.x(2, 1) == 6.0f);
  const auto last = data::read_csv(dir / "plain.csv", {.header = false, .label = 2, .separator = ';'});
  CHECK(last.labels == std::vector<double>{3, 6});
  CHECK_THROWS_AS(data::CsvColumn(-1), std::invalid_argument);
}

TEST_CASE("CSV errors name the file, the line and the column", "[data][csv][errors]") {
  TempDir dir;
  const auto file = [&](const std::string& name, const std::string& text) {
    write_text(dir / name, text);
    return dir / name;
  };
  std::string text = "x1,x2,x3,x4,y\n";
  for (int line = 2; line <= 20; ++line) {
    text += line == 17 ? "1,2,abc,4,5\n" : "1,2,3,4,5\n";
  }
  CHECK_THROWS_AS(data::read_csv(file("data.csv", text), {.label = "y"}), DataError);
  CHECK_THROWS_WITH(data::read_csv(file("data.csv", text), {.label = "y"}),
                    Contains("data.csv:17: column \"x3\": \"abc\" is not a number"));

  std::string ragged = "a,b,c,d,e\n";
  for (int line = 2; line <= 10; ++line) ragged += line == 9 ? "1,2,3,4\n" : "1,2,3,4,5\n";
  CHECK_THROWS_WITH(data::read_csv(file("ragged.csv", ragged)), Contains("ragged.csv:9: 4 fields, expected 5"));
  CHECK_THROWS_WITH(data::read_csv(file("long.csv", "1,2\n3,4,5\n"), {.header = false}),
                    Contains("long.csv:2: 3 fields, expected 2"));

  CHECK_THROWS_WITH(data::read_csv(file("nohdr.csv", "1,2,3\n4,x,6\n"), {.header = false}),
                    Contains("nohdr.csv:2: column 1 (from 0): \"x\" is not a number"));
  CHECK_THROWS_WITH(data::read_csv(file("blank.csv", "a,b\n1,\n")), Contains("blank.csv:2: column \"b\": empty field"));
  CHECK_THROWS_WITH(data::read_csv(file("nan.csv", "a,b\n1,nan\n")),
                    Contains("nan.csv:2: column \"b\": \"nan\" is not a finite number"));
  CHECK_THROWS_WITH(data::read_csv(file("range.csv", "a\n1e999\n")), Contains("range.csv:2: column \"a\": \"1e999\" is out of range"));
  CHECK_THROWS_WITH(data::read_csv(file("junk.csv", "a\n1.5x\n")), Contains("\"1.5x\" is not a number"));
  CHECK_THROWS_WITH(data::read_csv(file("quote.csv", "\"a,b\n1\n")), Contains("quote.csv:1: column 0 (from 0): unterminated quote"));

  CHECK_THROWS_WITH(data::read_csv(file("empty.csv", "")), Contains("empty.csv: empty file"));
  CHECK_THROWS_WITH(data::read_csv(file("blanks.csv", "\n  \n\r\n")), Contains("blanks.csv: empty file"));
  CHECK_THROWS_WITH(data::read_csv(file("hdr.csv", "a,b\n")), Contains("hdr.csv: no data rows"));
  CHECK_THROWS_WITH(data::read_csv(dir / "missing.csv"), Contains("missing.csv: cannot open"));

  CHECK_THROWS_WITH(data::read_csv(file("lbl.csv", "a,b\n1,2\n"), {.label = "y"}),
                    Contains("lbl.csv: no column named \"y\"") && Contains("\"a\", \"b\""));
  CHECK_THROWS_WITH(data::read_csv(file("lbl.csv", "a,b\n1,2\n"), {.label = 5}),
                    Contains("label column 5 is out of range: the file has 2 columns"));
  CHECK_THROWS_WITH(data::read_csv(file("only.csv", "y\n1\n"), {.label = "y"}), Contains("no feature columns"));
  CHECK_THROWS_AS(data::read_csv(file("lbl.csv", "a,b\n1,2\n"), {.header = false, .label = "a"}),
                  std::invalid_argument);
  CHECK_THROWS_WITH(data::load_csv<float>(file("big.csv", "a,b\n1,1e300\n")),
                    Contains("big.csv") && Contains("column \"b\": 1e+300 is too large"));
  CHECK(data::load_csv<double>(dir / "big.csv").x(1, 0) == 1e300);
}

TEST_CASE("CSV messages quote, escape and cut the text they show", "[data][csv][errors]") {
  TempDir dir;
  const auto file = [&](const std::string& name, const std::string& text) {
    write_text(dir / name, text);
    return dir / name;
  };
  const auto message = [](const fs::path& path, const data::CsvOptions& options = {}) {
    try {
      (void)data::read_csv(path, options);
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // A 10 MB field used to be copied whole into the message.
  const std::string huge(10'000'000, '7');
  const std::string m = message(file("huge.csv", "a,b\n1,x" + huge + "\n"));
  REQUIRE(m.size() < 200);  // first: a failure prints the message
  CHECK_THAT(m, Contains("huge.csv:2: column \"b\": \"x777777777") &&
                    Contains("... (10000001 bytes) is not a number"));
  // Control bytes are escaped; a NUL byte is binary data.
  CHECK_THAT(message(file("ctrl.csv", "a\n1\x01\x7f\n")),
             Contains("\"1\\x01\\x7f\" is not a number"));
  CHECK_THAT(message(file("nul.csv", "a,b\n1,2\n3,4\x00" "5\n" + std::string(1, '\0'))),
             Contains("nul.csv:3: a NUL byte at byte 4 of the line: binary data, not CSV text"));
  // Column names from the header row are untrusted text too, and so is the list of them.
  const std::string long_name(5000, 'n');
  REQUIRE(message(file("name.csv", long_name + "\nx\n")).size() < 200);
  CHECK_THAT(message(file("name.csv", long_name + "\nx\n")), Contains("column \"nnnnnnnn"));
  std::string many = "c0";
  for (int c = 1; c < 1000; ++c) many += ",c" + std::to_string(c);
  const std::string listed = message(file("many.csv", many + "\n" + std::string(1999, ',') + "\n"),
                                     {.label = "y"});
  REQUIRE(listed.size() < 300);
  CHECK_THAT(listed, Contains("no column named \"y\"") && Contains("\"c7\" and 992 more"));
}

TEST_CASE("CSV lines may end in CR alone, as pandas and numpy read them", "[data][csv]") {
  TempDir dir;
  write_text(dir / "mac.csv", "a,b\r1,2\r3,4\r");
  const auto t = data::read_csv(dir / "mac.csv");
  CHECK(t.feature_names == std::vector<std::string>{"a", "b"});
  CHECK(t.rows == 2);
  CHECK(t.values == std::vector<double>{1, 2, 3, 4});
  write_text(dir / "mixed.csv", "a,b\r\n1,2\r\r3,4\n5,6\r7,8");
  const auto mixed = data::read_csv(dir / "mixed.csv");
  CHECK(mixed.rows == 4);
  CHECK(mixed.values == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
  write_text(dir / "bad.csv", "a,b\r1,2\r3,x\r");
  CHECK_THROWS_WITH(data::read_csv(dir / "bad.csv"), Contains("bad.csv:3: column \"b\": \"x\""));
}

TEST_CASE("CSV: gzip-compressed files are read, other binary input is named", "[data][csv]") {
  TempDir dir;
  const std::string text = "x1,x2,y\n1,2,0\n3.5,-4,1\n";
  write_text(dir / "plain.csv", text);
  write_gzip(dir / "data.csv.gz", Bytes(text.begin(), text.end()));
  const auto plain = data::load_csv<double>(dir / "plain.csv", {.label = "y"});
  const auto gz = data::load_csv<double>(dir / "data.csv.gz", {.label = "y"});
  CHECK(gz.x == plain.x);
  CHECK(gz.y == plain.y);

  const Bytes compressed = read_file(dir / "data.csv.gz");
  write_file(dir / "cut.csv.gz", Bytes(compressed.begin(), compressed.end() - 3));
  CHECK_THROWS_WITH(data::read_csv(dir / "cut.csv.gz"),
                    Contains("cut.csv.gz: truncated gzip stream (the file ends inside it)"));
  Bytes trailing = compressed;
  trailing.push_back('\n');
  write_file(dir / "trailing.csv.gz", trailing);
  CHECK_THROWS_WITH(data::read_csv(dir / "trailing.csv.gz"),
                    Contains("trailing.csv.gz: trailing garbage: 1 bytes after the end of the "
                             "gzip"));
  Bytes corrupt = compressed;
  corrupt[corrupt.size() - 8] ^= 0xFF;  // the CRC-32
  write_file(dir / "corrupt.csv.gz", corrupt);
  CHECK_THROWS_WITH(data::read_csv(dir / "corrupt.csv.gz"),
                    Contains("corrupt.csv.gz: corrupt gzip stream"));

  // An MNIST file given to load_csv: gzipped or not, it is binary data, not CSV text.
  const Bytes idx = idx_file<std::uint8_t>(0x08, {64, 5}, noise(320, 5));
  write_gzip(dir / "labels.gz", idx);
  write_file(dir / "labels.idx", idx);
  CHECK_THROWS_WITH(data::load_csv<float>(dir / "labels.gz", {.label = 64}),
                    Contains("labels.gz:1: a NUL byte at byte 1 of the line: binary data"));
  CHECK_THROWS_WITH(data::load_csv<float>(dir / "labels.idx"),
                    Contains("binary data, not CSV text"));
  // Compressed twice, or another format: named, not parsed.
  write_gzip(dir / "twice.csv.gz", compressed);
  CHECK_THROWS_WITH(data::read_csv(dir / "twice.csv.gz"),
                    Contains("twice.csv.gz: gzip-compressed data, not CSV text"));
  CHECK_THROWS_WITH(data::parse_csv(std::string(compressed.begin(), compressed.end()), "bytes"),
                    Contains("bytes: gzip-compressed data, not CSV text"));
  CHECK_THROWS_WITH(data::parse_csv("PK\x03\x04\x14\x00", "a.zip"),
                    Contains("a.zip: a zip archive"));
  CHECK_THROWS_WITH(data::parse_csv("BZh91AY&SY\x01", "a.bz2"), Contains("bzip2-compressed data"));
  CHECK_THROWS_WITH(data::parse_csv(std::string("\xFD" "7zXZ\0\0", 7), "a.xz"),
                    Contains("xz-compressed"));
  CHECK_THROWS_WITH(data::parse_csv("\x28\xB5\x2F\xFD\x01", "a.zst"), Contains("zstd-compressed"));
  CHECK_THROWS_WITH(data::parse_csv(std::string("\xFF\xFE" "a\0\n\0", 6), "u16.csv"),
                    Contains("u16.csv: UTF-16 text (save it as UTF-8)"));
  // A column that only begins like bzip2's magic is a column.
  CHECK(data::parse_csv("BZh\n1\n", "bzh.csv").feature_names == std::vector<std::string>{"BZh"});
}

// ---- scaling -------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("MinMaxScaler fits per feature on one dataset and applies to another",
                   "[data][scale]", float, double) {
  using S = TestType;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  data::Dataset<S> train{M(3, 4), M(1, 4)};
  train.x << 0, 5, 10, 2.5,  //
      -1, 1, 0, 0,           //
      7, 7, 7, 7;            // constant
  train.y << 0, 1, 0, 1;
  data::Dataset<S> test{M(3, 2), M(1, 2)};
  test.x << 20, -5, 3, -3, 7, 8;
  const M original = train.x;

  data::MinMaxScaler<S> scaler;
  CHECK_FALSE(scaler.fitted());
  CHECK_THROWS_AS(scaler.transform(test), std::logic_error);
  scaler.fit(train);
  CHECK(scaler.fitted());
  CHECK(scaler.data_min()(0) == S(0));
  CHECK(scaler.data_max()(0) == S(10));
  scaler.transform(train);
  CHECK(train.x.row(0).minCoeff() == S(0));
  CHECK(train.x.row(0).maxCoeff() == S(1));
  CHECK(train.x(0, 3) == Approx(0.25));
  CHECK(train.x(1, 1) == S(1));
  CHECK((train.x.row(2).array() == S(0)).all());  // constant: low, not NaN
  scaler.transform(test);
  CHECK(test.x(0, 0) == Approx(2.0));  // train's range, not test's
  CHECK(test.x(1, 0) == Approx(2.0));
  CHECK(test.x(1, 1) == Approx(-1.0));
  CHECK(test.x(2, 1) == Approx(1.0));
  scaler.inverse_transform(train.x);
  CHECK(train.x.isApprox(original));

  M wrong(2, 3);
  CHECK_THROWS_WITH(scaler.transform(wrong), Contains("x has 2 features (rows), the scaler was fitted on 3"));
  CHECK_THROWS_AS(data::MinMaxScaler<S>(S(1), S(1)), std::invalid_argument);
  CHECK_THROWS_AS(scaler.fit(M(3, 0)), std::invalid_argument);

  data::MinMaxScaler<S> wide(S(-1), S(1));
  M x = original;
  wide.fit(x).transform(x);
  CHECK(x.row(0).minCoeff() == S(-1));
  CHECK(x.row(0).maxCoeff() == S(1));

  data::Dataset<S> again{original, M()};
  const auto fitted = data::scale_to_unit(again);
  CHECK(again.x.row(1).minCoeff() == S(0));
  CHECK(again.x.row(1).maxCoeff() == S(1));
  CHECK(fitted.data_max()(1) == S(1));
}

TEMPLATE_TEST_CASE("Standardizer centres and scales each feature, and leaves zero variance finite",
                   "[data][scale]", float, double) {
  using S = TestType;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  std::mt19937 rng(3);
  std::normal_distribution<double> normal(5.0, 3.0);
  M x(3, 500);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    x(0, j) = S(normal(rng));
    x(1, j) = S(1000 + 0.01 * normal(rng));
    x(2, j) = S(0.1);  // constant, and 0.1 is not exact in binary
  }
  const M original = x;
  data::Standardizer<S> s;
  CHECK_THROWS_AS(s.transform(x), std::logic_error);
  s.fit(x);
  s.transform(x);
  for (Eigen::Index i = 0; i < 2; ++i) {
    const double mean = double(x.row(i).mean());
    const double var = double((x.row(i).array() - S(mean)).square().mean());
    // Feature 1 (1000 + 0.03 noise) is near float's resolution: 6e-5 / 0.03 = 2e-3 of a stddev.
    const double margin = std::is_same_v<S, float> ? 5e-3 : 1e-9;
    CHECK(mean == Approx(0).margin(margin));
    CHECK(var == Approx(1).epsilon(margin));
  }
  CHECK(s.scale()(2) == S(1));
  CHECK(x.row(2).cwiseAbs().maxCoeff() < S(1e-6));
  CHECK(x.allFinite());

  M other(3, 1);
  other << s.mean()(0) + 2 * s.scale()(0), s.mean()(1), S(0.1);
  s.transform(other);
  CHECK(other(0, 0) == Approx(2.0).epsilon(1e-5));  // measured in the fitted data's units
  CHECK(other(1, 0) == Approx(0).margin(1e-3));

  s.inverse_transform(x);
  CHECK(x.isApprox(original, S(1e-4)));
  M four(4, 1);
  CHECK_THROWS_WITH(s.transform(four), Contains("x has 4 features"));
  CHECK_THROWS_AS(s.fit(M(3, 0)), std::invalid_argument);
}

TEMPLATE_TEST_CASE("Scalers refuse NaN and infinity in fit, naming the feature and the sample",
                   "[data][scale][errors]", float, double) {
  using S = TestType;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  M x(3, 4);
  x << 0, 1, 2, 3,  //
      4, 5, 6, 7,   //
      8, 9, 10, 11;
  data::Standardizer<S> standardizer;
  data::MinMaxScaler<S> minmax;
  standardizer.fit(x);
  minmax.fit(x);
  const auto mean = standardizer.mean();
  const auto data_min = minmax.data_min();
  for (const S bad : {std::numeric_limits<S>::quiet_NaN(), std::numeric_limits<S>::infinity(),
                      -std::numeric_limits<S>::infinity()}) {
    M y = x;
    y(1, 2) = bad;
    INFO(double(bad));
    // Standardizer::fit used to give feature 1 a NaN mean: NaN for every sample, silently.
    CHECK_THROWS_AS(standardizer.fit(y), std::invalid_argument);
    CHECK_THROWS_WITH(standardizer.fit(y),
                      Contains("Standardizer::fit: x(1, 2) is") &&
                          Contains("feature 1 of sample 2 is not finite"));
    CHECK_THROWS_WITH(minmax.fit(y), Contains("MinMaxScaler::fit: x(1, 2) is") &&
                                         Contains("feature 1 of sample 2 is not finite"));
    CHECK(standardizer.mean() == mean);  // a refused fit changes nothing
    CHECK(minmax.data_min() == data_min);
  }
  M nan = x;
  nan(2, 3) = std::numeric_limits<S>::quiet_NaN();
  CHECK_THROWS_WITH(standardizer.fit(nan), Contains("x(2, 3) is nan"));

  // Finite values whose range or variance does not fit the type.
  M wide(1, 2);
  wide << -std::numeric_limits<S>::max(), std::numeric_limits<S>::max();
  CHECK_THROWS_WITH(minmax.fit(wide), Contains("feature 0 spans") && Contains("too wide"));
  CHECK(minmax.data_min() == data_min);
  const S max = std::numeric_limits<S>::max();
  CHECK_THROWS_AS(data::MinMaxScaler<S>(-max, max), std::invalid_argument);
  if constexpr (std::is_same_v<S, double>) {
    CHECK_THROWS_WITH(standardizer.fit(wide), Contains("feature 0: its values are too large"));
  } else {  // float's extremes are ordinary numbers in double
    standardizer.fit(wide);
    CHECK(std::isfinite(standardizer.scale()(0)));
  }
}

// ---- splits, batches, gather -----------------------------------------------------------------

namespace {

/// n samples; x(0, j) = j identifies each, x(1, j) = -j, y(0, j) = 2j.
data::Dataset<double> numbered(Eigen::Index n) {
  data::Dataset<double> d{MatrixD(2, n), MatrixD(1, n)};
  for (Eigen::Index j = 0; j < n; ++j) {
    d.x(0, j) = double(j);
    d.x(1, j) = -double(j);
    d.y(0, j) = 2.0 * double(j);
  }
  return d;
}

std::vector<Eigen::Index> ids(const data::Dataset<double>& d) {
  std::vector<Eigen::Index> out;
  for (Eigen::Index j = 0; j < d.size(); ++j) out.push_back(static_cast<Eigen::Index>(d.x(0, j)));
  return out;
}

}  // namespace

TEST_CASE("train_validation_split: sizes, every sample once, reproducible per seed", "[data][split]") {
  const auto d = numbered(100);
  const auto [train, validation] = data::train_validation_split(d, 0.2, 42);
  CHECK(train.size() == 80);
  CHECK(validation.size() == 20);
  std::vector<Eigen::Index> all = ids(train);
  const auto v = ids(validation);
  all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  std::vector<Eigen::Index> expected(100);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(all == expected);
  CHECK(train.y.isApprox(2 * train.x.row(0)));  // targets travel with their samples
  CHECK(validation.x.row(1).isApprox(-validation.x.row(0)));
  CHECK(ids(train) != std::vector<Eigen::Index>(expected.begin() + 20, expected.end()));  // shuffled

  const auto [train2, validation2] = data::train_validation_split(d, 0.2, 42);
  CHECK(ids(validation2) == ids(validation));
  CHECK(ids(train2) == ids(train));
  const auto [train3, validation3] = data::train_validation_split(d, 0.2, 43);
  CHECK(ids(validation3) != ids(validation));

  CHECK(data::train_validation_split(numbered(3), 0.01, 1).second.size() == 1);   // at least one
  CHECK(data::train_validation_split(numbered(3), 0.99, 1).first.size() == 1);    // one left to train
  CHECK(data::train_validation_split(numbered(10), 0.25, 1).second.size() == 3);  // round(2.5)

  for (const double bad : {0.0, 1.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    CHECK_THROWS_WITH(data::train_validation_split(d, bad, 1), Contains("validation_fraction must be in (0, 1)"));
  }
  CHECK_THROWS_WITH(data::train_validation_split(numbered(1), 0.5, 1), Contains("at least 2 samples"));
  data::Dataset<double> mismatched{MatrixD(2, 5), MatrixD(1, 4)};
  CHECK_THROWS_AS(data::train_validation_split(mismatched, 0.5, 1), std::invalid_argument);

  // The same split as indices (what the Trainer's validation_split uses), errors naming it.
  const auto split = data::validation_split_indices(100, 0.2, 42);
  CHECK(split.train == ids(train));
  CHECK(split.validation == ids(validation));
  CHECK_THROWS_WITH(data::validation_split_indices(1, 0.5, 1),
                    Contains("descent::data::validation_split_indices: ") &&
                        Contains("at least 2 samples"));
}

TEST_CASE("Batches cover every index once per epoch, and differ between epochs and seeds",
          "[data][batches]") {
  data::Batches batches(10, 3, 7);
  CHECK(batches.count() == 4);
  CHECK(batches.samples() == 10);
  std::vector<std::vector<Eigen::Index>> orders;
  for (int epoch = 0; epoch < 5; ++epoch) {
    CHECK(batches.epoch() == std::uint64_t(epoch));
    std::vector<Eigen::Index> seen;
    for (Eigen::Index b = 0; b < batches.count(); ++b) {
      const auto batch = batches.batch(b);
      CHECK(batch.size() == (b < 3 ? 3u : 1u));
      seen.insert(seen.end(), batch.begin(), batch.end());
    }
    orders.push_back(seen);
    std::sort(seen.begin(), seen.end());
    std::vector<Eigen::Index> expected(10);
    std::iota(expected.begin(), expected.end(), 0);
    CHECK(seen == expected);
    batches.next_epoch();
  }
  CHECK(std::set<std::vector<Eigen::Index>>(orders.begin(), orders.end()).size() == orders.size());

  data::Batches same(10, 3, 7), other(10, 3, 8);
  CHECK(std::vector<Eigen::Index>(same.order().begin(), same.order().end()) == orders[0]);
  CHECK(std::vector<Eigen::Index>(other.order().begin(), other.order().end()) != orders[0]);
  same.set_epoch(3);  // resuming at an epoch gives that epoch's order
  CHECK(std::vector<Eigen::Index>(same.order().begin(), same.order().end()) == orders[3]);
  CHECK(data::epoch_permutation(10, 7, 2) == orders[2]);

  data::Batches full(5, 64, 1);  // batch_size above the dataset: one full batch
  CHECK(full.count() == 1);
  CHECK(full.batch(0).size() == 5);
  CHECK(allocations_in([&] { full.next_epoch(); }) == 0);

  // A huge batch_size used to overflow (samples + batch_size - 1) into no batches at all.
  const data::Batches huge(10, std::numeric_limits<Eigen::Index>::max(), 1);
  CHECK(huge.count() == 1);
  CHECK(huge.batch(0).size() == 10);
  CHECK(data::Batches(10, 5, 1).count() == 2);
  CHECK(data::Batches(11, 5, 1).count() == 3);

  CHECK_THROWS_WITH(data::Batches(10, 0, 1), Contains("batch_size must be >= 1, got 0"));
  CHECK_THROWS_WITH(data::Batches(0, 4, 1), Contains("samples must be >= 1"));
  CHECK_THROWS_AS(batches.batch(4), std::out_of_range);
  CHECK_THROWS_AS(batches.batch(-1), std::out_of_range);
}

TEST_CASE("gather copies the chosen columns into pre-sized buffers without allocating",
          "[data][gather]") {
  const auto d = numbered(50);
  data::Batches batches(50, 16, 3);
  MatrixD xb(2, 16), yb(1, 16);
  for (Eigen::Index b = 0; b < batches.count(); ++b) {
    const auto idx = batches.batch(b);
    const auto k = static_cast<Eigen::Index>(idx.size());
    CHECK(allocations_in([&] { data::gather(d, idx, xb.leftCols(k), yb.leftCols(k)); }) == 0);
    for (Eigen::Index j = 0; j < k; ++j) {
      const Eigen::Index i = idx[std::size_t(j)];
      CHECK(xb.col(j) == d.x.col(i));
      CHECK(yb(0, j) == d.y(0, i));
    }
  }
  CHECK(batches.batch(batches.count() - 1).size() == 2);  // 50 = 3 * 16 + 2

  const std::vector<Eigen::Index> picks{4, 4, 0};
  MatrixD x3(2, 3), y3(1, 3);
  data::gather(d, picks, x3, y3);
  CHECK(x3.row(0) == Eigen::RowVector3d(4, 4, 0));
  CHECK(y3.row(0) == Eigen::RowVector3d(8, 8, 0));

  MatrixD wrong(3, 3);
  CHECK_THROWS_WITH(data::gather(d, picks, wrong, y3), Contains("x_out is 3 x 3, expected 2 x 3"));
  MatrixD y_short(1, 2);
  CHECK_THROWS_WITH(data::gather(d, picks, x3, y_short), Contains("y_out is 1 x 2, expected 1 x 3"));
  const std::vector<Eigen::Index> outside{0, 50};
  MatrixD x2(2, 2), y2(1, 2);
  CHECK_THROWS_WITH(data::gather(d, outside, x2, y2), Contains("index 50 is outside a dataset of 50 samples"));

  const auto s = data::subset(d, picks);
  CHECK(s.x == x3);
  CHECK(s.y == y3);

  // Any type with matrices x and y gathers the same way (the Trainer's data need not be a Dataset).
  struct Plain {
    MatrixD x, y;
  } plain{d.x, d.y};
  MatrixD x3_plain(2, 3), y3_plain(1, 3);
  data::gather(plain, picks, x3_plain, y3_plain);
  CHECK(x3_plain == x3);
  CHECK(y3_plain == y3);
}

TEST_CASE("subset(d, n) keeps the first n samples", "[data][subset]") {
  const auto d = numbered(10);
  const auto s = data::subset(d, 4);
  CHECK(s.size() == 4);
  CHECK(ids(s) == std::vector<Eigen::Index>{0, 1, 2, 3});
  CHECK(s.y(0, 3) == 6.0);
  CHECK(data::subset(d, 0).size() == 0);
  CHECK_THROWS_WITH(data::subset(d, 11), Contains("n must be in [0, 10], got 11"));
  CHECK_THROWS_AS(data::subset(d, -1), std::invalid_argument);
  data::Dataset<float> unlabelled{MatrixF::Ones(2, 5), MatrixF()};
  CHECK(data::subset(unlabelled, 3).y.rows() == 0);
  CHECK(data::subset(unlabelled, 3).y.cols() == 3);
}

TEST_CASE("one_hot turns class indices into columns with a single 1", "[data][one_hot]") {
  Eigen::RowVectorXf labels(4);
  labels << 2, 0, 1, 2;
  const MatrixF h = data::one_hot(labels, 3);
  MatrixF expected(3, 4);
  expected << 0, 1, 0, 0,  //
      0, 0, 1, 0,          //
      1, 0, 0, 1;
  CHECK(h == expected);
  labels(1) = 3.5f;
  CHECK_THROWS_WITH(data::one_hot(labels, 5), Contains("labels(0, 1) = 3.5 is not a class index in [0, 5)"));
  labels(1) = 3;
  CHECK_THROWS_WITH(data::one_hot(labels, 3), Contains("labels(0, 1) = 3"));
  labels(1) = -1;
  CHECK_THROWS_AS(data::one_hot(labels, 3), std::invalid_argument);
  labels(1) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(data::one_hot(labels, 3), std::invalid_argument);
  labels(1) = 1e30f;
  CHECK_THROWS_AS(data::one_hot(labels, 3), std::invalid_argument);
  CHECK_THROWS_WITH(data::one_hot(labels, 0), Contains("classes must be >= 1"));
  CHECK_THROWS_AS(data::one_hot(MatrixF(2, 2), 3), std::invalid_argument);
}
