#pragma once
// The runtime Optimizer's one seam: a parameter group's optimizer and its tensors' states behind
// a small virtual interface, so any StepOptimizer class, built in or the user's, fits. A group's
// states are kept typed inside (GroupOf<O>), so a step costs one virtual call per tensor and then
// runs the class's own step().

#include <descent/error.hpp>
#include <descent/optim/concept.hpp>
#include <descent/optim/detail/kernel.hpp>
#include <descent/optim/detail/options.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace descent {

/// The optimizer state of a whole Optimizer as plain data, keyed "<group>.<param>.<field>".
template <class Scalar>
struct StateDict {
  std::string optimizer;                               ///< e.g. "adam"
  std::map<std::string, std::vector<Scalar>> buffers;  ///< moments, in each tensor's order
  std::map<std::string, double> scalars;               ///< step counts, Nadam's mu_product
};

namespace detail {

/// One parameter group's optimizer and the State of each of its tensors.
template <class Scalar>
class OptimizerGroup {
 public:
  virtual ~OptimizerGroup() = default;
  /// A copy, states included.
  virtual std::unique_ptr<OptimizerGroup> clone() const = 0;
  /// The same optimizer and options, without tensors.
  virtual std::unique_ptr<OptimizerGroup> empty_copy() const = 0;

  virtual std::string_view name() const = 0;
  /// Every option as "key=value,...".
  virtual std::string options() const = 0;
  virtual Scalar learning_rate() const = 0;
  /// The weight decay, or nothing when the optimizer has no weight_decay option.
  virtual std::optional<Scalar> weight_decay() const = 0;
  /// Rebuilds the optimizer with a new learning rate and/or weight decay (validated by the
  /// class's constructor; unchanged on error).
  virtual void set(std::optional<Scalar> learning_rate, std::optional<Scalar> weight_decay) = 0;

  /// Adds the State of a new last tensor, made by the class's init().
  virtual void add_tensor(Eigen::Map<Buffer<Scalar>> value) = 0;
  /// One step of tensor i, on `team`'s threads if there is a team and the class takes one.
  virtual void step(std::size_t i, Eigen::Map<Buffer<Scalar>> value,
                    Eigen::Map<const Buffer<Scalar>> grad, const StepTeam* team) = 0;

  /// Copies tensor i's State into `dict` under "<prefix><field>".
  virtual void save_state(std::size_t i, const std::string& prefix,
                          StateDict<Scalar>& dict) const = 0;
  /// Throws std::invalid_argument unless `dict` holds tensor i's State under `prefix`, every
  /// field present and sized for it; returns the number of fields.
  virtual std::size_t check_state(std::size_t i, const std::string& prefix,
                                  const StateDict<Scalar>& dict) const = 0;
  /// Sets tensor i's State from `dict` (after check_state).
  virtual void load_state(std::size_t i, const std::string& prefix,
                          const StateDict<Scalar>& dict) = 0;
};

/// An OptimizerGroup for the StepOptimizer class O.
template <StepOptimizer O>
class GroupOf final : public OptimizerGroup<typename O::Scalar> {
 public:
  using Scalar = typename O::Scalar;
  using Base = OptimizerGroup<Scalar>;

  explicit GroupOf(O optimizer) : m_optimizer(std::move(optimizer)) {}

  const O& optimizer() const { return m_optimizer; }

  std::unique_ptr<Base> clone() const override { return std::make_unique<GroupOf>(*this); }
  std::unique_ptr<Base> empty_copy() const override {
    return std::make_unique<GroupOf>(m_optimizer);
  }

  std::string_view name() const override { return O::name; }
  std::string options() const override { return format_options<O>(m_optimizer.options()); }
  Scalar learning_rate() const override { return m_optimizer.options().learning_rate; }
  std::optional<Scalar> weight_decay() const override {
    if constexpr (has_weight_decay) {
      return m_optimizer.options().weight_decay;
    } else {
      return std::nullopt;
    }
  }
  void set(std::optional<Scalar> learning_rate, std::optional<Scalar> weight_decay) override {
    auto options = m_optimizer.options();
    if (learning_rate) options.learning_rate = *learning_rate;
    if (weight_decay) {
      if constexpr (has_weight_decay) {
        options.weight_decay = *weight_decay;
      } else {
        throw InvalidArgument("descent::" + std::string(class_name_of<O>()) +
                              ": has no weight_decay option");
      }
    }
    m_optimizer = O(options);
  }

