#pragma once
// A study in a PostgreSQL database (Debian libpq-dev; descent::tune links libpq when CMake finds
// it and then defines DESCENT_TUNE_POSTGRESQL), so workers on several machines share one study.
// Same tables and rules as SqliteStorage (sqlite_storage.hpp):
//
// - Trial numbers are allocated while holding a row lock on the study (SELECT ... FOR UPDATE),
//   with UNIQUE(study_id, number) as a second guard: no two workers ever share one.
// - Heartbeats and their age use the server's clock, so the workers' clocks need not agree.
// - fail_stale_trials() marks failed the running trials whose worker process is gone (for
//   workers on this host) or whose heartbeat is older than stale_after (any host).
// - Everything read back is checked as SqliteStorage checks it (stored_trials.hpp).
// - The database records the version of its tables (detail/schema.hpp): an older one is migrated,
//   a newer one refused.
// - Waiting trials (enqueue_trial, retries) are taken by start_trial under the study's row lock,
//   each by one worker only; the same lock makes the count behind a total-trials limit exact.
//
//   descent::tune::PostgresqlStorage storage("postgresql://user@127.0.0.1:5432/db");

#if __has_include(<libpq-fe.h>)

#include <descent/detail/from_chars.hpp>
#include <descent/error.hpp>
#include <descent/tune/detail/param_value_text.hpp>
#include <descent/tune/detail/schema.hpp>
#include <descent/tune/detail/workers.hpp>
#include <descent/tune/storage.hpp>
#include <descent/tune/stored_trials.hpp>

#include <libpq-fe.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace descent::tune {

/// A Storage in a PostgreSQL database, shared by workers on several machines.
class PostgresqlStorage : public Storage {
 public:
  /// Timing of stale-worker detection.
  struct Options {
    std::chrono::seconds stale_after{60};  ///< heartbeat age that declares a worker dead
  };

  /// Connects to `url`, e.g. `postgresql://user@host:5432/db`, with the default Options.
  explicit PostgresqlStorage(std::string url) : PostgresqlStorage(std::move(url), Options{}) {}
  /// Connects to `url` and creates the tables if missing; throws std::runtime_error if it cannot.
  PostgresqlStorage(std::string url, Options options)
      : m_url(masked(url)),
        m_options(options),
        m_host(detail::host_name()),
        m_pid(::getpid()),
        m_start(detail::process_start(::getpid())) {
    m_conn = PQconnectdb(url.c_str());
    if (!m_conn || PQstatus(m_conn) != CONNECTION_OK) {
      const std::string why = m_conn ? PQerrorMessage(m_conn) : "out of memory";
      PQfinish(m_conn);
      throw RuntimeError("descent::tune: cannot connect to PostgreSQL at '" + m_url + "': " + why);
    }
    try {
      exec("SET client_min_messages = warning");  // no NOTICEs for IF NOT EXISTS
      Transaction tx(*this);
      exec("SELECT pg_advisory_xact_lock(7200707)");  // two workers creating the tables at once
      // First, so that a study of another version is refused before anything is added to it.
      exec(detail::create_meta_sql);
      exec(detail::record_version_sql);
      Result stored = query(detail::select_version_sql, {});
      const auto version = detail::check_schema_version(
          source(), stored.rows() == 1 ? std::optional(stored.text(0, 0)) : std::nullopt);
      exec(
          "CREATE TABLE IF NOT EXISTS studies (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL "
          "UNIQUE, "
          "direction TEXT NOT NULL)");
      exec(
          "CREATE TABLE IF NOT EXISTS trials (id BIGSERIAL PRIMARY KEY, "
          "study_id BIGINT NOT NULL REFERENCES studies(id), number BIGINT NOT NULL, "
          "state TEXT NOT NULL, value DOUBLE PRECISION, message TEXT NOT NULL DEFAULT '', "
          "host TEXT NOT NULL, pid BIGINT NOT NULL, pid_start BIGINT NOT NULL, "
          "heartbeat DOUBLE PRECISION NOT NULL, UNIQUE(study_id, number))");
      exec(
          "CREATE TABLE IF NOT EXISTS params (trial_id BIGINT NOT NULL REFERENCES trials(id), "
          "name TEXT NOT NULL, distribution TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, "
          "PRIMARY KEY(trial_id, name))");
      exec(
          "CREATE TABLE IF NOT EXISTS intermediate (trial_id BIGINT NOT NULL REFERENCES "
          "trials(id), "
          "step BIGINT NOT NULL, value DOUBLE PRECISION, PRIMARY KEY(trial_id, step))");
      for (const auto& sql : detail::upgrade_sql(version)) exec(sql.c_str());
      tx.commit();
    } catch (...) {
      PQfinish(m_conn);
      throw;
    }
  }
  ~PostgresqlStorage() override { PQfinish(m_conn); }
  PostgresqlStorage(const PostgresqlStorage&) = delete;
  PostgresqlStorage& operator=(const PostgresqlStorage&) = delete;

