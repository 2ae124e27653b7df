// Fuzzes read_idx with arbitrary bytes, raw or (when they start 1f 8b) gzip-compressed.
// It must return an array that matches its header or throw DataError; nothing else.

#include <descent/data/idx.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  // read_idx takes a path (it measures the file before it allocates), so the input goes to a file.
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("descent_fuzz_idx." + std::to_string(::getpid())))
          .string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes, 1, size, f) != size || std::fclose(f) != 0) std::abort();
  try {
    const auto array = descent::data::read_idx(path);
    std::size_t product = 1;
    for (const auto d : array.dims) product *= d;
    if (array.dims.empty() || array.size() != product) std::abort();  // header and data disagree
    (void)array.as<double>();
  } catch (const descent::data::DataError&) {
  }
  std::filesystem::remove(path);
  return 0;
}
