// tune: searches the Fashion-MNIST network's hyperparameters with descent::tune.
//
// What it shows
//   A study of up to --trials trials. Each trial builds a network from sampled settings - hidden
//   layers (1-3), units per layer (32-512, log), dropout (0-0.5), activation, learning rate
//   (1e-4 to 1e-1, log), batch size (16-512, log), optimizer (all of them) and loss - trains it
//   on --subset training images for up to --max-epochs epochs and reports, after every epoch, its
//   accuracy on 10,000 held-out training images (the last 10,000; the test set stays untouched).
//   The pruner (ASHA by default) stops trials that fall behind at epochs 1, 4, 16, ...; the sampler
//   (TPE by default) learns from the finished trials which settings to try next.
//
// How to run
//   sudo apt-get install dataset-fashion-mnist
//   build/examples/tune --trials 40 --jobs 2                  # studies into tune.db (SQLite)
//   build/examples/tune --trials 20 --sampler random --pruner none --storage memory
//   build/examples/tune --study s1 ...                        # run again later: s1 continues
//   build/examples/tune --study s1 --total 60 --timeout 3600  # up to 60 in all, for an hour
//   build/examples/tune --storage postgresql://me@db-host:5432/studies   # on every machine
//   build/examples/tune --help                                # every flag
//
// What to look for
//   One line per finished trial: its state, its accuracy, the best so far. Pruned trials end at
//   epoch 1 or 3, so the study trains far fewer epochs than trials x max-epochs (the last lines
//   say how many). At the end: the best configuration as a fashion_mnist command line to train
//   it on all 60,000 images and measure it on the test set, and tune.svg: accuracy per trial with
//   the best-so-far line, and one panel per hyperparameter (accuracy against its value).
//   Kill it (Ctrl-C, or kill -9) and start it again with the same --storage and --study: the
//   finished trials are kept, the one that was running is marked failed and run again with the
//   same settings, and the study goes on. With --total N instead of --trials, every run (and every
//   worker on the study at once) stops when the study holds N trials: resumed, it ends at N.
//
// Exit status: 0 on success, 2 for a bad flag (the message names it), 1 when the data cannot be
// read, the storage cannot be opened or an output file cannot be written.

#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <descent/tune.hpp>

#include "common.hpp"
#include "svg.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace ex = descent::examples;
namespace nn = descent::nn;
namespace tune = descent::tune;
using descent::data::Dataset;

constexpr std::string_view usage_text =
    "usage: tune [flags]\n"
    "  --trials N            trials to run now (default 40, or no limit with --total or --timeout)\n"
    "  --total N             stop when the study holds N trials (from every worker, any state)\n"
    "  --timeout SECONDS     start no trial after this long\n"
    "  --jobs N              trials at once, on threads (default 1)\n"
    "  --sampler NAME        tpe (the study's default), random or grid (default tpe)\n"
    "  --pruner NAME         asha, median or none (default asha)\n"
    "  --storage WHERE       sqlite:FILE, postgresql://USER@HOST:PORT/DB (workers on several\n"
    "                        machines) or memory (default sqlite:tune.db)\n"
    "  --study NAME          the study in the storage; an existing one continues (default fashion_mnist)\n"
    "  --subset N            training images per trial (default 10000, at most 50000)\n"
    "  --max-epochs N        epochs of a trial that is not pruned (default 10)\n"
    "  --seed N              sampler, weights and shuffling (default 0)\n"
    "  --data DIR            Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)\n"
    "  --json FILE           write every trial of the study and the best one as JSON\n"
    "  --svg FILE            the study's picture (default tune.svg; 'none' for none)\n";

struct Settings {
  std::filesystem::path data{ex::fashion_mnist_dir};
  std::optional<int> trials;  ///< none: 40, unless --total or --timeout limit the run
  std::optional<std::int64_t> total;
  std::optional<double> timeout;
  int jobs = 1;
  std::string sampler = "tpe";
  std::string pruner = "asha";
  std::string storage = "sqlite:tune.db";
  std::string study = "fashion_mnist";
  Eigen::Index subset = 10000;
  int max_epochs = 10;
  std::uint64_t seed = 0;
  std::filesystem::path json;
  std::filesystem::path svg = "tune.svg";
};