  std::int64_t open_study(const std::string& name, Direction direction) override {
    std::lock_guard lock(m_mutex);
    Transaction tx(*this);
    query("INSERT INTO studies (name, direction) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
          {name, std::string(to_string(direction))});
    Result r = query("SELECT id, direction FROM studies WHERE name = $1", {name});
    InMemoryStorage::check_direction(name, detail::stored_direction(source(), name, r.text(0, 1)),
                                     direction);
    tx.commit();
    return r.integer(0, 0);
  }

  FrozenTrial create_trial(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    Transaction tx(*this);
    lock_study(study);
    FrozenTrial t = insert_trial(study, TrialState::running);
    tx.commit();
    return t;
  }

  FrozenTrial enqueue_trial(std::int64_t study, const std::map<std::string, ParamValue>& fixed,
                            std::int64_t retry_of) override {
    std::lock_guard lock(m_mutex);
    Transaction tx(*this);
    lock_study(study);
    FrozenTrial t = insert_trial(study, TrialState::waiting);
    for (const auto& [name, value] : fixed) {
      const auto [kind, cell] = detail::param_value_cells(value);
      query("INSERT INTO fixed_params (trial_id, name, kind, value) VALUES ($1, $2, $3, $4)",
            {text(t.id), name, kind, cell});
    }
    if (retry_of >= 0) {
      query("INSERT INTO retries (trial_id, retry_of) VALUES ($1, $2)",
            {text(t.id), text(retry_of)});
    }
    tx.commit();
    t.fixed_params = fixed;
    t.retry_of = retry_of;
    return t;
  }

  std::optional<FrozenTrial> start_trial(std::int64_t study, std::int64_t limit) override {
    std::lock_guard lock(m_mutex);
    Transaction tx(*this);
    lock_study(study);  // from here no other worker counts or takes: READ COMMITTED sees theirs
    Result count = query("SELECT COUNT(*) FROM trials WHERE study_id = $1 AND state != 'waiting'",
                         {text(study)});
    if (count.integer(0, 0) >= limit) return std::nullopt;
    Result waiting = query(
        "SELECT id FROM trials WHERE study_id = $1 AND state = 'waiting' ORDER BY number LIMIT 1",
        {text(study)});
    if (waiting.rows() == 0) {
      FrozenTrial t = insert_trial(study, TrialState::running);
      tx.commit();
      return t;
    }
    const std::int64_t id = waiting.integer(0, 0);
    query(
        "UPDATE trials SET state = 'running', host = $1, pid = $2, pid_start = $3, "
        "heartbeat = extract(epoch from clock_timestamp()) WHERE id = $4",
        {m_host, text(m_pid), text(m_start), text(id)});
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
    query(
        "INSERT INTO params (trial_id, name, distribution, value) "
        "SELECT $1::bigint, $2, $3, $4::double precision WHERE EXISTS "
        "(SELECT 1 FROM trials WHERE id = $1::bigint AND state = 'running') "
        "ON CONFLICT (trial_id, name) DO UPDATE SET distribution = EXCLUDED.distribution, value = "
        "EXCLUDED.value",
        {text(trial), name, to_text(param.distribution), real_text(param.internal)});
    beat(trial);
  }

