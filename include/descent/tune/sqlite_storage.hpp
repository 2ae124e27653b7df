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
// - Everything read back is checked (stored_trials.hpp): a damaged or forged file gives an error
//   naming the file, the study, the trial and the parameter.
// - A file that cannot be written (read-only file system, no permission, or Options::read_only)
//   is opened for reading: its trials can be read, and every write is refused with an error
//   saying the file is read-only. On a read-only file system a WAL-mode file whose -shm index is
//   missing (as a clean close leaves it) is read as immutable, which is exact there: nothing can
//   change it.
// - The file records the version of its tables (detail/schema.hpp): an older one is migrated when
//   opened for writing and read as it is when opened for reading; a newer one is refused.
// - Waiting trials (enqueue_trial, retries) are taken by start_trial under the write lock, each by
//   one worker only; the same lock makes the count behind a total-trials limit exact.

#include <descent/error.hpp>
#include <descent/tune/detail/param_value_text.hpp>
#include <descent/tune/detail/schema.hpp>
#include <descent/tune/detail/sqlite_file.hpp>
#include <descent/tune/detail/sqlite_statement.hpp>
#include <descent/tune/detail/workers.hpp>
#include <descent/tune/storage.hpp>
#include <descent/tune/stored_trials.hpp>

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace descent::tune {

namespace detail {

inline double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace detail

/// A Storage in an SQLite file, shared by the processes of one machine.
class SqliteStorage : public Storage {
 public:
  /// Timing of stale-worker detection and of lock waits, and whether to only read.
  struct Options {
    std::chrono::seconds stale_after{60};           ///< heartbeat age that declares a worker dead
    std::chrono::milliseconds busy_timeout{60000};  ///< how long to wait for another process's lock
    /// Open for reading only (writes are refused). A file that cannot be written is opened so
    /// without being asked.
    bool read_only = false;
  };

  /// Opens or creates the study file at `path` with the default Options.
  explicit SqliteStorage(std::string path) : SqliteStorage(std::move(path), Options{}) {}
  /// Opens or creates the study file at `path`; throws std::runtime_error if SQLite cannot.
  SqliteStorage(std::string path, Options options)
      : m_path(std::move(path)),
        m_options(options),
        m_host(detail::host_name()),
        m_pid(::getpid()),
        m_start(detail::process_start(::getpid())) {
    const int flags =
        m_options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    open(m_path, flags);
    // SQLite opens a file it may not write for reading only, by itself.
    m_read_only = sqlite3_db_readonly(m_db, "main") == 1;
    try {
      if (m_read_only) {
        open_for_reading();
      } else {
        create_tables();
      }
    } catch (...) {  // the destructor will not run: close the handle here
      sqlite3_close(m_db);
      throw;
    }
  }
  ~SqliteStorage() override { sqlite3_close(m_db); }
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  /// Whether the file is open for reading only (every write throws std::runtime_error).
  bool read_only() const { return m_read_only; }

  /// The study file's path.
  const std::string& path() const { return m_path; }

  std::int64_t open_study(const std::string& name, Direction direction) override {
    std::lock_guard lock(m_mutex);
    if (const auto id = find_study(name, direction)) return *id;
    writable("create study " + detail::quote_excerpt(name));
    Transaction tx(*this);
    if (const auto id = find_study(name, direction)) return *id;  // another process was first
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
    writable("create a trial");
    Transaction tx(*this);
    FrozenTrial t = insert_trial(study, TrialState::running);
    tx.commit();
    return t;
  }

  FrozenTrial enqueue_trial(std::int64_t study, const std::map<std::string, ParamValue>& fixed,
                            std::int64_t retry_of) override {
    std::lock_guard lock(m_mutex);
    writable("enqueue a trial");
    Transaction tx(*this);
    FrozenTrial t = insert_trial(study, TrialState::waiting);
    for (const auto& [name, value] : fixed) {
      const auto [kind, text] = detail::param_value_cells(value);
      Statement s(*this,
                  "INSERT INTO fixed_params (trial_id, name, kind, value) VALUES (?, ?, ?, ?)");
      s.bind(1, t.id);
      s.bind(2, name);
      s.bind(3, kind);
      s.bind(4, text);
      s.run();
    }
    if (retry_of >= 0) {
      Statement s(*this, "INSERT INTO retries (trial_id, retry_of) VALUES (?, ?)");
      s.bind(1, t.id);
      s.bind(2, retry_of);
      s.run();
    }
    tx.commit();
    t.fixed_params = fixed;
    t.retry_of = retry_of;
    return t;
  }

  std::optional<FrozenTrial> start_trial(std::int64_t study, std::int64_t limit) override {
    std::lock_guard lock(m_mutex);
    writable("start a trial");
    Transaction tx(*this);  // the write lock from here: no other process counts or takes meanwhile
    Statement count(*this, "SELECT COUNT(*) FROM trials WHERE study_id = ? AND state != 'waiting'");
    count.bind(1, study);
    count.step();
    if (count.integer(0) >= limit) return std::nullopt;
    Statement waiting(*this,
                      "SELECT id, number FROM trials WHERE study_id = ? AND state = 'waiting' "
                      "ORDER BY number LIMIT 1");
    waiting.bind(1, study);
    if (!waiting.step()) {
      FrozenTrial t = insert_trial(study, TrialState::running);
      tx.commit();
      return t;
    }
    const std::int64_t id = waiting.integer(0);
    Statement take(*this,
                   "UPDATE trials SET state = 'running', host = ?, pid = ?, pid_start = ?, "
                   "heartbeat = ? WHERE id = ?");
    take.bind(1, m_host);
    take.bind(2, std::int64_t(m_pid));
    take.bind(3, std::int64_t(m_start));
    take.bind(4, detail::unix_seconds());
    take.bind(5, id);
    take.run();
    tx.commit();
    // Read back as any trial is: its given values and retry, checked.
    for (auto& t : read_trials(study, id)) {
      if (t.id == id) return t;
    }
    throw LogicError("descent::tune: " + source() + ": trial id " + std::to_string(id) +
                     " vanished after it was taken");
  }

  /// Records parameter `name` of trial `trial` and refreshes its heartbeat, while the trial runs
  /// (a trial declared dead keeps what it had: finished trials never change).
  void set_param(std::int64_t trial, const std::string& name, const Param& param) override {
    std::lock_guard lock(m_mutex);
    writable("record a parameter");
    Statement s(*this,
                "INSERT OR REPLACE INTO params (trial_id, name, distribution, value) "
                "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS "
                "(SELECT 1 FROM trials WHERE id = ?1 AND state = 'running')");
    s.bind(1, trial);
    s.bind(2, name);
    s.bind(3, to_text(param.distribution));
    s.bind(4, param.internal);
    s.run();
    beat(trial);
  }

  /// Records the value trial `trial` reported at `step` and refreshes its heartbeat, while the
  /// trial runs.
  void report(std::int64_t trial, std::int64_t step, double value) override {
    std::lock_guard lock(m_mutex);
    writable("record a report");
    Statement s(*this,
                "INSERT OR REPLACE INTO intermediate (trial_id, step, value) "
                "SELECT ?1, ?2, ?3 WHERE EXISTS "
                "(SELECT 1 FROM trials WHERE id = ?1 AND state = 'running')");
    s.bind(1, trial);
    s.bind(2, step);
    s.bind(3, value);
    s.run();
    beat(trial);
  }

  bool finish(std::int64_t trial, TrialState state, double value,
              const std::string& message) override {
    detail::check_finish(state, value);
    std::lock_guard lock(m_mutex);
    writable("finish a trial");
    Statement s(
        *this,
        "UPDATE trials SET state = ?, value = ?, message = ? WHERE id = ? AND state = 'running'");
    s.bind(1, std::string(to_string(state)));
    s.bind(2, value);
    s.bind(3, message);
    s.bind(4, trial);
    s.run();
    return sqlite3_changes(m_db) == 1;
  }

  /// Every trial of the study, ordered by number. Finished trials are read from the file once
  /// per storage object (they never change), then only the rest: each call costs what changed.
  std::vector<FrozenTrial> trials(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    detail::FinishedTrials& finished = m_finished[study];
    auto all = read_trials(study, finished.from_id(), &finished);
    finished.update(all);  // only now: a study that fails its checks changes nothing here
    return all;
  }

  void heartbeat(const std::vector<std::int64_t>& trials) override {
    if (trials.empty()) return;
    std::lock_guard lock(m_mutex);
    writable("record a heartbeat");
    for (const auto id : trials) beat(id);
  }

  /// Marks failed the running trials whose worker is gone; on a read-only file, changes nothing
  /// and returns none (a reader may look at a study whose workers are gone).
  std::vector<std::int64_t> fail_stale_trials(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    if (m_read_only) return {};
    Transaction tx(*this);
    Statement s(*this,
                "SELECT id, host, pid, pid_start, heartbeat FROM trials WHERE study_id = ? AND "
                "state = 'running'");
    s.bind(1, study);
    std::vector<std::pair<std::int64_t, std::string>> dead;
    const double now = detail::unix_seconds();
    while (s.step()) {
      const auto pid = s.integer(2), start = s.integer(3);
      const double age = now - s.real(4);
      if (s.text(1) == m_host && detail::worker_gone(pid, start)) {
        dead.emplace_back(s.integer(0),
                          "worker " + std::to_string(pid) + " on " + m_host + " died");
      } else if (age > double(m_options.stale_after.count())) {
        dead.emplace_back(s.integer(0), detail::no_heartbeat(age, pid, s.text(1)));
      }
    }
    for (const auto& [id, why] : dead) {
      Statement u(
          *this,
          "UPDATE trials SET state = 'failed', message = ? WHERE id = ? AND state = 'running'");
      u.bind(1, why);
      u.bind(2, id);
      u.run();
    }
    tx.commit();
    std::vector<std::int64_t> ids;
    for (const auto& entry : dead) ids.push_back(entry.first);
    return ids;
  }

 private:
  // The statement and transaction wrappers (tune/detail/sqlite_statement.hpp) use m_db, fail()
  // and exec() of this class.
  friend class detail::SqliteStatement<SqliteStorage>;
  friend class detail::SqliteTransaction<SqliteStorage>;
  using Statement = detail::SqliteStatement<SqliteStorage>;
  using Transaction = detail::SqliteTransaction<SqliteStorage>;

  /// The study's trials with ids from `from_id` on (and, with `finished`, the ones it kept), in
  /// one consistent snapshot, checked.
  std::vector<FrozenTrial> read_trials(std::int64_t study, std::int64_t from_id,
                                       const detail::FinishedTrials* finished = nullptr) {
    Transaction tx(*this, "BEGIN");  // one consistent snapshot across the reads
    Statement name(*this, "SELECT name FROM studies WHERE id = ?");
    name.bind(1, study);
    if (!name.step())
      throw OutOfRange("descent::tune: " + source() + ": no study with id " +
                       std::to_string(study));
    detail::StoredTrials out(source(), name.text(0));
    if (finished) finished->add_to(out);
    Statement t(*this,
                "SELECT id, number, state, value, message FROM trials "
                "WHERE study_id = ? AND id >= ?");
    t.bind(1, study);
    t.bind(2, from_id);
    while (t.step())
      out.add_trial(t.integer(0), t.integer_cell(1), t.text(2), t.real_cell(3), t.text(4));
    Statement p(*this,
                "SELECT p.trial_id, p.name, p.distribution, p.value FROM params p "
                "JOIN trials t ON t.id = p.trial_id WHERE t.study_id = ? AND t.id >= ?");
    p.bind(1, study);
    p.bind(2, from_id);
    while (p.step()) out.add_param(p.integer(0), p.text(1), p.text(2), p.real_cell(3));
    Statement i(*this,
                "SELECT i.trial_id, i.step, i.value FROM intermediate i "
                "JOIN trials t ON t.id = i.trial_id WHERE t.study_id = ? AND t.id >= ?");
    i.bind(1, study);
    i.bind(2, from_id);
    while (i.step()) out.add_report(i.integer(0), i.integer_cell(1), i.real_cell(2));
    if (m_version >= 2) {  // a version 1 file opened for reading has neither table
      Statement f(*this,
                  "SELECT f.trial_id, f.name, f.kind, f.value FROM fixed_params f "
                  "JOIN trials t ON t.id = f.trial_id WHERE t.study_id = ? AND t.id >= ?");
      f.bind(1, study);
      f.bind(2, from_id);
      while (f.step()) out.add_fixed_param(f.integer(0), f.text(1), f.text(2), f.text(3));
      Statement r(*this,
                  "SELECT r.trial_id, r.retry_of FROM retries r "
                  "JOIN trials t ON t.id = r.trial_id WHERE t.study_id = ? AND t.id >= ?");
      r.bind(1, study);
      r.bind(2, from_id);
      while (r.step()) out.add_retry(r.integer(0), r.integer_cell(1));
    }
    tx.commit();
    return out.take();
  }

  /// A new trial of the study in `state` with the next number, inside the caller's transaction.
  FrozenTrial insert_trial(std::int64_t study, TrialState state) {
    Statement next(*this, "SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?");
    next.bind(1, study);
    next.step();
    FrozenTrial t;
    t.state = state;
    const auto number = next.integer_cell(0);  // MAX(number) + 1 past int64 turns real
    if (!number)
      throw RuntimeError("descent::tune: " + source() + ": no trial number left after the largest");
    t.number = *number;
    Statement insert(
        *this,
        "INSERT INTO trials (study_id, number, state, host, pid, pid_start, heartbeat) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, study);
    insert.bind(2, t.number);
    insert.bind(3, std::string(to_string(state)));
    insert.bind(4, m_host);
    insert.bind(5, std::int64_t(m_pid));
    insert.bind(6, std::int64_t(m_start));
    insert.bind(7, detail::unix_seconds());
    insert.run();
    t.id = sqlite3_last_insert_rowid(m_db);
    return t;
  }

  void beat(std::int64_t trial) {
    Statement s(*this, "UPDATE trials SET heartbeat = ? WHERE id = ? AND state = 'running'");
    s.bind(1, detail::unix_seconds());
    s.bind(2, trial);
    s.run();
  }

  /// "SQLite study file 'PATH'", for messages.
  std::string source() const { return "SQLite study file '" + m_path + "'"; }

  [[noreturn]] void fail(const char* sql) {
    const bool read_only = (sqlite3_errcode(m_db) & 0xff) == SQLITE_READONLY;
    throw RuntimeError("descent::tune: " + source() + (read_only ? " is read-only: " : ": ") +
                       sqlite3_errmsg(m_db) + " (in: " + std::string(sql ? sql : "?") + ")");
  }

  /// Throws, saying the file is read-only, when it is.
  void writable(const std::string& what) const {
    if (m_read_only)
      throw RuntimeError("descent::tune: " + source() + " is read-only: cannot " + what);
  }

  /// Opens the handle; throws naming the file (and a read-only file system, if that is why).
  void open(const std::string& name, int flags) {
    if (sqlite3_open_v2(name.c_str(), &m_db, flags | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK)
      return;
    std::string why = m_db ? sqlite3_errmsg(m_db) : "out of memory";
    sqlite3_close(m_db);
    m_db = nullptr;
    if (detail::on_read_only_file_system(m_path)) why += " (read-only file system)";
    throw RuntimeError("descent::tune: cannot open " + source() + ": " + why);
  }

  void create_tables() {
    sqlite3_busy_timeout(m_db, int(m_options.busy_timeout.count()));
    exec("PRAGMA foreign_keys = ON");
    // Write-ahead log: readers never block the writer, and with synchronous = NORMAL a commit
    // survives the crash of any process (only a power cut may lose the last ones) at no fsync
    // each.
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = NORMAL");
    Transaction tx(*this);
    // First, so that a study of another version is refused before anything is added to it.
    exec(detail::create_meta_sql);
    exec(detail::record_version_sql);
    const auto version = detail::check_schema_version(source(), stored_version());
    exec(
        "CREATE TABLE IF NOT EXISTS studies (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
        "direction TEXT NOT NULL)");
    exec(
        "CREATE TABLE IF NOT EXISTS trials (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "study_id INTEGER NOT NULL REFERENCES studies(id), number INTEGER NOT NULL, "
        "state TEXT NOT NULL, value REAL, message TEXT NOT NULL DEFAULT '', host TEXT NOT NULL, "
        "pid INTEGER NOT NULL, pid_start INTEGER NOT NULL, heartbeat REAL NOT NULL, "
        "UNIQUE(study_id, number))");
    exec(
        "CREATE TABLE IF NOT EXISTS params (trial_id INTEGER NOT NULL REFERENCES trials(id), "
        "name TEXT NOT NULL, distribution TEXT NOT NULL, value REAL NOT NULL, PRIMARY "
        "KEY(trial_id, name))");
    exec(
        "CREATE TABLE IF NOT EXISTS intermediate (trial_id INTEGER NOT NULL REFERENCES trials(id), "
        "step INTEGER NOT NULL, value REAL, PRIMARY KEY(trial_id, step))");
    for (const auto& sql : detail::upgrade_sql(version)) exec(sql.c_str());
    tx.commit();
    m_version = detail::schema_version;
  }

  /// A file SQLite could open only for reading. Reading a WAL-mode file needs its -shm index,
  /// which SQLite creates beside it if missing; on a read-only file system it cannot, and the
  /// file is opened as immutable instead (exact there: no one can change it). A leftover -wal
  /// log would then be ignored, so that case is refused rather than read without it. A file of
  /// another schema version is refused.
  void open_for_reading() {
    sqlite3_busy_timeout(m_db, int(m_options.busy_timeout.count()));
    if (!has_tables()) open_immutable();
    m_version = detail::check_schema_version(source(), stored_version());
  }

  /// Reopens the file as immutable when it is on a read-only file system (see open_for_reading).
  void open_immutable() {
    const bool cannot_open = (sqlite3_errcode(m_db) & 0xff) == SQLITE_CANTOPEN;
    if (!cannot_open || !detail::on_read_only_file_system(m_path)) fail(tables_sql);
    std::error_code ec;
    if (std::filesystem::file_size(m_path + "-wal", ec) > 0 && !ec) {
      throw RuntimeError("descent::tune: " + source() +
                         " is on a read-only file system with a write-ahead "
                         "log ('" +
                         m_path +
                         "-wal') but no index beside it; copy the files to a "
                         "writable folder to read them");
    }
    sqlite3_close(m_db);
    m_db = nullptr;
    open(detail::sqlite_uri(m_path) + "?immutable=1", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
    if (!has_tables()) fail(tables_sql);
  }

  static constexpr const char* tables_sql =
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
      "name IN ('studies', 'trials', 'params', 'intermediate')";

  /// Whether the file can be read; throws if it can but holds no study.
  bool has_tables() {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(m_db, tables_sql, -1, &stmt, nullptr) != SQLITE_OK) return false;
    const bool read = sqlite3_step(stmt) == SQLITE_ROW;
    const auto tables = read ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (read && tables != 4) {
      throw RuntimeError("descent::tune: " + source() +
                         " is read-only and holds no study (it lacks "
                         "descent's tables)");
    }
    return read;
  }

  /// The file's schema version as stored; none when it records none (a file from before versions
  /// were recorded, opened for reading).
  std::optional<std::string> stored_version() {
    Statement meta(*this,
                   "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'descent_meta'");
    if (!meta.step()) return std::nullopt;
    Statement version(*this, detail::select_version_sql);
    if (!version.step()) return std::nullopt;
    return version.text(0);
  }

  /// The id of study `name`, if it exists; throws if it exists with the other direction.
  std::optional<std::int64_t> find_study(const std::string& name, Direction direction) {
    Statement find(*this, "SELECT id, direction FROM studies WHERE name = ?");
    find.bind(1, name);
    if (!find.step()) return std::nullopt;
    InMemoryStorage::check_direction(name, detail::stored_direction(source(), name, find.text(1)),
                                     direction);
    return find.integer(0);
  }
  void exec(const char* sql) {
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
  void exec_noexcept(const char* sql) noexcept {
    sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr);
  }

  std::string m_path;
  Options m_options;
  std::string m_host;
  long long m_pid, m_start;
  sqlite3* m_db = nullptr;
  bool m_read_only = false;
  std::int64_t m_version = detail::schema_version;  ///< of the tables; older only when read-only
  std::map<std::int64_t, detail::FinishedTrials> m_finished;  ///< by study id
  std::mutex m_mutex;
};

}  // namespace descent::tune
