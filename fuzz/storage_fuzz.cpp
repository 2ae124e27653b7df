// Fuzzes what descent::tune reads back from a study file. A small valid SQLite study (every kind
// of parameter, complete, pruned and failed trials, reports) is written once; for each input a
// copy of it is changed through SQL as a broken tool or a forger could, then loaded with
// SqliteStorage and a study runs one trial with TPE and one with random search (suggesting every
// parameter, reporting, asking ASHA and the median pruner), and reads its best trial.
//
// The input is a list of edits, each: one byte for the column (kColumns below), one for the row,
// then a value: a type byte (integer, real, text, NULL, bytes, or one of a few nasty numbers)
// and its payload. Every outcome must be a result or an error from descent::tune (a
// std::runtime_error or std::invalid_argument whose message starts "descent::tune"); anything
// else - a crash, a sanitizer report, another exception - aborts.
//
// DESCENT_FUZZ_SEEDS=dir fuzz_storage writes seed edit lists into dir and exits (scripts/fuzz.sh).

#include <descent/tune.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace tune = descent::tune;
using tune::TrialState;
using Bytes = std::vector<std::uint8_t>;

/// The objective of the seed study and of every fuzzed one: asks for each kind of parameter.
double objective(tune::Trial& t) {
  const double x = t.suggest_float("x", -3, 3);
  const double lr = t.suggest_float("lr", 1e-5, 1e-1, {.log = true});
  const double d = t.suggest_float("d", 0, 0.5, {.step = 0.1});
  const auto n = t.suggest_int("n", 1, 9);
  const auto k = t.suggest_int("k", -10, 20, 3);
  const auto u = t.suggest_int("u", 2, 1024, 1, true);
  const auto act = t.suggest_categorical("act", {"relu", "tanh", "gelu"});
  const auto w = t.suggest_int("w", INT64_MIN + 1, INT64_MAX, 7);
  const double v = x * x + lr + d + double(n + k + u) / 100 + (act == "tanh") + (w > 0);
  t.report(v * 2, 1);
  t.report(v, 4);
  if (t.should_prune()) throw tune::TrialPruned();
  return v;
}

/// A file of this process's in memory (/dev/shm) when there is one: SQLite's fsyncs cost nothing.
fs::path scratch(const std::string& what) {
  std::error_code ec;
  const fs::path dir =
      fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
  return dir / ("descent_fuzz_storage." + std::to_string(::getpid()) + "." + what);
}

void remove_study(const fs::path& file) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    fs::remove(file.string() + suffix, ec);
}

/// The seed study: 6 trials, some complete, one pruned, one failed.
const fs::path& template_study() {
  static const fs::path path = [] {
    const fs::path file = scratch("template.db");
    remove_study(file);
    tune::Study study({.sampler = std::make_shared<tune::RandomSampler>(1),
                       .pruner = std::make_shared<tune::MedianPruner>(
                           tune::MedianPruner::Options{.n_startup_trials = 2}),
                       .storage = std::make_shared<tune::SqliteStorage>(file.string()),
                       .name = "s"});
    study.optimize(
        [](tune::Trial& t) {
          if (t.number() == 4) throw std::runtime_error("failed on purpose");
          if (t.number() == 5) {
            objective(t);
            throw tune::TrialPruned();
          }
          return objective(t);
        },
        6);
    return file;
  }();
  return path;
}

// ---- the edits --------------------------------------------------------------------------------

/// The columns an edit may change (`UPDATE table SET column = ? WHERE rowid = <the row-th row>`),
/// and three kinds of rows it may add or take away.
constexpr const char* kColumns[][2] = {
    {"trials", "number"},       {"trials", "state"},       {"trials", "value"},
    {"trials", "message"},      {"trials", "heartbeat"},   {"trials", "pid"},
    {"trials", "host"},         {"trials", "study_id"},    {"params", "value"},
    {"params", "distribution"}, {"params", "name"},        {"params", "trial_id"},
    {"intermediate", "step"},   {"intermediate", "value"}, {"intermediate", "trial_id"},
    {"studies", "direction"},   {"studies", "name"},
};
constexpr int kUpdates = int(sizeof kColumns / sizeof kColumns[0]);
enum Kind : std::uint8_t { integer, real, text, null, blob, nasty, kinds };

