#pragma once
// A storage from a command-line style address: "memory", "sqlite:FILE", or
// "postgresql://user@host:port/db" (also "postgres://...") when built with libpq.

#include <descent/error.hpp>
#include <descent/tune/sqlite_storage.hpp>
#include <descent/tune/storage.hpp>
#ifdef DESCENT_TUNE_POSTGRESQL
#include <descent/tune/postgresql_storage.hpp>
#endif

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace descent::tune {

/// Whether this build can open postgresql:// addresses.
inline constexpr bool has_postgresql =
#ifdef DESCENT_TUNE_POSTGRESQL
    true;
#else
    false;
#endif

/// The storage at `where`: "memory", "sqlite:FILE" or a postgresql:// address (has_postgresql
/// builds only); throws std::invalid_argument for anything else. A FILE that cannot be written
/// (a read-only file system, say) is opened for reading: its writes throw, saying read-only.
inline std::shared_ptr<Storage> open_storage(std::string_view where) {
  if (where == "memory") return std::make_shared<InMemoryStorage>();
  if (where.starts_with("sqlite:")) {
    if (where.size() == 7)
      throw InvalidArgument("descent::tune: storage 'sqlite:' needs a file name");
    return std::make_shared<SqliteStorage>(std::string(where.substr(7)));
  }
  if (where.starts_with("postgresql://") || where.starts_with("postgres://")) {
#ifdef DESCENT_TUNE_POSTGRESQL
    return std::make_shared<PostgresqlStorage>(std::string(where));
#else
    throw InvalidArgument(
        "descent::tune: this build has no PostgreSQL storage (install libpq-dev and "
        "reconfigure)");
#endif
  }
  throw InvalidArgument("descent::tune: storage '" + std::string(where) +
                        "' is none of memory, sqlite:FILE, postgresql://...");
}

}  // namespace descent::tune