  /// Records the value trial `trial` reported at `step` and refreshes its heartbeat, while the
  /// trial runs.
  void report(std::int64_t trial, std::int64_t step, double value) override {
    std::lock_guard lock(m_mutex);
    query(
        "INSERT INTO intermediate (trial_id, step, value) "
        "SELECT $1::bigint, $2::bigint, $3::double precision WHERE EXISTS "
        "(SELECT 1 FROM trials WHERE id = $1::bigint AND state = 'running') "
        "ON CONFLICT (trial_id, step) DO UPDATE SET value = EXCLUDED.value",
        {text(trial), text(step), real_text(value)}, {false, false, std::isnan(value)});
    beat(trial);
  }

  bool finish(std::int64_t trial, TrialState state, double value,
              const std::string& message) override {
    detail::check_finish(state, value);
    std::lock_guard lock(m_mutex);
    Result r = query(
        "UPDATE trials SET state = $1, value = $2, message = $3 WHERE id = $4 AND state = "
        "'running'",
        {std::string(to_string(state)), real_text(value), message, text(trial)},
        {false, std::isnan(value), false, false});
    return r.affected() == 1;
  }

  /// Every trial of the study, ordered by number; finished trials are read once per storage
  /// object, as SqliteStorage does (detail::FinishedTrials).
  std::vector<FrozenTrial> trials(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    detail::FinishedTrials& finished = m_finished[study];
    auto all = read_trials(study, finished.from_id(), &finished);
    finished.update(all);  // only now: a study that fails its checks changes nothing here
    return all;
  }

  void heartbeat(const std::vector<std::int64_t>& trials) override {
    std::lock_guard lock(m_mutex);
    for (const auto id : trials) beat(id);
  }

  std::vector<std::int64_t> fail_stale_trials(std::int64_t study) override {
    std::lock_guard lock(m_mutex);
    Transaction tx(*this);
    Result r = query(
        "SELECT id, host, pid, pid_start, extract(epoch from clock_timestamp()) - heartbeat "
        "FROM trials WHERE study_id = $1 AND state = 'running' FOR UPDATE",
        {text(study)});
    std::vector<std::int64_t> marked;
    for (int row = 0; row < r.rows(); ++row) {
      const auto pid = r.integer(row, 2), start = r.integer(row, 3);
      const double age = r.real_cell(row, 4).value_or(0.0);
      std::string why;
      if (r.text(row, 1) == m_host && detail::worker_gone(pid, start)) {
        why = "worker " + std::to_string(pid) + " on " + m_host + " died";
      } else if (age > double(m_options.stale_after.count())) {
        why = detail::no_heartbeat(age, pid, r.text(row, 1));
      } else {
        continue;
      }
      query("UPDATE trials SET state = 'failed', message = $1 WHERE id = $2 AND state = 'running'",
            {why, text(r.integer(row, 0))});
      marked.push_back(r.integer(row, 0));
    }
    tx.commit();
    return marked;
  }

 private:
  class Result {
   public:
    explicit Result(PGresult* r) : m_r(r) {}
    ~Result() { PQclear(m_r); }
    Result(Result&& o) noexcept : m_r(o.m_r) { o.m_r = nullptr; }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;