const double kNasty[] = {-1,
                         7,
                         1e20,
                         -1e20,
                         std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity(),
                         9223372036854775808.0,
                         -9223372036854775808.0,
                         0.5,
                         -0.0,
                         1e308,
                         5e-324};

/// Reads the input front to back; past its end, zeros.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : m_data(data), m_size(size) {}
  bool done() const { return m_at >= m_size; }
  std::uint8_t byte() { return m_at < m_size ? m_data[m_at++] : 0; }
  std::uint64_t word() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t(byte()) << (8 * i);
    return v;
  }
  std::string bytes(std::size_t n) {
    n = std::min(n, m_size - std::min(m_at, m_size));
    std::string out(reinterpret_cast<const char*>(m_data + m_at), n);
    m_at += n;
    return out;
  }

 private:
  const std::uint8_t* m_data;
  std::size_t m_size, m_at = 0;
};

/// Binds the next value of the input to parameter `i` of `stmt`.
void bind_value(sqlite3_stmt* stmt, int i, Input& in) {
  switch (in.byte() % kinds) {
    case integer:
      sqlite3_bind_int64(stmt, i, std::int64_t(in.word()));
      break;
    case real: {
      const std::uint64_t bits = in.word();
      double v;
      std::memcpy(&v, &bits, sizeof v);
      sqlite3_bind_double(stmt, i, v);
      break;
    }
    case text: {
      const std::string s = in.bytes(in.byte());
      sqlite3_bind_text(stmt, i, s.data(), int(s.size()), SQLITE_TRANSIENT);
      break;
    }
    case null:
      sqlite3_bind_null(stmt, i);
      break;
    case blob: {
      const std::string s = in.bytes(in.byte() % 16);
      sqlite3_bind_blob(stmt, i, s.data(), int(s.size()), SQLITE_TRANSIENT);
      break;
    }
    default:
      sqlite3_bind_double(stmt, i, kNasty[in.byte() % std::size(kNasty)]);
      break;
  }
}

/// Runs one SQL edit; a statement SQLite refuses (a broken constraint) just changes nothing.
void run(sqlite3* db, const std::string& sql, Input& in, int values, int row) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) std::abort();
  for (int i = 1; i <= values; ++i) bind_value(stmt, i, in);
  if (row >= 0) sqlite3_bind_int(stmt, values + 1, row);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
}

void apply_edits(const fs::path& file, Input& in) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) std::abort();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);  // one commit for all the edits
  for (int edits = 0; !in.done() && edits < 64; ++edits) {
    const int what = in.byte() % (kUpdates + 3);
    const int row = in.byte() % 64;
    if (what < kUpdates) {
      const std::string table = kColumns[what][0];
      run(db,
          "UPDATE " + table + " SET " + kColumns[what][1] +
              " = ? WHERE rowid = (SELECT rowid FROM " + table +
              " ORDER BY rowid LIMIT 1 OFFSET ?)",
          in, 1, row);
    } else if (what == kUpdates) {
      run(db, "INSERT INTO params (trial_id, name, distribution, value) VALUES (?, ?, ?, ?)", in, 4,
          -1);
    } else if (what == kUpdates + 1) {
      run(db, "INSERT INTO intermediate (trial_id, step, value) VALUES (?, ?, ?)", in, 3, -1);
    } else {
      const char* tables[] = {"trials", "params", "intermediate"};
      const std::string table = tables[row % 3];
      run(db,
          "DELETE FROM " + table + " WHERE rowid = (SELECT rowid FROM " + table +
              " ORDER BY rowid LIMIT 1 OFFSET ?)",
          in, 0, row / 3);
    }
  }
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

// ---- loading and sampling ---------------------------------------------------------------------

/// An exception the library may throw for a bad study: its own runtime or argument errors.
bool clean(const std::exception& e) {
  const bool kind = dynamic_cast<const std::runtime_error*>(&e) ||
                    dynamic_cast<const std::invalid_argument*>(&e) ||
                    dynamic_cast<const std::out_of_range*>(&e);
  return kind && std::string_view(e.what()).starts_with("descent::tune");
}

