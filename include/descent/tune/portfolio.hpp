#pragma once
// A portfolio of samplers taking turns by trial number, and the sampler a Study uses by default:
// two TPE variants that each win on some functions of the tuning benchmark (docs/tuning.md),
// sharing one history, so each profits from what the other found.

#include <descent/error.hpp>
#include <descent/tune/samplers.hpp>
#include <descent/tune/tpe.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace descent::tune {

/// Takes turns among several samplers: trial n asks member n % k for all its parameters.
class PortfolioSampler : public Sampler {
 public:
  /// Throws std::invalid_argument if `members` is empty or holds a null pointer.
  explicit PortfolioSampler(std::vector<std::shared_ptr<Sampler>> members)
      : m_members(std::move(members)) {
    if (m_members.empty()) {
      throw InvalidArgument("descent::tune::PortfolioSampler: no samplers given");
    }
    for (std::size_t i = 0; i < m_members.size(); ++i) {
      if (!m_members[i]) {
        throw InvalidArgument("descent::tune::PortfolioSampler: sampler " + std::to_string(i) +
                              " is null");
      }
    }
  }

  /// The samplers, in turn order.
  const std::vector<std::shared_ptr<Sampler>>& members() const { return m_members; }

  double sample(const std::vector<FrozenTrial>& history, Direction direction,
                const FrozenTrial& trial, const std::string& name,
                const Distribution& distribution) override {
    const auto turn = std::uint64_t(trial.number) % m_members.size();
    return m_members[turn]->sample(history, direction, trial, name, distribution);
  }

 private:
  std::vector<std::shared_ptr<Sampler>> m_members;
};

/// The sampler a Study uses when it is given none, seeded: even trials from a univariate TPE
/// with equal-height kernels (Optuna 3.1's default density), odd ones from a multivariate TPE;
/// both with gamma 0.15 and prior weight 2, which explore a little more than Optuna's defaults.
/// Chosen on the tuning benchmark (docs/tuning.md): the joint model wins on smooth and
/// correlated functions, the univariate one keeps separable and high-dimensional ones on track.
/// The univariate one lies (constant_liar) over numeric parameters: with parallel workers it
/// counts their running trials as bad, which keeps them apart; lying in the joint model or over
/// categoricals too measured worse (docs/tuning.md, "Parallel workers"). A serial study has no
/// running trials to lie about.
inline std::shared_ptr<Sampler> default_sampler(std::uint64_t seed = 0) {
  using Options = TpeSampler::Options;
  return std::make_shared<PortfolioSampler>(std::vector<std::shared_ptr<Sampler>>{
      std::make_shared<TpeSampler>(Options{.seed = seed,
                                           .gamma = 0.15,
                                           .prior_weight = 2,
                                           .multivariate = false,
                                           .equal_height_kernels = true,
                                           .constant_liar = true,
                                           .lie_on_categorical = false}),
      std::make_shared<TpeSampler>(Options{.seed = seed, .gamma = 0.15, .prior_weight = 2}),
  });
}

}  // namespace descent::tune
