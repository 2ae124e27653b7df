// Fuzzes the CSV parser. The first byte picks the options (header or not; no label, a label by
// index or by name; the separator), the rest is the file. It must return a consistent table or
// throw DataError (std::invalid_argument for options that contradict each other); nothing else.

#include <descent/data/csv.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

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
  try {
    const auto table = descent::data::parse_csv(text, "fuzz.csv", options);
    const bool label = !options.label.none();
    if (table.rows == 0 || table.values.size() != table.rows * table.features ||
        table.labels.size() != (label ? table.rows : 0) ||
        (options.header && table.feature_names.size() != table.features)) {
      std::abort();  // the table contradicts itself
    }
  } catch (const descent::data::DataError&) {
  } catch (const std::invalid_argument&) {  // a name label without a header row
  }
  return 0;
}
