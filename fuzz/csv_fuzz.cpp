// Fuzzes the CSV reader. The first byte picks the options (bit 0 header or not; bits 1-2 no
// label, a label by index (bits 4-5) or by name; bits 6-7 the separator) and, with bit 3, that
// the rest goes through a file and read_csv instead of parse_csv: as it is when it starts with the
// gzip magic (a fuzzed gzip stream), gzip-compressed here otherwise, and then read_csv must agree
// with parse_csv on the same text: the same table, or the same error. Either way the result is a
// consistent table or a DataError (std::invalid_argument for options that contradict each other);
// nothing else.

#include <descent/data/csv.hpp>

#include "gzip_bytes.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include <unistd.h>

namespace {

// What reading gave: "table" and its contents, or the error's kind and its message after `name`.
template <class Read>
std::string outcome(const std::string& name, const descent::data::CsvOptions& options,
                    Read&& read) {
  try {
    const descent::data::CsvTable table = read();
    const bool label = !options.label.none();
    if (table.rows == 0 || table.values.size() != table.rows * table.features ||
        table.labels.size() != (label ? table.rows : 0) ||
        (options.header && table.feature_names.size() != table.features)) {
      std::abort();  // the table contradicts itself
    }
    std::string out = "table";
    for (const auto& n : table.feature_names) out += "|" + n;
    out += "|" + table.label_name;
    for (const double v : table.values) out += "|" + descent::detail::format_number(v);
    for (const double v : table.labels) out += "|" + descent::detail::format_number(v);
    return out;
  } catch (const descent::data::DataError& e) {
    const std::string what = e.what();
    if (what.compare(0, name.size(), name) != 0) std::abort();  // the message must name the source
    return "DataError" + what.substr(name.size());
  } catch (const std::invalid_argument& e) {  // a name label without a header row
    return std::string("invalid_argument: ") + e.what();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const unsigned pick = bytes[0];
  const std::string_view text(reinterpret_cast<const char*>(bytes + 1), size - 1);
  descent::data::CsvOptions options;
  options.header = (pick & 1) != 0;
  switch ((pick >> 1) & 3) {
    case 0: break;
    case 1: options.label = (pick >> 4) & 3; break;
    case 2: options.label = "y"; break;
    case 3: options.label = "label"; break;
  }
  options.separator = ",;\t|"[(pick >> 6) & 3];
  const std::string source = "fuzz.csv";
  const std::string parsed =
      outcome(source, options, [&] { return descent::data::parse_csv(text, source, options); });
  if ((pick & 8) == 0) return 0;

  static const std::string path =
      (std::filesystem::temp_directory_path() / ("descent_fuzz_csv." + std::to_string(::getpid())))
          .string();
  const bool fuzzed_gzip = descent::data::detail::has_gzip_magic(text);
  const std::string file = fuzzed_gzip ? std::string(text) : gzip_bytes(text);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(file.data(), 1, file.size(), f) != file.size() || std::fclose(f) != 0) {
    std::abort();
  }
  const std::string read =
      outcome(path, options, [&] { return descent::data::read_csv(path, options); });
  std::filesystem::remove(path);
  if (!fuzzed_gzip && read != parsed) std::abort();  // the gzip file reads as its text does
  return 0;
}