constexpr Eigen::Index validation_size = 10000;  // the last training images; never trained on

Settings parse(int argc, char** argv) {
  Settings s;
  ex::Args args(argc, argv);
  while (!args.done()) {
    const std::string_view flag = args.flag();
    if (flag == "-h" || flag == "--help") {
      std::fputs(usage_text.data(), stdout);
      std::exit(0);
    } else if (flag == "--trials") {
      s.trials = int(args.integer(0, 1000000));
    } else if (flag == "--total") {
      s.total = args.integer(0, 1000000);
    } else if (flag == "--timeout") {
      s.timeout = double(args.integer(0));
    } else if (flag == "--jobs") {
      s.jobs = int(args.integer(1, 256));
    } else if (flag == "--sampler") {
      s.sampler = args.value();
      if (s.sampler != "tpe" && s.sampler != "random" && s.sampler != "grid") {
        ex::flag_error(flag, "unknown sampler '" + s.sampler + "' (tpe, random, grid)");
      }
    } else if (flag == "--pruner") {
      s.pruner = args.value();
      if (s.pruner != "asha" && s.pruner != "median" && s.pruner != "none") {
        ex::flag_error(flag, "unknown pruner '" + s.pruner + "' (asha, median, none)");
      }
    } else if (flag == "--storage") {
      s.storage = args.value();
      if (s.storage.rfind("sqlite:", 0) == 0) {
        ex::require_writable_file(flag, s.storage.substr(7));
      } else if (s.storage.rfind("postgresql://", 0) == 0 || s.storage.rfind("postgres://", 0) == 0) {
        if (!tune::has_postgresql()) ex::flag_error(flag, "this build has no PostgreSQL storage (install libpq-dev, reconfigure)");
      } else if (s.storage != "memory") {
        ex::flag_error(flag, "'" + s.storage + "' is none of sqlite:FILE, postgresql://USER@HOST:PORT/DB, memory");
      }
    } else if (flag == "--study") {
      s.study = args.value();
      if (s.study.empty()) ex::flag_error(flag, "needs a name");
    } else if (flag == "--subset") {
      s.subset = args.integer(1, 60000 - validation_size);
    } else if (flag == "--max-epochs") {
      s.max_epochs = int(args.integer(1, 100000));
    } else if (flag == "--seed") {
      s.seed = std::uint64_t(args.integer(0));
    } else if (flag == "--data") {
      s.data = std::string(args.value());
    } else if (flag == "--json") {
      s.json = std::string(args.value());
      ex::require_writable_file(flag, s.json);
    } else if (flag == "--svg") {
      s.svg = std::string(args.value());
      if (s.svg != "none") ex::require_writable_file(flag, s.svg);
    } else {
      throw ex::UsageError("unknown flag '" + std::string(flag) + "' (see --help)");
    }
  }
  if (!s.trials && !s.total && !s.timeout) s.trials = 40;
  return s;
}

// ---- the search space ---------------------------------------------------------------------------

const std::vector<std::string> activations = {"relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus"};
const std::vector<std::string> unit_names = {"units_1", "units_2", "units_3"};

/// Every optimizer make_optimizer knows (the registry: the built-in ones and any registered).
std::vector<std::string> all_optimizers() { return descent::optimizer_names<float>(); }
std::vector<std::string> all_losses() {
  std::vector<std::string> names;
  for (const auto& [loss, name] : nn::loss_names) names.emplace_back(name);
  return names;
}

/// One network and training configuration, as fashion_mnist's flags take it.
struct Config {
  std::vector<Eigen::Index> hidden;
  std::string activation;
  double dropout = 0;
  std::string optimizer;
  double learning_rate = 0;
  Eigen::Index batch_size = 0;
  std::string loss;
};

/// The parameters in the order they are asked for (the grid sampler needs it fixed).
Config suggest(tune::Trial& t) {
  Config c;
  const auto layers = t.suggest_int("layers", 1, 3);
  for (std::int64_t i = 0; i < layers; ++i) c.hidden.push_back(t.suggest_int(unit_names[std::size_t(i)], 32, 512, 1, true));
  c.dropout = t.suggest_float("dropout", 0, 0.5);
  c.activation = t.suggest_categorical("activation", activations);
  c.learning_rate = t.suggest_float("learning_rate", 1e-4, 1e-1, {.log = true});
  c.batch_size = t.suggest_int("batch_size", 16, 512, 1, true);
  c.optimizer = t.suggest_categorical("optimizer", all_optimizers());
  c.loss = t.suggest_categorical("loss", all_losses());
  return c;
}