  void add_tensor(Eigen::Map<Buffer<Scalar>> value) override {
    m_states.push_back(m_optimizer.init(value));
  }
  void step(std::size_t i, Eigen::Map<Buffer<Scalar>> value, Eigen::Map<const Buffer<Scalar>> grad,
            const StepTeam* team) override {
    if constexpr (requires { m_optimizer.step(value, grad, m_states[i], team); }) {
      m_optimizer.step(value, grad, m_states[i], team);
    } else {
      m_optimizer.step(value, grad, m_states[i]);  // a class that steps on one thread
    }
  }

  void save_state(std::size_t i, const std::string& prefix,
                  StateDict<Scalar>& dict) const override {
    for_each_field(m_states[i], [&](std::string_view field, const auto& value) {
      using T = std::decay_t<decltype(value)>;
      const std::string key = prefix + std::string(field);
      if constexpr (std::is_arithmetic_v<T>) {
        dict.scalars[key] = static_cast<double>(value);
      } else {
        dict.buffers[key].assign(value.data(), value.data() + value.size());
      }
    });
  }

  std::size_t check_state(std::size_t i, const std::string& prefix,
                          const StateDict<Scalar>& dict) const override {
    const std::string who = "descent::Optimizer::load_state_dict: ";
    std::size_t fields = 0;
    for_each_field(m_states[i], [&](std::string_view field, const auto& value) {
      using T = std::decay_t<decltype(value)>;
      const std::string key = prefix + std::string(field);
      ++fields;
      if constexpr (std::is_arithmetic_v<T>) {
        const auto it = dict.scalars.find(key);
        if (it == dict.scalars.end()) throw InvalidArgument(who + "missing " + key);
        // A step count: converting anything else to an integer would be undefined behaviour.
        if (std::is_integral_v<T> &&
            !(it->second >= 0 && it->second <= 0x1p53 && it->second == std::floor(it->second))) {
          throw InvalidArgument(who + key + " is " + format_number(it->second) +
                                ", not a count from 0 to 2^53");
        }
      } else {
        const auto it = dict.buffers.find(key);
        if (it == dict.buffers.end()) throw InvalidArgument(who + "missing " + key);
        if (static_cast<Eigen::Index>(it->second.size()) != value.size()) {
          throw InvalidArgument(who + key + " holds " + std::to_string(it->second.size()) +
                                " values, the optimizer expects " + std::to_string(value.size()));
        }
      }
    });
    return fields;
  }

  void load_state(std::size_t i, const std::string& prefix,
                  const StateDict<Scalar>& dict) override {
    for_each_field(m_states[i], [&](std::string_view field, auto& value) {
      using T = std::decay_t<decltype(value)>;
      const std::string key = prefix + std::string(field);
      if constexpr (std::is_arithmetic_v<T>) {
        value = static_cast<T>(dict.scalars.at(key));
      } else {
        const auto& v = dict.buffers.at(key);
        value = Eigen::Map<const Buffer<Scalar>>(v.data(), static_cast<Eigen::Index>(v.size()));
      }
    });
  }

 private:
  static constexpr bool has_weight_decay = requires(typename O::Options o) {
    o.weight_decay = Scalar(0);
  };

  /// Calls f(field name, member) for every field State::fields() lists.
  template <class State, class F>
  static void for_each_field(State& state, F&& f) {
    std::apply([&](const auto&... field) { (f(field.name, state.*(field.member)), ...); },
               O::State::fields());
  }

  O m_optimizer;
  std::vector<typename O::State> m_states;
};

}  // namespace detail

}  // namespace descent
