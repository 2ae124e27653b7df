// Prints what a seed decides, to the last bit: the trials of the tuner's default sampler on a
// mixed space, and the data pipeline's shuffles and validation split. tests/libcxx_sequence.sh
// builds this same program with clang and libc++ and compares its output with this build's:
// seeded results must not depend on the standard library (descent draws with its own
// distributions; std::normal_distribution and friends differ between libstdc++ and libc++).

#include <descent/data/batches.hpp>
#include <descent/data/validation_split.hpp>
#include <descent/tune/study.hpp>

#include <cmath>
#include <cstdio>
#include <string>

int main() {
  namespace tune = descent::tune;
  tune::Study study({.sampler = tune::default_sampler(7)});
  study.optimize(
      [](tune::Trial& t) {
        const double lr = t.suggest_float("lr", 1e-5, 1, {.log = true});
        const double x = t.suggest_float("x", -3, 3);
        const auto width = t.suggest_int("width", 8, 512, 1, true);
        const std::string act = t.suggest_categorical("act", {"relu", "tanh", "gelu"});
        std::printf("trial lr %.17g x %.17g width %lld act %s\n", lr, x,
                    static_cast<long long>(width), act.c_str());
        return std::pow(std::log10(lr) + 2.5, 2) + std::sin(3 * x) + x * x / 4 +
               std::abs(std::log2(double(width)) - 6) + (act == "tanh" ? 0.0 : 0.5);
      },
      40);

  descent::data::Batches batches(23, 5, /*seed=*/3);
  for (std::uint64_t epoch = 0; epoch < 3; ++epoch) {
    batches.set_epoch(epoch);
    std::printf("epoch %llu:", static_cast<unsigned long long>(epoch));
    for (const auto i : batches.order()) std::printf(" %lld", static_cast<long long>(i));
    std::printf("\n");
  }
  const auto split = descent::data::validation_split_indices(23, 0.3, /*seed=*/5);
  std::printf("validation:");
  for (const auto i : split.validation) std::printf(" %lld", static_cast<long long>(i));
  std::printf("\n");
}