Config config_of(const tune::FrozenTrial& t) {
  Config c;
  for (std::int64_t i = 0; i < t.get_int("layers"); ++i) c.hidden.push_back(t.get_int(unit_names[std::size_t(i)]));
  c.dropout = t.get_float("dropout");
  c.activation = t.get_categorical("activation");
  c.learning_rate = t.get_float("learning_rate");
  c.batch_size = t.get_int("batch_size");
  c.optimizer = t.get_categorical("optimizer");
  c.loss = t.get_categorical("loss");
  return c;
}

std::string hidden_text(const Config& c) {
  std::string text;
  for (std::size_t i = 0; i < c.hidden.size(); ++i) {
    if (i) text += ',';
    text += std::to_string(c.hidden[i]);
  }
  return text;
}

std::string short_text(const Config& c) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s %s drop %.2f, %s lr %.2g batch %lld, %s", hidden_text(c).c_str(),
                c.activation.c_str(), c.dropout, c.optimizer.c_str(), c.learning_rate,
                static_cast<long long>(c.batch_size), c.loss.c_str());
  return buf;
}

/// v to 4 significant digits, shortest form ("0.4803", "0.002557"): close enough to what the
/// trial ran, and readable.
std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return ex::format_exact(std::strtod(buf, nullptr));
}

/// The fashion_mnist command that trains configuration `c` for `epochs` epochs.
std::string command_line(const Config& c, std::int64_t epochs, const Settings& s) {
  return "build/examples/fashion_mnist --hidden " + hidden_text(c) + " --activation " + c.activation +
         " --dropout " + short_number(c.dropout) + " --optimizer " + c.optimizer + " --learning-rate " +
         short_number(c.learning_rate) + " --batch-size " + std::to_string(c.batch_size) + " --loss " +
         c.loss + " --epochs " + std::to_string(epochs) + " --seed " + std::to_string(s.seed);
}

// ---- one trial ------------------------------------------------------------------------------------

double argmax_accuracy(const Eigen::MatrixXf& outputs, const Eigen::MatrixXf& labels) {
  Eigen::Index correct = 0;
  for (Eigen::Index j = 0; j < outputs.cols(); ++j) {
    Eigen::Index predicted = 0;
    outputs.col(j).maxCoeff(&predicted);
    correct += predicted == static_cast<Eigen::Index>(labels(0, j)) ? 1 : 0;
  }
  return double(correct) / double(outputs.cols());
}

/// Reports the held-out accuracy after every epoch and stops training when the pruner says so.
struct ReportAndPrune : nn::Callback {
  tune::Trial* trial = nullptr;
  nn::Sequential<float>* net = nullptr;
  const nn::Trainer<float>* trainer = nullptr;
  const Dataset<float>* validation = nullptr;
  double accuracy = 0;
  bool pruned = false;
  void on_epoch_end(nn::TrainingState& state) override {
    accuracy = argmax_accuracy(trainer->predict(*net, validation->x), validation->y);
    trial->report(accuracy, state.epoch);
    if (trial->should_prune()) pruned = state.stop = true;
  }
};

struct Data {
  Dataset<float> train, train_one_hot;  ///< one-hot targets for the losses other than cross-entropy
  Dataset<float> validation;            ///< class indices, for the accuracy
};

double objective(tune::Trial& trial, const Data& data, const Settings& s) {
  const Config c = suggest(trial);
  const nn::Loss loss = nn::loss_from_string(c.loss);
  nn::Sequential<float> net = nn::make_network<float>(
      nn::NetworkSpec{784, 10, c.hidden, nn::activation_from_string(c.activation), c.dropout}, s.seed);
  nn::Trainer<float> trainer({.optimizer = c.optimizer,
                              .learning_rate = c.learning_rate,
                              .loss = loss,
                              .batch_size = c.batch_size,
                              .epochs = s.max_epochs,
                              .seed = s.seed,
                              .progress = nn::Trainer<float>::Progress::none});
  auto callback = std::make_shared<ReportAndPrune>();
  callback->trial = &trial;
  callback->net = &net;
  callback->trainer = &trainer;
  callback->validation = &data.validation;
  trainer.add_callback(callback);
  trainer.fit(net, loss == nn::Loss::cross_entropy ? data.train : data.train_one_hot);
  if (callback->pruned) throw tune::TrialPruned();
  return callback->accuracy;
}

