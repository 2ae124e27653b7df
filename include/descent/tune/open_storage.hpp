#pragma once
// A storage from a command-line style address: "memory", "sqlite:FILE", or
// "postgresql://user@host:port/db" (also "postgres://...") in a program that includes
// postgresql_storage.hpp (this header does when DESCENT_TUNE_POSTGRESQL is defined, as linking
// descent::tune with libpq found defines it).

#include <descent/error.hpp>
#include <descent/tune/sqlite_storage.hpp>
#include <descent/tune/storage.hpp>
// Including it only registers its address schemes (storage.hpp): no body below depends on the
// macro, so translation units built with and without it can share a program.
#ifdef DESCENT_TUNE_POSTGRESQL
#include <descent/tune/postgresql_storage.hpp>
#endif

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace descent::tune {

/// Whether this program can open postgresql:// addresses (some part of it includes
/// postgresql_storage.hpp).
inline bool has_postgresql() { return detail::storage_opener("postgresql://") != nullptr; }

/// The storage at `where`: "memory", "sqlite:FILE" or a postgresql:// address (when
/// has_postgresql()); throws std::invalid_argument for anything else. A FILE that cannot be
/// written (a read-only file system, say) is opened for reading: its writes throw, saying
/// read-only.
inline std::shared_ptr<Storage> open_storage(std::string_view where) {
  if (where == "memory") return std::make_shared<InMemoryStorage>();
  if (where.starts_with("sqlite:")) {
    if (where.size() == 7)
      throw InvalidArgument("descent::tune: storage 'sqlite:' needs a file name");
    return std::make_shared<SqliteStorage>(std::string(where.substr(7)));
  }
  if (const auto open = detail::storage_opener(where)) return open(where);
  if (where.starts_with("postgresql://") || where.starts_with("postgres://")) {
    throw InvalidArgument("descent::tune: this program has no PostgreSQL storage for '" +
                          std::string(where) +
                          "' (install libpq-dev and reconfigure, so that descent::tune defines "
                          "DESCENT_TUNE_POSTGRESQL, or include "
                          "<descent/tune/postgresql_storage.hpp> and link libpq)");
  }
  throw InvalidArgument("descent::tune: storage '" + std::string(where) +
                        "' is none of memory, sqlite:FILE, postgresql://...");
}

}  // namespace descent::tune