    PGresult* get() const { return m_r; }
    int rows() const { return PQntuples(m_r); }
    int affected() const {
      const char* n = PQcmdTuples(m_r);
      return n && *n ? std::atoi(n) : 0;
    }
    std::string text(int row, int col) const {
      return std::string(PQgetvalue(m_r, row, col), std::size_t(PQgetlength(m_r, row, col)));
    }
    /// A BIGINT the server made (an id, a number it allocated); throws if it is not one.
    std::int64_t integer(int row, int col) const {
      if (const auto v = integer_cell(row, col)) return *v;
      throw RuntimeError("descent::tune: PostgreSQL sent " + detail::quote_excerpt(text(row, col)) +
                         " where an integer belongs");
    }
    /// The cell's integer; none for NULL or any other text.
    detail::Cell<std::int64_t> integer_cell(int row, int col) const {
      if (PQgetisnull(m_r, row, col)) return std::nullopt;
      std::int64_t v = 0;
      const char* p = PQgetvalue(m_r, row, col);
      const char* end = p + PQgetlength(m_r, row, col);
      const auto [stop, ec] = descent::detail::from_chars(p, end, v);
      if (ec != std::errc{} || stop != end) return std::nullopt;
      return v;
    }
    /// The cell's number (NaN for NULL), in PostgreSQL's text: shortest exact digits since
    /// version 12, and NaN, Infinity, -Infinity; none for anything else.
    detail::Cell<double> real_cell(int row, int col) const {
      constexpr double inf = std::numeric_limits<double>::infinity();
      if (PQgetisnull(m_r, row, col)) return std::numeric_limits<double>::quiet_NaN();
      const std::string s = text(row, col);
      if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
      if (s == "Infinity") return inf;
      if (s == "-Infinity") return -inf;
      double v = 0;
      const auto [stop, ec] = descent::detail::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc{} || stop != s.data() + s.size()) return std::nullopt;
      return v;
    }

