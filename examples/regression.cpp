// regression: the same network fitted to noisy data with outliers, once with MSE, once with Huber.
//
// What it shows
//   200 points on the curve y = sin(2x) + 0.3x, x in [-3, 3], with Gaussian noise (sd 0.1); one
//   point in ten is an outlier pushed up by 3 to 5. A 1-32-32-1 tanh network is fitted twice, from
//   the same initial weights with the same shuffles (Adam, learning rate 0.01, batch 20):
//     mse    mean squared error: an outlier's gradient grows with its residual, so ten percent
//            of points at +4 pull the whole curve up by about 0.1 * 4 = 0.4.
//     huber  squared below delta = 1, linear above: an outlier's gradient is capped at delta, so
//            the curve moves up only by about 0.1 / 0.9 = 0.1 (the Huber estimate's balance).
//   It prints each fit's error against the true (noise-free) curve and writes regression.svg: the
//   points (outliers in red), the true curve (dashed) and both fits.
//
// How to run
//   build/examples/regression [--epochs N] [--out DIR] [--seed N]
//   Default 300 epochs; a second or two. Then open DIR/regression.svg.
//
// What to look for
//   The MSE curve runs above the true curve almost everywhere (mean shift +0.39 with seed 0,
//   RMSE 0.48 against the true curve); the Huber curve stays close (+0.13, RMSE 0.19). Train
//   longer (--epochs 1000) and the flexible MSE fit starts to chase single outliers with spikes,
//   while the Huber fit barely moves: a capped gradient is a capped pull.
//
// Exit status: 0 on success, 2 for a bad flag, 1 when the SVG cannot be written.

#include <descent/data.hpp>
#include <descent/nn.hpp>

#include "common.hpp"
#include "svg.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace ex = descent::examples;
namespace nn = descent::nn;
using Dataset = descent::data::Dataset<float>;

double truth(double x) { return std::sin(2 * x) + 0.3 * x; }

struct Settings {
  int epochs = 300;
  std::filesystem::path out = ".";
  std::uint64_t seed = 0;
};

struct Fit {
  std::string_view name;
  nn::Loss loss;
  std::vector<ex::Point> curve;  ///< the fitted network on a fine grid
  double rmse = 0;               ///< against the true curve, on that grid
  double mean_shift = 0;         ///< mean of fit - truth on that grid
  double final_loss = 0;         ///< training loss of the last epoch, in the fit's own loss
};

