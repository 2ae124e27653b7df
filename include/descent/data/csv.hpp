#pragma once
// Reader for numeric CSV files: an optional header row of names, one optional label column (by
// name or by 0-based index), every other column a feature. Fields are trimmed of spaces and tabs
// and may be double-quoted; blank lines are skipped; the separator is configurable. Lines end in
// \n, \r\n or a lone \r (old Mac files), in any mix, as pandas.read_csv and numpy.loadtxt
// read them. A gzip-compressed file (data.csv.gz, found by its magic 1f 8b, not its name) is read
// through zlib.
//
//   auto table = descent::data::read_csv("iris.csv", {.label = "species"});
//
// Problems are DataErrors naming the file, the line and the column, with the text in question
// quoted, escaped and cut to 40 bytes:
//   data.csv:17: column "x3": "abc" is not a number
//   data.csv:9: 4 fields, expected 5
// Binary input is named for what it is: a zip, bzip2, xz or zstd archive, UTF-16 text, or any
// file with a NUL byte. descent::data::load_csv (dataset.hpp) turns the table into a Dataset.

#include <descent/data/error.hpp>
#include <descent/data/input.hpp>
#include <descent/detail/from_chars.hpp>
#include <descent/error.hpp>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace descent::data {

/// A column of a CSV file: none, a 0-based index, or a name from the header row.
class CsvColumn {
 public:
  /// No column.
  CsvColumn() = default;
  /// The column at 0-based `index`; a negative index throws std::invalid_argument.
  // clang-format off
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  CsvColumn(I index) {  // implicit, so that {.label = 2} and {.label = "y"} read naturally
    // clang-format on
    if constexpr (std::is_signed_v<I>) {
      if (index < 0) {
        throw InvalidArgument("descent::data::CsvColumn: index must be >= 0, got " +
                              std::to_string(index));
      }
    }
    m_column = static_cast<std::size_t>(index);
  }
  /// The column whose header-row name is `name`.
  CsvColumn(std::string name) : m_column(std::move(name)) {}
  /// The column whose header-row name is `name`.
  CsvColumn(const char* name) : m_column(std::string(name)) {}

  /// True when no column is chosen.
  bool none() const { return std::holds_alternative<std::monostate>(m_column); }
  /// The column's index, or nullptr when it is chosen by name or not at all.
  const std::size_t* index() const { return std::get_if<std::size_t>(&m_column); }
  /// The column's name, or nullptr when it is chosen by index or not at all.
  const std::string* name() const { return std::get_if<std::string>(&m_column); }

 private:
  std::variant<std::monostate, std::size_t, std::string> m_column;
};

/// How to read a CSV file.
struct CsvOptions {
  bool header = true;    ///< the first (non-blank) line holds the column names
  CsvColumn label = {};  ///< the target column; by default none, and every column is a feature
  char separator = ',';  ///< between the fields of a line
};

/// A CSV file's numbers. Sample i's features are values[i * features, (i + 1) * features), so the
/// values are a column-major (features x rows) matrix: one column per sample.
struct CsvTable {
  std::vector<std::string> feature_names;  ///< from the header row; empty without one
  std::string label_name;                  ///< the label column's name, if it has one
  std::size_t rows = 0;                    ///< samples: the lines after the header
  std::size_t features = 0;    ///< numbers per sample: the columns, less the label column
  std::vector<double> values;  ///< features x rows, column-major
  std::vector<double> labels;  ///< one per row; empty without a label column
};

namespace detail {

inline std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

class CsvParser {
 public:
  CsvParser(std::string_view source, const CsvOptions& options)
      : m_source(source), m_options(options) {}

