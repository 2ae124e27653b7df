#pragma once
// The version of the study tables, which SqliteStorage and PostgresqlStorage both record in a
// table descent_meta(key, value) under the key 'schema_version'. A study written by another
// version of the tables is refused rather than misread. A database from before versions were
// recorded (descent's tables, no version) holds version 1, the tables of that time: opening it
// for writing records the 1.
//
// The statements are plain SQL that SQLite (3.24 on) and PostgreSQL (9.5 on) both take, so both
// storages run the same ones: create_meta_sql, then record_version_sql (no-op when a version is
// recorded), then select_version_sql, whose answer check_schema_version judges.

#include <descent/detail/format.hpp>
#include <descent/detail/from_chars.hpp>
#include <descent/error.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace descent::tune::detail {

/// The version of the tables this build writes and reads. Bump it whenever the tables change
/// (and refuse, or migrate, the older ones).
inline constexpr std::int64_t schema_version = 1;

inline constexpr const char* create_meta_sql =
    "CREATE TABLE IF NOT EXISTS descent_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";

/// Records this build's version in a database that has none yet: a new one, or one from before
/// versions were recorded (its tables are version 1's).
inline std::string record_version_sql() {
  static_assert(schema_version == 1,
                "this would stamp an unversioned (version 1) database with another version: "
                "migrate it instead");
  return "INSERT INTO descent_meta (key, value) VALUES ('schema_version', '" +
         std::to_string(schema_version) + "') ON CONFLICT (key) DO NOTHING";
}

inline constexpr const char* select_version_sql =
    "SELECT value FROM descent_meta WHERE key = 'schema_version'";

/// Throws, naming `source` (e.g. "SQLite study file 'x.db'"), unless `stored` (the text of the
/// schema_version row; none for a database from before versions were recorded, which is
/// version 1) is the version this build reads.
inline void check_schema_version(const std::string& source,
                                 const std::optional<std::string>& stored) {
  if (!stored) return;
  const std::string& text = *stored;
  std::int64_t version = 0;
  const auto [end, ec] =
      descent::detail::from_chars(text.data(), text.data() + text.size(), version);
  const std::string reads = "this build of descent reads version " + std::to_string(schema_version);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw RuntimeError("descent::tune: " + source + " has schema version " +
                       descent::detail::quote_excerpt(text) + ", which is not a number; " + reads);
  }
  if (version != schema_version) {
    throw RuntimeError("descent::tune: " + source + " has schema version " +
                       std::to_string(version) + "; " + reads +
                       (version > schema_version ? " (a newer descent wrote it?)" : ""));
  }
}

}  // namespace descent::tune::detail