// ---- output -------------------------------------------------------------------------------------

std::string json_report(const Settings& s, const tune::Study& study, const std::vector<tune::FrozenTrial>& trials) {
  std::string j = "{\n";
  j += "  \"study\": " + ex::json_string(s.study) + ",\n  \"direction\": \"maximize\",\n";
  j += "  \"objective\": \"accuracy on the last 10000 training images\",\n";
  j += "  \"sampler\": " + ex::json_string(s.sampler) + ",\n  \"pruner\": " + ex::json_string(s.pruner) + ",\n";
  j += "  \"subset\": " + std::to_string(s.subset) + ",\n  \"max_epochs\": " + std::to_string(s.max_epochs) + ",\n";
  j += "  \"seed\": " + std::to_string(s.seed) + ",\n  \"trials\": [";
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    j += std::string(i ? "," : "") + "\n    {\"number\": " + std::to_string(t.number) + ", \"state\": " +
         ex::json_string(tune::to_string(t.state)) + ", \"value\": " + ex::json_number(t.value) + ", \"params\": {";
    bool first = true;
    for (const auto& [name, p] : t.params) {
      const auto v = p.value();
      j += std::string(first ? "" : ", ") + ex::json_string(name) + ": " +
           (std::holds_alternative<std::string>(v) ? ex::json_string(p.text())
            : std::holds_alternative<double>(v)    ? ex::json_number(std::get<double>(v))
                                                   : p.text());
      first = false;
    }
    j += "}, \"intermediate\": [";
    first = true;
    for (const auto& [step, v] : t.intermediate) {
      j += std::string(first ? "" : ", ") + "[" + std::to_string(step) + ", " + ex::json_number(v) + "]";
      first = false;
    }
    j += "]";
    if (!t.message.empty()) j += ", \"message\": " + ex::json_string(t.message);
    j += "}";
  }
  j += "\n  ]";
  try {
    const auto best = study.best_trial();
    j += ",\n  \"best\": {\"number\": " + std::to_string(best.number) + ", \"value\": " +
         ex::json_number(best.value) + ", \"command\": " + ex::json_string(command_line(config_of(best), best.last_step(), s)) + "}";
  } catch (const std::runtime_error&) {
    // no complete trial: no "best"
  }
  return j + "\n}\n";
}

/// A choice's name short enough to sit under its tick.
std::string short_label(const std::string& choice) {
  if (choice == "binary_cross_entropy") return "bce";
  if (choice == "cross_entropy") return "ce";
  if (choice == "leaky_relu") return "leaky";
  return choice;
}