  CsvTable parse(std::string_view text) {
    if (const char* kind = binary_kind(text)) fail_file(std::string(kind) + ", not CSV text");
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
    const char sep = m_options.separator;
    if (sep == '"' || sep == '\n' || sep == '\r' || sep == ' ' || sep == '\0') {
      throw InvalidArgument(
          "descent::data::read_csv: separator cannot be a quote, a newline, a space or NUL");
    }
    if (m_options.label.name() && !m_options.header) {
      throw InvalidArgument("descent::data::read_csv: label " +
                            quote_excerpt(*m_options.label.name()) +
                            " is a column name, but header is false");
    }
    CsvTable table;
    std::vector<std::string> fields;
    std::size_t columns = 0;
    std::size_t label = 0;
    bool has_label = false;
    bool first = true;
    while (next_line(text)) {
      if (trim(m_line).empty()) continue;
      if (const auto nul = m_line.find('\0'); nul != std::string_view::npos) {
        fail_line("a NUL byte at byte " + std::to_string(nul + 1) +
                  " of the line: binary data, not CSV text");
      }
      split(fields);
      if (first) {
        first = false;
        columns = fields.size();
        has_label = resolve_label(fields, label);
        if (columns == (has_label ? 1u : 0u)) {
          fail_file("no feature columns (the file has only " + std::to_string(columns) + ")");
        }
        table.features = columns - (has_label ? 1 : 0);
        if (m_options.header) {
          m_names = fields;
          for (std::size_t c = 0; c < columns; ++c) {
            if (has_label && c == label) {
              table.label_name = fields[c];
            } else {
              table.feature_names.push_back(fields[c]);
            }
          }
          continue;
        }
      }
      if (fields.size() != columns) {
        fail_line(std::to_string(fields.size()) + " fields, expected " + std::to_string(columns));
      }
      for (std::size_t c = 0; c < columns; ++c) {
        const double v = number(fields[c], c);
        if (has_label && c == label) {
          table.labels.push_back(v);
        } else {
          table.values.push_back(v);
        }
      }
      ++table.rows;
    }
    if (first) fail_file("empty file");
    if (table.rows == 0) fail_file("no data rows after the header");
    return table;
  }

 private:
  [[noreturn]] void fail_file(const std::string& what) const {
    throw DataError(std::string(m_source) + ": " + what);
  }
  [[noreturn]] void fail_line(const std::string& what) const {
    throw DataError(std::string(m_source) + ":" + std::to_string(m_line_number) + ": " + what);
  }
  std::string column_name(std::size_t c) const {
    if (c < m_names.size()) return "column " + quote_excerpt(m_names[c]);
    return "column " + std::to_string(c) + " (from 0)";
  }

  // What `text` is when it is no CSV text but a known binary format; nullptr otherwise. (Other
  // binary data is found by its NUL bytes, line by line.)
  static const char* binary_kind(std::string_view text) {
    struct Magic {
      std::string_view bytes;
      const char* kind;
    };
    static constexpr Magic magics[] = {
        {"\x1F\x8B", "gzip-compressed data"},
        {"PK\x03\x04", "a zip archive (unzip it first)"},
        {"BZh", "bzip2-compressed data (decompress it first)"},
        {std::string_view("\xFD"
                          "7zXZ\0",
                          6),
         "xz-compressed data (decompress it first)"},
        {"\x28\xB5\x2F\xFD", "zstd-compressed data (decompress it first)"},
        {"\xFF\xFE", "UTF-16 text (save it as UTF-8)"},
        {"\xFE\xFF", "UTF-16 text (save it as UTF-8)"},
    };
    for (const Magic& magic : magics) {
      if (!text.starts_with(magic.bytes)) continue;
      // "BZh" could begin a column name: bzip2 follows it with the block size and a block magic.
      if (magic.bytes == "BZh" && !(text.size() >= 10 && text[3] >= '1' && text[3] <= '9' &&
                                    text.substr(4, 6) == "1AY&SY")) {
        continue;
      }
      return magic.kind;
    }
    return nullptr;
  }

  // The next line, without its end: \n, \r\n or a lone \r.
  bool next_line(std::string_view& text) {
    if (text.empty()) return false;
    const auto end = text.find_first_of("\r\n");
    m_line = text.substr(0, end);
    std::size_t skip = text.size();
    if (end != std::string_view::npos) {
      skip = end + (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? 2 : 1);
    }
    text.remove_prefix(skip);
    ++m_line_number;
    return true;
  }

