#pragma once
// A study in an SQLite file (Debian libsqlite3-dev; link descent::tune): it survives a crash of
// the process, and several processes on one machine can work on it at once.
//
// - Trial numbers are allocated inside an immediate (write-locked) transaction, with
//   UNIQUE(study_id, number) as a second guard: no two workers ever share one.
// - Every write is its own transaction, so a killed worker loses at most the trial it was running.
// - Each running trial records its worker (host, pid, the process's start time) and a heartbeat
//   time. fail_stale_trials() (run when a study starts optimizing and before each new trial)
//   marks failed every running trial whose worker process is gone from this machine, or whose
//   heartbeat is older than stale_after. A trial declared dead stays failed: its worker, should it
//   still finish, is told so (Storage::finish returns false) and nothing is counted twice.

#include <descent/tune/storage.hpp>

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <csignal>
#include <cerrno>
#include <unistd.h>

namespace descent::tune {

namespace detail {

inline double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

/// The start time of process `pid` in clock ticks since boot (field 22 of /proc/PID/stat), -1
/// when there is no such process or it is a zombie. With the pid, it names a process uniquely.
inline long long process_start(long long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return -1;
  const auto paren = text.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string state;
  fields >> state;
  if (state == "Z" || state == "X") return -1;
  std::string skip;
  for (int field = 4; field < 22; ++field) fields >> skip;  // fields 4..21
  long long start = -1;
  fields >> start;
  return fields ? start : -1;
}

/// True when a worker recorded on this host is certainly gone.
inline bool worker_gone(long long pid, long long start) {
  if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) return true;
  const long long now = process_start(pid);
  return now < 0 || (start >= 0 && now != start);
}

}  // namespace detail

/// A Storage in an SQLite file, shared by the processes of one machine.
class SqliteStorage : public Storage {
 public:
  /// Timing of stale-worker detection and of lock waits.
  struct Options {
    std::chrono::seconds stale_after{60};        ///< heartbeat age that declares a worker dead
    std::chrono::milliseconds busy_timeout{60000};  ///< how long to wait for another process's lock
  };

