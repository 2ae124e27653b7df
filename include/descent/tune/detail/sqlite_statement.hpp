#pragma once
// A prepared SQLite statement and a transaction, for SqliteStorage (Db): Db gives them its handle
// m_db, fail(sql) (throws, naming the file and the statement), exec(sql) and exec_noexcept(sql).

#include <descent/tune/stored_trials.hpp>

#include <sqlite3.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace descent::tune::detail {

template <class Db>
class SqliteStatement {
 public:
  SqliteStatement(Db& db, const char* sql) : m_db(db) {
    if (sqlite3_prepare_v2(db.m_db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) db.fail(sql);
  }
  ~SqliteStatement() { sqlite3_finalize(m_stmt); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void bind(int i, std::int64_t v) { check(sqlite3_bind_int64(m_stmt, i, v)); }
  void bind(int i, double v) {
    check(std::isnan(v) ? sqlite3_bind_null(m_stmt, i) : sqlite3_bind_double(m_stmt, i, v));
  }
  void bind(int i, const std::string& v) {
    check(sqlite3_bind_text(m_stmt, i, v.data(), int(v.size()), SQLITE_TRANSIENT));
  }
  /// True while there is a row.
  bool step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) m_db.fail(sqlite3_sql(m_stmt));
    return false;
  }
  void run() { step(); }
  std::int64_t integer(int col) const { return sqlite3_column_int64(m_stmt, col); }
  double real(int col) const {
    return real_cell(col).value_or(std::numeric_limits<double>::quiet_NaN());
  }
  /// The column's integer; none when it holds anything else (SQLite columns take any type).
  Cell<std::int64_t> integer_cell(int col) const {
    if (sqlite3_column_type(m_stmt, col) != SQLITE_INTEGER) return std::nullopt;
    return sqlite3_column_int64(m_stmt, col);
  }
  /// The column's number (NaN for NULL); none for text or bytes.
  Cell<double> real_cell(int col) const {
    switch (sqlite3_column_type(m_stmt, col)) {
      case SQLITE_NULL: return std::numeric_limits<double>::quiet_NaN();
      case SQLITE_INTEGER:
      case SQLITE_FLOAT: return sqlite3_column_double(m_stmt, col);
      default: return std::nullopt;
    }
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(m_stmt, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           std::size_t(sqlite3_column_bytes(m_stmt, col)))
             : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) m_db.fail(sqlite3_sql(m_stmt));
  }
  Db& m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

/// BEGIN IMMEDIATE (the write lock up front, so two processes cannot both read the same next
/// number) ... COMMIT; rolled back if not committed.
template <class Db>
class SqliteTransaction {
 public:
  explicit SqliteTransaction(Db& db, const char* begin = "BEGIN IMMEDIATE") : m_db(db) {
    db.exec(begin);
  }
  ~SqliteTransaction() {
    if (!m_done) m_db.exec_noexcept("ROLLBACK");
  }
  void commit() {
    m_db.exec("COMMIT");
    m_done = true;
  }

 private:
  Db& m_db;
  bool m_done = false;
};

}  // namespace descent::tune::detail