  // Splits m_line into trimmed, unquoted fields (reusing the strings' storage).
  void split(std::vector<std::string>& fields) {
    std::size_t count = 0;
    std::string_view rest = m_line;
    while (true) {
      if (fields.size() <= count) fields.emplace_back();
      std::string& field = fields[count];
      field.clear();
      std::string_view f = rest;
      const std::string_view leading = trim(rest);
      if (leading.starts_with('"')) {  // "a ""quoted"" field"
        std::size_t i = 1;
        bool closed = false;
        for (; i < leading.size(); ++i) {
          if (leading[i] == '"') {
            if (i + 1 < leading.size() && leading[i + 1] == '"') {
              field += '"';
              ++i;
            } else {
              closed = true;
              ++i;
              break;
            }
          } else {
            field += leading[i];
          }
        }
        if (!closed) fail_line(column_name(count) + ": unterminated quote");
        rest = leading.substr(i);
        const auto after = rest.find(m_options.separator);
        if (!trim(rest.substr(0, after)).empty()) {
          fail_line(column_name(count) + ": text after the closing quote");
        }
        ++count;
        if (after == std::string_view::npos) break;
        rest.remove_prefix(after + 1);
        continue;
      }
      const auto end = f.find(m_options.separator);
      field = trim(f.substr(0, end));
      ++count;
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
    fields.resize(count);
  }

  bool resolve_label(const std::vector<std::string>& fields, std::size_t& label) const {
    const CsvColumn& column = m_options.label;
    if (column.none()) return false;
    if (const std::size_t* index = column.index()) {
      if (*index >= fields.size()) {
        fail_file("label column " + std::to_string(*index) + " is out of range: the file has " +
                  std::to_string(fields.size()) + " columns");
      }
      label = *index;
      return true;
    }
    const std::string& name = *column.name();
    std::size_t found = 0;
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (fields[c] == name) {
        label = c;
        ++found;
      }
    }
    if (found == 0) {
      // At most a few names, each cut: the header row may be as long as the file.
      constexpr std::size_t shown = 8;
      std::string names;
      for (std::size_t c = 0; c < fields.size() && c < shown; ++c) {
        names += (c ? ", " : "") + quote_excerpt(fields[c]);
      }
      if (fields.size() > shown) names += " and " + std::to_string(fields.size() - shown) + " more";
      fail_file("no column named " + quote_excerpt(name) + " for the label (the columns are " +
                names + ")");
    }
    if (found > 1) fail_file(std::to_string(found) + " columns are named " + quote_excerpt(name));
    return true;
  }

  double number(std::string_view field, std::size_t column) const {
    if (field.empty()) fail_line(column_name(column) + ": empty field");
    std::string_view digits = field;
    if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-' && digits[1] != '+') {
      digits.remove_prefix(1);
    }
    double value = 0;
    const auto [end, ec] =
        descent::detail::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc::result_out_of_range) {
      fail_line(column_name(column) + ": " + quote_excerpt(field) + " is out of range");
    }
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      fail_line(column_name(column) + ": " + quote_excerpt(field) + " is not a number");
    }
    if (!std::isfinite(value)) {
      fail_line(column_name(column) + ": " + quote_excerpt(field) + " is not a finite number");
    }
    return value;
  }

  std::string_view m_source;
  const CsvOptions& m_options;
  std::string_view m_line;
  std::size_t m_line_number = 0;
  std::vector<std::string> m_names;
};

}  // namespace detail

/// Parses CSV text; `source` names it in error messages.
inline CsvTable parse_csv(std::string_view text, std::string_view source,
                          const CsvOptions& options = {}) {
  return detail::CsvParser(source, options).parse(text);
}

/// Reads a numeric CSV file, raw or gzip-compressed. See the top of this header for the format
/// and the errors; running out of memory is a DataError naming the file too.
inline CsvTable read_csv(const std::filesystem::path& path, const CsvOptions& options = {}) {
  detail::DataFile in(path);
  const std::string text = in.read_all();
  try {
    return parse_csv(text, in.name(), options);
  } catch (const std::bad_alloc&) {
    in.fail("not enough memory for its numbers (" + std::to_string(text.size()) +
            " bytes of text)");
  }
}

}  // namespace descent::data