  /// Opens or creates the study file at `path` with the default Options.
  explicit SqliteStorage(std::string path) : SqliteStorage(std::move(path), Options{}) {}
  /// Opens or creates the study file at `path`; throws std::runtime_error if SQLite cannot.
  SqliteStorage(std::string path, Options options)
      : m_path(std::move(path)), m_options(options), m_host(detail::host_name()),
        m_pid(::getpid()), m_start(detail::process_start(::getpid())) {
    if (sqlite3_open_v2(m_path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = m_db ? sqlite3_errmsg(m_db) : "out of memory";
      sqlite3_close(m_db);
      throw std::runtime_error("descent::tune: cannot open SQLite study file '" + m_path + "': " + why);
    }
    sqlite3_busy_timeout(m_db, int(m_options.busy_timeout.count()));
    bool in_transaction = false;
    try {
      exec("PRAGMA foreign_keys = ON");
      // Write-ahead log: readers never block the writer, and with synchronous = NORMAL a commit
      // survives the crash of any process (only a power cut may lose the last ones) at no fsync
      // each.
      exec("PRAGMA journal_mode = WAL");
      exec("PRAGMA synchronous = NORMAL");
      exec("BEGIN IMMEDIATE");
      in_transaction = true;
      exec("CREATE TABLE IF NOT EXISTS studies (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
           "direction TEXT NOT NULL)");
      exec("CREATE TABLE IF NOT EXISTS trials (id INTEGER PRIMARY KEY AUTOINCREMENT, "
           "study_id INTEGER NOT NULL REFERENCES studies(id), number INTEGER NOT NULL, "
           "state TEXT NOT NULL, value REAL, message TEXT NOT NULL DEFAULT '', host TEXT NOT NULL, "
           "pid INTEGER NOT NULL, pid_start INTEGER NOT NULL, heartbeat REAL NOT NULL, "
           "UNIQUE(study_id, number))");
      exec("CREATE TABLE IF NOT EXISTS params (trial_id INTEGER NOT NULL REFERENCES trials(id), "
           "name TEXT NOT NULL, distribution TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY(trial_id, name))");
      exec("CREATE TABLE IF NOT EXISTS intermediate (trial_id INTEGER NOT NULL REFERENCES trials(id), "
           "step INTEGER NOT NULL, value REAL, PRIMARY KEY(trial_id, step))");
      exec("COMMIT");
    } catch (...) {  // the destructor will not run: close the handle here
      if (in_transaction) exec_noexcept("ROLLBACK");
      sqlite3_close(m_db);
      throw;
    }
  }
  ~SqliteStorage() override { sqlite3_close(m_db); }
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  /// The study file's path.
  const std::string& path() const { return m_path; }

  std::int64_t open_study(const std::string& name, Direction direction) override {
    std::lock_guard lock(m_mutex);
    Transaction tx(*this);
    Statement find(*this, "SELECT id, direction FROM studies WHERE name = ?");
    find.bind(1, name);
    if (find.step()) {
      InMemoryStorage::check_direction(name, direction_from(find.text(1)), direction);
      const auto id = find.integer(0);
      tx.commit();
      return id;
    }
    Statement insert(*this, "INSERT INTO studies (name, direction) VALUES (?, ?)");
    insert.bind(1, name);
    insert.bind(2, std::string(to_string(direction)));
    insert.run();
    const auto id = sqlite3_last_insert_rowid(m_db);
    tx.commit();
    return id;
  }

  FrozenTrial create_trial(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    Transaction tx(*this);
    Statement next(*this, "SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?");
    next.bind(1, study);
    next.step();
    FrozenTrial t;
    t.number = next.integer(0);
    Statement insert(*this, "INSERT INTO trials (study_id, number, state, host, pid, pid_start, heartbeat) "
                            "VALUES (?, ?, 'running', ?, ?, ?, ?)");
    insert.bind(1, study);
    insert.bind(2, t.number);
    insert.bind(3, m_host);
    insert.bind(4, std::int64_t(m_pid));
    insert.bind(5, std::int64_t(m_start));
    insert.bind(6, detail::unix_seconds());
    insert.run();
    t.id = sqlite3_last_insert_rowid(m_db);
    tx.commit();
    return t;
  }

  /// Records parameter `name` of trial `trial` and refreshes its heartbeat.
  void set_param(std::int64_t trial, const std::string& name, const Param& param) override {
    std::lock_guard lock(m_mutex);
    Statement s(*this, "INSERT OR REPLACE INTO params (trial_id, name, distribution, value) VALUES (?, ?, ?, ?)");
    s.bind(1, trial);
    s.bind(2, name);
    s.bind(3, to_text(param.distribution));
    s.bind(4, param.internal);
    s.run();
    beat(trial);
  }

  /// Records the value trial `trial` reported at `step` and refreshes its heartbeat.
  void report(std::int64_t trial, std::int64_t step, double value) override {
    std::lock_guard lock(m_mutex);
    Statement s(*this, "INSERT OR REPLACE INTO intermediate (trial_id, step, value) VALUES (?, ?, ?)");
    s.bind(1, trial);
    s.bind(2, step);
    s.bind(3, value);
    s.run();
    beat(trial);
  }

  bool finish(std::int64_t trial, TrialState state, double value, const std::string& message) override {
    std::lock_guard lock(m_mutex);
    Statement s(*this, "UPDATE trials SET state = ?, value = ?, message = ? WHERE id = ? AND state = 'running'");
    s.bind(1, std::string(to_string(state)));
    s.bind(2, value);
    s.bind(3, message);
    s.bind(4, trial);
    s.run();
    return sqlite3_changes(m_db) == 1;
  }

  std::vector<FrozenTrial> trials(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    Transaction tx(*this, "BEGIN");  // one consistent snapshot across the three reads
    std::vector<FrozenTrial> out;
    std::map<std::int64_t, std::size_t> index;
    Statement t(*this, "SELECT id, number, state, value, message FROM trials WHERE study_id = ? ORDER BY number");
    t.bind(1, study);
    while (t.step()) {
      FrozenTrial f;
      f.id = t.integer(0);
      f.number = t.integer(1);
      f.state = trial_state_from(t.text(2));
      f.value = t.real(3);
      f.message = t.text(4);
      index[f.id] = out.size();
      out.push_back(std::move(f));
    }
    Statement p(*this, "SELECT p.trial_id, p.name, p.distribution, p.value FROM params p "
                       "JOIN trials t ON t.id = p.trial_id WHERE t.study_id = ?");
    p.bind(1, study);
    while (p.step()) {
      out[index.at(p.integer(0))].params.insert_or_assign(p.text(1), Param{distribution_from_text(p.text(2)), p.real(3)});
    }
    Statement i(*this, "SELECT i.trial_id, i.step, i.value FROM intermediate i "
                       "JOIN trials t ON t.id = i.trial_id WHERE t.study_id = ?");
    i.bind(1, study);
    while (i.step()) out[index.at(i.integer(0))].intermediate[i.integer(1)] = i.real(2);
    tx.commit();
    return out;
  }

  void heartbeat(const std::vector<std::int64_t>& trials) override {
    if (trials.empty()) return;
    std::lock_guard lock(m_mutex);
    for (const auto id : trials) beat(id);
  }

  int fail_stale_trials(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    Transaction tx(*this);
    Statement s(*this, "SELECT id, host, pid, pid_start, heartbeat FROM trials WHERE study_id = ? AND state = 'running'");
    s.bind(1, study);
    std::vector<std::pair<std::int64_t, std::string>> dead;
    const double now = detail::unix_seconds();
    while (s.step()) {
      const auto pid = s.integer(2), start = s.integer(3);
      const double age = now - s.real(4);
      if (s.text(1) == m_host && detail::worker_gone(pid, start)) {
        dead.emplace_back(s.integer(0), "worker " + std::to_string(pid) + " on " + m_host + " died");
      } else if (age > double(m_options.stale_after.count())) {
        dead.emplace_back(s.integer(0), "no heartbeat for " + std::to_string(std::llround(age)) +
                                            " s from worker " + std::to_string(pid) + " on " + s.text(1));
      }
    }
    for (const auto& [id, why] : dead) {
      Statement u(*this, "UPDATE trials SET state = 'failed', message = ? WHERE id = ? AND state = 'running'");
      u.bind(1, why);
      u.bind(2, id);
      u.run();
    }
    tx.commit();
    return int(dead.size());
  }

 private:
  class Statement {
   public:
    Statement(SqliteStorage& db, const char* sql) : m_db(db) {
      if (sqlite3_prepare_v2(db.m_db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) db.fail(sql);
    }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

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
      return sqlite3_column_type(m_stmt, col) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                             : sqlite3_column_double(m_stmt, col);
    }
    std::string text(int col) const {
      const auto* p = sqlite3_column_text(m_stmt, col);
      return p ? std::string(reinterpret_cast<const char*>(p), std::size_t(sqlite3_column_bytes(m_stmt, col))) : std::string();
    }

   private:
    void check(int rc) {
      if (rc != SQLITE_OK) m_db.fail(sqlite3_sql(m_stmt));
    }
    SqliteStorage& m_db;
    sqlite3_stmt* m_stmt = nullptr;
  };

  /// BEGIN IMMEDIATE (the write lock up front, so two processes cannot both read the same next
  /// number) ... COMMIT; rolled back if not committed.
  class Transaction {
   public:
    explicit Transaction(SqliteStorage& db, const char* begin = "BEGIN IMMEDIATE") : m_db(db) { db.exec(begin); }
    ~Transaction() {
      if (!m_done) m_db.exec_noexcept("ROLLBACK");
    }
    void commit() {
      m_db.exec("COMMIT");
      m_done = true;
    }

   private:
    SqliteStorage& m_db;
    bool m_done = false;
  };

  void beat(std::int64_t trial) {
    Statement s(*this, "UPDATE trials SET heartbeat = ? WHERE id = ? AND state = 'running'");
    s.bind(1, detail::unix_seconds());
    s.bind(2, trial);
    s.run();
  }

  [[noreturn]] void fail(const char* sql) {
    throw std::runtime_error("descent::tune: SQLite study file '" + m_path + "': " + sqlite3_errmsg(m_db) +
                             " (in: " + std::string(sql ? sql : "?") + ")");
  }
  void exec(const char* sql) {
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
  void exec_noexcept(const char* sql) noexcept { sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr); }

  std::string m_path;
  Options m_options;
  std::string m_host;
  long long m_pid, m_start;
  sqlite3* m_db = nullptr;
  std::mutex m_mutex;
};

}  // namespace descent::tune