/// Accuracy per trial with the best-so-far line, then accuracy against each hyperparameter.
std::string study_svg(const Settings& s, const std::vector<tune::FrozenTrial>& trials) {
  namespace svg = descent::examples;
  constexpr std::string_view complete_color = svg::palette[4], pruned_color = "#aaaaaa", best_color = svg::palette[5];
  double lo = 1, hi = 0;
  for (const auto& t : trials) {
    if (t.state == tune::TrialState::complete || t.state == tune::TrialState::pruned) {
      if (std::isfinite(t.value)) lo = std::min(lo, t.value), hi = std::max(hi, t.value);
    }
  }
  if (lo > hi) lo = 0, hi = 1;
  const double pad = std::max(0.01, (hi - lo) * 0.05);
  const svg::Range y{std::max(0.0, lo - pad), std::min(1.0, hi + pad)};
  const auto visible = [](const tune::FrozenTrial& t) {
    return (t.state == tune::TrialState::complete || t.state == tune::TrialState::pruned) && std::isfinite(t.value);
  };
  const auto color_of = [&](const tune::FrozenTrial& t) {
    return t.state == tune::TrialState::complete ? complete_color : pruned_color;
  };

  std::vector<svg::Figure> figures;
  const double w = 380, h = 270;
  {
    svg::Figure f(w + 120, h, {-0.5, std::max(1.0, double(trials.size()) - 0.5)}, y, {64, 144, 44, 56});
    f.set_title("accuracy per trial");
    f.set_axis_titles("trial", "held-out accuracy");
    std::vector<svg::Point> best_line;
    double best = -1;
    for (const auto& t : trials) {
      if (!visible(t)) continue;
      f.add_marker({double(t.number), t.value}, svg::Marker::circle, 3.5, color_of(t), {.color = "#ffffff", .width = 0.5});
      if (t.state == tune::TrialState::complete && t.value > best) {
        if (best >= 0) best_line.push_back({double(t.number), best});  // a step, not a slope
        best = t.value;
      }
      if (best >= 0) best_line.push_back({double(t.number), best});
    }
    if (!best_line.empty()) best_line.push_back({double(trials.size()) - 0.5, best_line.back().y});
    f.add_path(best_line, {.color = best_color, .width = 2}, "study-best");
    f.add_legend_entry("complete", {.color = complete_color, .width = 6});
    f.add_legend_entry("pruned", {.color = pruned_color, .width = 6});
    f.add_legend_entry("best so far", {.color = best_color, .width = 2});
    figures.push_back(std::move(f));
  }

  // One panel per hyperparameter, in the order the objective asks for them.
  std::vector<std::pair<std::string, tune::Distribution>> params;
  for (const auto& t : trials) {
    for (const auto& param : t.params) {
      const std::string& name = param.first;
      if (std::none_of(params.begin(), params.end(), [&](const auto& q) { return q.first == name; })) {
        params.emplace_back(name, param.second.distribution);
      }
    }
  }
  const std::vector<std::string> order = {"layers", "units_1", "units_2", "units_3", "dropout", "activation",
                                          "learning_rate", "batch_size", "optimizer", "loss"};
  std::stable_sort(params.begin(), params.end(), [&](const auto& a, const auto& b) {
    return std::find(order.begin(), order.end(), a.first) < std::find(order.begin(), order.end(), b.first);
  });
  for (const auto& [name, distribution] : params) {
    const auto* categorical = std::get_if<tune::CategoricalDistribution>(&distribution);
    double x_lo = 0, x_hi = 1;
    bool log = false;
    if (categorical) {
      x_lo = -0.5, x_hi = double(categorical->choices.size()) - 0.5;
    } else if (const auto* fl = std::get_if<tune::FloatDistribution>(&distribution)) {
      log = fl->log, x_lo = fl->low, x_hi = fl->high;
    } else {
      const auto& in = std::get<tune::IntDistribution>(distribution);
      log = in.log, x_lo = double(in.low), x_hi = double(in.high);
      if (!log) x_lo -= 0.5, x_hi += 0.5;
    }
    if (log) x_lo = std::log10(x_lo), x_hi = std::log10(x_hi);
    const double panel_width = categorical ? std::max(w, 64.0 * double(categorical->choices.size()) + 88) : w;
    svg::Figure f(panel_width, h, {x_lo, x_hi}, y);
    f.set_title(name);
    f.set_axis_titles(log ? name + " (log scale)" : name, "held-out accuracy");
    if (categorical) {
      std::vector<double> ticks;
      for (std::size_t i = 0; i < categorical->choices.size(); ++i) ticks.push_back(double(i));
      std::vector<std::string> labels;
      for (const auto& choice : categorical->choices) labels.push_back(short_label(choice));
      f.set_x_ticks(ticks, labels);
    } else if (log) {
      // 1, 2 and 5 times the powers of ten inside the range; only the powers when that is many.
      std::vector<double> ticks;
      std::vector<std::string> labels;
      for (const double m : {1.0, 2.0, 5.0}) {
        for (double e = std::floor(x_lo); e <= std::ceil(x_hi); ++e) {
          const double v = std::log10(m) + e;
          if (v >= x_lo - 1e-9 && v <= x_hi + 1e-9) ticks.push_back(v);
        }
      }
      std::sort(ticks.begin(), ticks.end());
      if (ticks.size() > 7) std::erase_if(ticks, [](double v) { return std::abs(v - std::round(v)) > 1e-9; });
      for (const double v : ticks) labels.push_back(ex::format_exact(std::round(std::pow(10.0, v) * 1e6) / 1e6));
      f.set_x_ticks(ticks, labels);
    } else if (std::holds_alternative<tune::IntDistribution>(distribution) && x_hi - x_lo <= 11) {
      std::vector<double> ticks;
      for (double v = x_lo + 0.5; v < x_hi; ++v) ticks.push_back(v);
      f.set_x_ticks(ticks);
    }
    for (const auto& t : trials) {
      const auto it = t.params.find(name);
      if (!visible(t) || it == t.params.end() || it->second.distribution.index() != distribution.index()) continue;
      const double x = log ? std::log10(it->second.internal) : it->second.internal;
      f.add_marker({x, t.value}, svg::Marker::circle, 3.5, color_of(t), {.color = "#ffffff", .width = 0.5});
    }
    figures.push_back(std::move(f));
  }

  // Three figures a row.
  const std::string title = "tune: study '" + s.study + "', " + std::to_string(trials.size()) + " trials (" +
                            s.sampler + " sampler, " + s.pruner + " pruner)";
  const double band = 34;
  const std::size_t columns = 3;
  double width = 0, height = band, row_height = 0, x = 0;
  std::string body;
  for (std::size_t i = 0; i < figures.size(); ++i) {
    if (i == 1 || (i > 1 && (i - 1) % columns == 0)) {  // the study panel has a row of its own
      width = std::max(width, x), height += row_height, x = 0, row_height = 0;
    }
    const auto& f = figures[i];
    body += "<svg x=\"" + svg::detail::number(x, 1) + "\" y=\"" + svg::detail::number(height, 1) + "\" width=\"" +
            svg::detail::number(f.width(), 1) + "\" height=\"" + svg::detail::number(f.height(), 1) +
            "\" viewBox=\"0 0 " + svg::detail::number(f.width(), 1) + " " + svg::detail::number(f.height(), 1) +
            "\">\n" + f.render_content("plot-area-" + std::to_string(i)) + "</svg>\n";
    x += f.width();
    row_height = std::max(row_height, f.height());
  }
  width = std::max(width, x), height += row_height;
  return svg::detail::svg_open(width, height) + "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n" +
         "<text x=\"" + svg::detail::number(width / 2, 1) +
         "\" y=\"24\" font-size=\"17\" font-weight=\"bold\" text-anchor=\"middle\">" + svg::escape_xml(title) +
         "</text>\n" + body + "</svg>\n";
}