void load_and_sample(const fs::path& file) {
  auto storage = std::make_shared<tune::SqliteStorage>(
      file.string(), tune::SqliteStorage::Options{.stale_after = std::chrono::seconds(1000000)});
  const std::shared_ptr<tune::Sampler> samplers[] = {
      std::make_shared<tune::TpeSampler>(
          tune::TpeSampler::Options{.seed = 3, .n_startup_trials = 2}),
      std::make_shared<tune::RandomSampler>(3)};
  const std::shared_ptr<tune::Pruner> pruners[] = {
      std::make_shared<tune::SuccessiveHalvingPruner>(),
      std::make_shared<tune::MedianPruner>(tune::MedianPruner::Options{.n_startup_trials = 1})};
  for (int i = 0; i < 2; ++i) {
    tune::Study study(
        {.sampler = samplers[i], .pruner = pruners[i], .storage = storage, .name = "s"});
    // ask/tell, not optimize(): no heartbeat thread to start each run, and the objective's
    // exceptions are seen here instead of being recorded as a failed trial.
    tune::Trial trial = study.ask();
    try {
      study.tell(trial, TrialState::complete, objective(trial));
    } catch (const tune::TrialPruned&) {
      study.tell(trial, TrialState::pruned);
    }
    for (const auto& [name, value] : study.best_params()) (void)name, (void)value;
    for (const auto& t : study.trials()) {
      for (const auto& [name, p] : t.params) (void)p.text();
    }
  }
}

/// Writes a seed: the edits in `bytes`.
void write_seed(const fs::path& dir, const std::string& name, const Bytes& bytes) {
  std::FILE* f = std::fopen((dir / name).c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0)
    std::abort();
}

/// An edit of column `column`, row `row`, to nasty number `k` (kNasty[k]).
Bytes nasty_edit(int column, int row, int k) {
  return {std::uint8_t(column), std::uint8_t(row), nasty, std::uint8_t(k)};
}

/// An edit of column `column`, row `row`, to text `s`.
Bytes text_edit(int column, int row, std::string_view s) {
  Bytes out{std::uint8_t(column), std::uint8_t(row), text, std::uint8_t(s.size())};
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

void write_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  write_seed(dir, "unchanged", {});
  // params rows come in the order the objective asks: x lr d n k u act w, 8 per trial.
  write_seed(dir, "categorical_minus_one", nasty_edit(8, 6, 0));
  write_seed(dir, "categorical_seven", nasty_edit(8, 14, 1));
  write_seed(dir, "categorical_1e20", nasty_edit(8, 22, 2));
  write_seed(dir, "wide_int_2p63", nasty_edit(8, 7, 6));
  write_seed(dir, "float_inf", nasty_edit(8, 0, 4));
  write_seed(dir, "distribution", text_edit(9, 3, "int 1 9 0 0"));
  write_seed(dir, "distribution_categorical", text_edit(9, 6, "categorical 2 4:relu 4:tanh"));
  write_seed(dir, "state", text_edit(1, 2, "zombie"));
  write_seed(dir, "running", text_edit(1, 2, "running"));
  write_seed(dir, "number", nasty_edit(0, 1, 0));
  write_seed(dir, "direction", text_edit(15, 0, "maximize"));
  write_seed(dir, "report_step", nasty_edit(12, 3, 0));
  Bytes insert{std::uint8_t(kUpdates), 0, integer, 1, 0, 0, 0, 0, 0, 0, 0, text, 1, 'z', text, 11};
  const std::string distribution = "float 0 1 0 0";
  insert.insert(insert.end(), distribution.begin(), distribution.end());
  insert.insert(insert.end(), {nasty, 8});
  write_seed(dir, "insert_param", insert);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("DESCENT_FUZZ_SEEDS")) {
    write_seeds(dir);
    remove_study(template_study());
    std::exit(0);
  }
  template_study();
  std::atexit([] { remove_study(template_study()); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  static const fs::path file = scratch("study.db");
  remove_study(file);
  fs::copy_file(template_study(), file);
  Input in(bytes, size);
  apply_edits(file, in);
  try {
    load_and_sample(file);
  } catch (const std::exception& e) {
    if (!clean(e)) {
      std::fprintf(stderr, "unexpected exception: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