   private:
    PGresult* m_r;
  };

  class Transaction {
   public:
    explicit Transaction(PostgresqlStorage& db, const char* begin = "BEGIN") : m_db(db) {
      db.exec(begin);
    }
    ~Transaction() {
      if (!m_done) PQclear(PQexec(m_db.m_conn, "ROLLBACK"));
    }
    void commit() {
      m_db.exec("COMMIT");
      m_done = true;
    }

   private:
    PostgresqlStorage& m_db;
    bool m_done = false;
  };

  /// "PostgreSQL at 'URL'" (password masked), for messages.
  std::string source() const { return "PostgreSQL at '" + m_url + "'"; }

  /// The URL without its password, for messages.
  static std::string masked(const std::string& url) {
    const auto scheme = url.find("://");
    const auto at = url.find('@');
    if (scheme == std::string::npos || at == std::string::npos) return url;
    const auto colon = url.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + "***" + url.substr(at);
  }

  static std::string text(std::int64_t v) { return std::to_string(v); }
  static std::string real_text(double v) {
    return std::isnan(v) ? std::string() : detail::format_number(v);
  }

  /// Runs sql with text parameters ($1, $2 ...); `null` marks parameters sent as NULL.
  Result query(const char* sql, const std::vector<std::string>& params,
               const std::vector<bool>& null = {}) {
    std::vector<const char*> values;
    for (std::size_t i = 0; i < params.size(); ++i) {
      values.push_back(i < null.size() && null[i] ? nullptr : params[i].c_str());
    }
    Result r(
        PQexecParams(m_conn, sql, int(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    check(r, sql);
    return r;
  }
  void exec(const char* sql) {
    Result r(PQexec(m_conn, sql));
    check(r, sql);
  }
  void check(const Result& r, const char* sql) {
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw RuntimeError("descent::tune: PostgreSQL at '" + m_url + "': " + PQerrorMessage(m_conn) +
                         " (in: " + sql + ")");
    }
  }

  /// Holds the study's row lock to the end of the transaction: one allocator at a time.
  void lock_study(std::int64_t study) {
    query("SELECT id FROM studies WHERE id = $1 FOR UPDATE", {text(study)});
  }

  /// A new trial of the study in `state` with the next number, inside the caller's transaction
  /// and under lock_study.
  FrozenTrial insert_trial(std::int64_t study, TrialState state) {
    Result r = query(
        "INSERT INTO trials (study_id, number, state, host, pid, pid_start, heartbeat) "
        "SELECT $1, COALESCE(MAX(number) + 1, 0), $2, $3, $4, $5, "
        "extract(epoch from clock_timestamp()) FROM trials WHERE study_id = $1 RETURNING id, "
        "number",
        {text(study), std::string(to_string(state)), m_host, text(m_pid), text(m_start)});
    FrozenTrial t;
    t.id = r.integer(0, 0);
    t.number = r.integer(0, 1);
    t.state = state;
    return t;
  }

  /// The study's trials with ids from `from_id` on (and, with `finished`, the ones it kept), in
  /// one snapshot, checked.
  std::vector<FrozenTrial> read_trials(std::int64_t study, std::int64_t from_id,
                                       const detail::FinishedTrials* finished = nullptr) {
    Transaction tx(*this, "BEGIN ISOLATION LEVEL REPEATABLE READ");  // one snapshot for the reads
    const std::string id = text(study), from = text(from_id);
    Result name = query("SELECT name FROM studies WHERE id = $1", {id});
    if (name.rows() != 1)
      throw OutOfRange("descent::tune: " + source() + ": no study with id " + id);
    detail::StoredTrials out(source(), name.text(0, 0));
    if (finished) finished->add_to(out);
    Result t = query(
        "SELECT id, number, state, value, message FROM trials "
        "WHERE study_id = $1 AND id >= $2",
        {id, from});
    for (int row = 0; row < t.rows(); ++row) {
      out.add_trial(t.integer(row, 0), t.integer_cell(row, 1), t.text(row, 2), t.real_cell(row, 3),
                    t.text(row, 4));
    }
    Result p = query(
        "SELECT p.trial_id, p.name, p.distribution, p.value FROM params p "
        "JOIN trials t ON t.id = p.trial_id WHERE t.study_id = $1 AND t.id >= $2",
        {id, from});
    for (int row = 0; row < p.rows(); ++row) {
      out.add_param(p.integer(row, 0), p.text(row, 1), p.text(row, 2), p.real_cell(row, 3));
    }
    Result i = query(
        "SELECT i.trial_id, i.step, i.value FROM intermediate i "
        "JOIN trials t ON t.id = i.trial_id WHERE t.study_id = $1 AND t.id >= $2",
        {id, from});
    for (int row = 0; row < i.rows(); ++row)
      out.add_report(i.integer(row, 0), i.integer_cell(row, 1), i.real_cell(row, 2));
    Result f = query(
        "SELECT f.trial_id, f.name, f.kind, f.value FROM fixed_params f "
        "JOIN trials t ON t.id = f.trial_id WHERE t.study_id = $1 AND t.id >= $2",
        {id, from});
    for (int row = 0; row < f.rows(); ++row)
      out.add_fixed_param(f.integer(row, 0), f.text(row, 1), f.text(row, 2), f.text(row, 3));
    Result r = query(
        "SELECT r.trial_id, r.retry_of FROM retries r "
        "JOIN trials t ON t.id = r.trial_id WHERE t.study_id = $1 AND t.id >= $2",
        {id, from});
    for (int row = 0; row < r.rows(); ++row)
      out.add_retry(r.integer(row, 0), r.integer_cell(row, 1));
    tx.commit();
    return out.take();
  }

  void beat(std::int64_t trial) {
    query(
        "UPDATE trials SET heartbeat = extract(epoch from clock_timestamp()) WHERE id = $1 AND "
        "state = 'running'",
        {text(trial)});
  }

  std::string m_url;
  Options m_options;
  std::string m_host;
  long long m_pid, m_start;
  PGconn* m_conn = nullptr;
  std::map<std::int64_t, detail::FinishedTrials> m_finished;  ///< by study id
  std::mutex m_mutex;
};

namespace detail {

inline std::shared_ptr<Storage> open_postgresql(std::string_view url) {
  return std::make_shared<PostgresqlStorage>(std::string(url));
}

/// open_storage takes postgresql:// addresses in every program that includes this header.
inline const bool postgresql_schemes =
    register_storage_scheme({"postgresql://", "postgres://"}, open_postgresql);

}  // namespace detail

}  // namespace descent::tune

#endif  // __has_include(<libpq-fe.h>)
