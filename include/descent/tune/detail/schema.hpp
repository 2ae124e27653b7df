#pragma once
// The version of the study tables, which SqliteStorage and PostgresqlStorage both record in a
// table descent_meta(key, value) under the key 'schema_version'. A database of a newer version is
// refused rather than misread; an older one is migrated when opened for writing.
//
//   1  studies, trials, params, intermediate (a database from before versions were recorded, with
//      descent's tables and no version, holds these).
//   2  + fixed_params (the values enqueue_trial or a retry gives a waiting trial) and retries
//      (which failed trial a trial retries); a trial's state may be 'waiting', which a version 1
//      reader would refuse - that is why it is a new version.
//
// The statements are plain SQL that SQLite (3.24 on) and PostgreSQL (9.5 on) both take, so both
// storages run the same ones, in the transaction that opens the database: create_meta_sql, then
// record_version_sql (version 1 where none is recorded: a new database gets version 1's tables
// and is migrated like an old one, so every path runs the same migrations), then
// select_version_sql, whose answer check_schema_version judges; then the storage creates version
// 1's tables if missing and runs upgrade_sql(version).

#include <descent/detail/format.hpp>
#include <descent/detail/from_chars.hpp>
#include <descent/error.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace descent::tune::detail {

/// The version of the tables this build writes and reads. Bump it whenever the tables change,
/// with the migration from the one before in upgrade_sql.
inline constexpr std::int64_t schema_version = 2;

inline constexpr const char* create_meta_sql =
    "CREATE TABLE IF NOT EXISTS descent_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";

/// Records version 1 in a database that has none: a new one, or one from before versions were
/// recorded (its tables are version 1's). Either is then migrated by upgrade_sql(1).
inline constexpr const char* record_version_sql =
    "INSERT INTO descent_meta (key, value) VALUES ('schema_version', '1') "
    "ON CONFLICT (key) DO NOTHING";

/// The statements that take version `from`'s tables to this build's, the version row included;
/// none when `from` is this build's. Each only adds tables (IF NOT EXISTS), so a half-migrated or
/// hand-made database comes out whole too.
inline std::vector<std::string> upgrade_sql(std::int64_t from) {
  static_assert(schema_version == 2, "add the migration to the new version here");
  std::vector<std::string> out;
  if (from < 2) {
    out.emplace_back(
        "CREATE TABLE IF NOT EXISTS fixed_params (trial_id BIGINT NOT NULL REFERENCES trials(id), "
        "name TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(trial_id, "
        "name))");
    out.emplace_back(
        "CREATE TABLE IF NOT EXISTS retries (trial_id BIGINT PRIMARY KEY REFERENCES trials(id), "
        "retry_of BIGINT NOT NULL)");
  }
  if (from < schema_version) {
    out.push_back("UPDATE descent_meta SET value = '" + std::to_string(schema_version) +
                  "' WHERE key = 'schema_version'");
  }
  return out;
}

inline constexpr const char* select_version_sql =
    "SELECT value FROM descent_meta WHERE key = 'schema_version'";

/// The version `stored` says (the text of the schema_version row; none for a database from
/// before versions were recorded, which is version 1). Throws, naming `source` (e.g. "SQLite study
/// file 'x.db'"), unless it is a version this build reads: 1 up to schema_version.
inline std::int64_t check_schema_version(const std::string& source,
                                         const std::optional<std::string>& stored) {
  if (!stored) return 1;
  const std::string& text = *stored;
  std::int64_t version = 0;
  const auto [end, ec] =
      descent::detail::from_chars(text.data(), text.data() + text.size(), version);
  const std::string reads =
      "this build of descent reads versions 1 to " + std::to_string(schema_version);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw RuntimeError("descent::tune: " + source + " has schema version " +
                       descent::detail::quote_excerpt(text) + ", which is not a number; " + reads);
  }
  if (version < 1 || version > schema_version) {
    throw RuntimeError("descent::tune: " + source + " has schema version " +
                       std::to_string(version) + "; " + reads +
                       (version > schema_version ? " (a newer descent wrote it?)" : ""));
  }
  return version;
}

}  // namespace descent::tune::detail