// ---- main -----------------------------------------------------------------------------------------

int run(const Settings& s) {
  Data data;
  try {
    auto train = descent::data::load_mnist<float>(s.data, descent::data::Split::train);
    std::vector<Eigen::Index> held_out(validation_size);
    for (Eigen::Index i = 0; i < validation_size; ++i) held_out[std::size_t(i)] = train.size() - validation_size + i;
    data.validation = descent::data::subset(train, held_out);
    data.train = descent::data::subset(train, s.subset);
  } catch (const descent::data::DataError& e) {
    std::fprintf(stderr, "tune: %s\n%s\n", e.what(), ex::fashion_mnist_hint.data());
    return 1;
  }
  data.train_one_hot = data.train;
  data.train_one_hot.y = descent::data::one_hot(data.train.y, 10);

  std::shared_ptr<tune::Sampler> sampler;
  if (s.sampler == "tpe") sampler = tune::default_sampler(s.seed);  // TPE, two variants in turn
  if (s.sampler == "random") sampler = std::make_shared<tune::RandomSampler>(s.seed);
  if (s.sampler == "grid") sampler = std::make_shared<tune::GridSampler>(tune::GridSampler::Options{.points = 3});
  std::shared_ptr<tune::Pruner> pruner = std::make_shared<tune::NopPruner>();
  if (s.pruner == "asha") pruner = std::make_shared<tune::SuccessiveHalvingPruner>();
  if (s.pruner == "median") pruner = std::make_shared<tune::MedianPruner>();

  // A trial whose worker died (killed, or its machine lost) runs again with the same settings.
  tune::Study study({.direction = tune::Direction::maximize, .sampler = sampler, .pruner = pruner,
                     .storage = tune::open_storage(s.storage), .name = s.study,
                     .failed_trial_callback = tune::RetryFailedTrialCallback(2)});
  const auto before = study.trials().size();
  std::string limits;
  if (s.trials) limits += std::to_string(*s.trials) + " more";
  if (s.total) limits += (limits.empty() ? "" : ", ") + std::string("up to ") + std::to_string(*s.total) + " in all";
  if (s.timeout) limits += (limits.empty() ? "" : ", ") + ex::format_exact(*s.timeout) + " s at most";
  std::printf("study '%s' in %s: %zu trials so far; %s, %d at a time (%s sampler, %s pruner)\n",
              s.study.c_str(), s.storage.c_str(), before, limits.c_str(), s.jobs, s.sampler.c_str(), s.pruner.c_str());
  std::printf("each trial: %lld training images, up to %d epochs, scored on the last %lld training images\n\n",
              static_cast<long long>(s.subset), s.max_epochs, static_cast<long long>(validation_size));
  std::fflush(stdout);

  const auto start = std::chrono::steady_clock::now();
  int finished = 0;
  tune::Study::OptimizeOptions run{.n_trials = s.trials, .max_trials = s.total, .jobs = s.jobs};
  if (s.timeout) run.timeout = std::chrono::duration<double>(*s.timeout);
  run.on_trial_end = [&](const tune::Study& st, const tune::FrozenTrial& t) {
                   ++finished;
                   std::string best = "none yet";
                   try {
                     const auto b = st.best_trial();
                     char buf[64];
                     std::snprintf(buf, sizeof buf, "%.4f (trial %lld)", b.value, static_cast<long long>(b.number));
                     best = buf;
                   } catch (const std::runtime_error&) {
                   }
                   const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                   std::string what = std::string(tune::to_string(t.state));
                   if (t.state == tune::TrialState::pruned) what += " at epoch " + std::to_string(t.last_step());
                   if (t.state == tune::TrialState::failed) what += " (" + t.message + ")";
                   const std::string of = s.trials ? "/" + std::to_string(*s.trials) : "";
                   std::printf("[%3d%s] trial %3lld %-18s %s | best %s | %4.0f s\n", finished, of.c_str(),
                               static_cast<long long>(t.number), what.c_str(),
                               std::isfinite(t.value) ? ex::format_exact(std::round(t.value * 1e4) / 1e4).c_str() : "-",
                               best.c_str(), seconds);
                   if (!t.params.empty() && t.params.count("loss")) std::printf("          %s\n", short_text(config_of(t)).c_str());
                   std::fflush(stdout);
                 };
  study.optimize([&](tune::Trial& trial) { return objective(trial, data, s); }, run);

  const auto trials = study.trials();
  long long epochs = 0;
  int counts[5] = {0, 0, 0, 0, 0};
  for (const auto& t : trials) {
    epochs += std::max<std::int64_t>(0, t.last_step());
    ++counts[int(t.state)];
  }
  std::printf("\n%zu trials: %d complete, %d pruned, %d failed, %d running elsewhere, %d queued\n", trials.size(),
              counts[1], counts[2], counts[3], counts[0], counts[4]);
  std::printf("epochs trained: %lld of %lld without pruning (%.0f%%)\n", epochs,
              static_cast<long long>(trials.size()) * s.max_epochs,
              100.0 * double(epochs) / double(std::max<std::size_t>(1, trials.size()) * std::size_t(s.max_epochs)));
  int status = 0;
  try {
    const auto best = study.best_trial();
    std::printf("\n==> best: trial %lld, held-out accuracy %.4f\n    %s\n", static_cast<long long>(best.number),
                best.value, short_text(config_of(best)).c_str());
    std::printf("    train it on all 60,000 images and measure it on the test set:\n    %s\n",
                command_line(config_of(best), best.last_step(), s).c_str());
  } catch (const std::runtime_error& e) {
    std::printf("\n==> %s\n", e.what());
  }
  try {
    if (s.svg != "none") {
      ex::write_file_atomically(s.svg, study_svg(s, trials));
      std::printf("    wrote %s\n", s.svg.string().c_str());
    }
    if (!s.json.empty()) {
      ex::write_file_atomically(s.json, json_report(s, study, trials));
      std::printf("    wrote %s\n", s.json.string().c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tune: %s\n", e.what());
    status = 1;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  return ex::guarded_main("tune", [&] { return run(parse(argc, argv)); });
}