int run(const Settings& s) {
  constexpr Eigen::Index n = 200;
  std::mt19937_64 rng(s.seed);
  std::uniform_real_distribution<double> uniform(-3, 3), push(3, 5), coin(0, 1);
  std::normal_distribution<double> noise(0, 0.1);
  Dataset data;
  data.x.resize(1, n);
  data.y.resize(1, n);
  std::vector<bool> outlier(n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const double x = uniform(rng);
    outlier[std::size_t(j)] = coin(rng) < 0.1;
    data.x(0, j) = float(x);
    data.y(0, j) = float(truth(x) + noise(rng) + (outlier[std::size_t(j)] ? push(rng) : 0));
  }
  const auto outliers = std::count(outlier.begin(), outlier.end(), true);
  std::printf("%lld points on y = sin(2x) + 0.3x with noise (sd 0.1); %lld of them outliers (+3 to +5).\n"
              "A 1-32-32-1 tanh network, Adam lr 0.01, batch 20, %d epochs, per loss:\n\n",
              static_cast<long long>(n), static_cast<long long>(outliers), s.epochs);

  // The grid on which the fits are drawn and compared with the true curve.
  constexpr Eigen::Index grid = 121;
  Eigen::MatrixXf xs(1, grid);
  for (Eigen::Index i = 0; i < grid; ++i) xs(0, i) = float(-3 + 6.0 * double(i) / double(grid - 1));

  std::vector<Fit> fits = {{"mse", nn::Loss::mse, {}, 0, 0, 0}, {"huber", nn::Loss::huber, {}, 0, 0, 0}};
  for (Fit& fit : fits) {
    auto net = nn::make_network<float>(
        {.inputs = 1, .outputs = 1, .hidden = {32, 32}, .activation = nn::Activation::tanh, .dropout = 0},
        s.seed);  // the same initial weights for both losses
    nn::Trainer<float> trainer({.optimizer = "adam", .learning_rate = 0.01, .loss = fit.loss,
                                .batch_size = 20, .epochs = s.epochs, .seed = s.seed,
                                .progress = nn::Trainer<float>::Progress::none});
    const nn::History history = trainer.fit(net, data);
    fit.final_loss = history.epochs.back().loss;
    const Eigen::MatrixXf ys = trainer.predict(net, xs);
    double squared = 0;
    for (Eigen::Index i = 0; i < grid; ++i) {
      const double x = xs(0, i), error = ys(0, i) - truth(x);
      fit.curve.push_back({x, double(ys(0, i))});
      squared += error * error;
      fit.mean_shift += error / grid;
    }
    fit.rmse = std::sqrt(squared / grid);
  }

  std::printf("  %-6s %-18s %-26s %s\n", "loss", "final train loss", "RMSE against true curve",
              "mean shift (fit - truth)");
  for (const Fit& f : fits) {
    std::printf("  %-6s %-18.4f %-26.4f %+.4f\n", std::string(f.name).c_str(), f.final_loss, f.rmse,
                f.mean_shift);
  }
  const Fit& better = fits[0].rmse < fits[1].rmse ? fits[0] : fits[1];
  std::printf("  closer to the true curve: %s\n", std::string(better.name).c_str());

  // ---- the picture -------------------------------------------------------------------------
  ex::Figure fig(64 + 560 + 190, 44 + 360 + 56, {-3.1, 3.1}, {-2.2, 6.2},
                 {.left = 64, .right = 190, .top = 44, .bottom = 56});
  fig.set_precision(0);
  fig.set_title("MSE and Huber fits to data with outliers");
  fig.set_axis_titles("x", "y");
  std::vector<ex::Point> true_curve;
  for (Eigen::Index i = 0; i < grid; ++i) true_curve.push_back({xs(0, i), truth(xs(0, i))});
  const ex::Stroke truth_stroke{.color = "#000000", .width = 1.5, .dash = "6 4"};
  fig.add_path(true_curve, truth_stroke, "truth");
  fig.add_legend_entry("true curve", truth_stroke);
  for (Eigen::Index j = 0; j < n; ++j) {
    const bool out = outlier[std::size_t(j)];
    fig.add_marker({data.x(0, j), data.y(0, j)}, ex::Marker::circle, out ? 3 : 2.2,
                   out ? "#D55E00" : "#999999", {.width = 0});
  }
  fig.add_legend_entry("points", {.color = "#999999", .width = 4});
  fig.add_legend_entry("outliers", {.color = "#D55E00", .width = 4});
  const std::array<std::string_view, 2> colours = {"#0072B2", "#009E73"};
  for (std::size_t k = 0; k < fits.size(); ++k) {
    const ex::Stroke stroke{.color = colours[k], .width = 2.5, .opacity = 0.9};
    fig.add_path(fits[k].curve, stroke, "fit-" + std::string(fits[k].name));
    char label[64];
    std::snprintf(label, sizeof label, "%s fit (RMSE %.2f)", std::string(fits[k].name).c_str(), fits[k].rmse);
    fig.add_legend_entry(label, stroke);
  }
  std::filesystem::create_directories(s.out);
  const std::filesystem::path file = s.out / "regression.svg";
  ex::write_file_atomically(file, fig.render());
  std::printf("\nwrote %s\n"
              "look for: the MSE curve is pulled up toward the red outliers; the Huber curve stays on\n"
              "the dashed true curve, because Huber's gradient stops growing past delta = 1.\n",
              file.string().c_str());
  return 0;
}

Settings parse(int argc, char** argv) {
  Settings s;
  ex::Args args(argc, argv);
  while (!args.done()) {
    const std::string_view flag = args.flag();
    if (flag == "-h" || flag == "--help") {
      std::printf("usage: regression [--epochs N] [--out DIR] [--seed N]\n"
                  "  --epochs N   epochs per fit (default 300)\n"
                  "  --out DIR    where to write regression.svg (default .)\n"
                  "  --seed N     data, initial weights and shuffles (default 0)\n");
      std::exit(0);
    } else if (flag == "--epochs") {
      s.epochs = static_cast<int>(args.integer(1, 100000));
    } else if (flag == "--out") {
      s.out = std::string(args.value());
      ex::require_creatable_directory(flag, s.out);  // now, not after training
    } else if (flag == "--seed") {
      s.seed = static_cast<std::uint64_t>(args.integer(0));
    } else {
      throw ex::UsageError("unknown flag '" + std::string(flag) + "' (see --help)");
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  return ex::guarded_main("regression", [&] { return run(parse(argc, argv)); });
}
