#pragma once
// Optimizers by name: the registry behind make_optimizer, the Trainer's and the tuner's
// `optimizer = "..."`, and checkpoints. The thirteen built-in classes are registered from the
// start; register_optimizer adds a user's class, which is then used by name exactly like them.
//
//   template <descent::RealScalar T> class AdaBelief { ... };   // meets descent::StepOptimizer
//   descent::register_optimizer<AdaBelief>();                    // for float and double
//   auto opt = descent::make_optimizer<float>("adabelief", "learning_rate=0.01");

#include <descent/error.hpp>
#include <descent/optim/adadelta.hpp>
#include <descent/optim/adagrad.hpp>
#include <descent/optim/adam.hpp>
#include <descent/optim/adamax.hpp>
#include <descent/optim/asgd.hpp>
#include <descent/optim/concept.hpp>
#include <descent/optim/momentum.hpp>
#include <descent/optim/nadam.hpp>
#include <descent/optim/nesterov.hpp>
#include <descent/optim/radam.hpp>
#include <descent/optim/rmsprop.hpp>
#include <descent/optim/rprop.hpp>
#include <descent/optim/runtime_optimizer.hpp>
#include <descent/optim/sgd.hpp>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace descent {

namespace detail {

/// The built-in optimizer classes, in the order make_optimizer lists them.
template <class... O>
struct OptimizerList {};
template <class Scalar>
using BuiltinOptimizers =
    OptimizerList<SGD<Scalar>, Momentum<Scalar>, Nesterov<Scalar>, AdaGrad<Scalar>, RMSProp<Scalar>,
                  Adadelta<Scalar>, Adam<Scalar>, AdamW<Scalar>, Nadam<Scalar>, RAdam<Scalar>,
                  Adamax<Scalar>, Rprop<Scalar>, ASGD<Scalar>>;

// That each meets StepOptimizer is checked where they are registered (GroupOf<O>) and by the
// tests, not by a static_assert here: checking the concept for all twenty-six classes costs every
// program that includes this header a third of its parsing time.

/// Calls f(O{}) with the default-constructed built-in class named `name`; returns false when
/// there is none (the golden tests step the typed classes by name).
template <class Scalar, class F>
bool with_builtin_optimizer(std::string_view name, F&& f) {
  return [&]<class... O>(OptimizerList<O...>) {
    return ((O::name == name ? (f(O{}), true) : false) || ...);
  }(BuiltinOptimizers<Scalar>{});
}

/// One registered class: how to make it from an options string.
template <class Scalar>
struct RegisteredOptimizer {
  std::string_view name;
  const void* identity;  ///< tells classes apart: the address of a variable of each class's own
  Optimizer<Scalar> (*make)(std::string_view options);
};

template <StepOptimizer O>
inline constexpr char identity_of = 0;

/// O with its defaults overridden by "key=value,..." options.
template <StepOptimizer O>
Optimizer<typename O::Scalar> make_registered(std::string_view options) {
  typename O::Options o{};  // the defaults
  set_options<O>(o, options);
  return Optimizer<typename O::Scalar>(O(o));
}

template <StepOptimizer O>
RegisteredOptimizer<typename O::Scalar> registration() {
  return {O::name, &identity_of<O>, &make_registered<O>};
}

/// The registry for one Scalar type, the built-ins first. Guarded by a mutex: registration may
/// happen while other threads make optimizers.
template <class Scalar>
class OptimizerRegistry {
 public:
  static OptimizerRegistry& instance() {
    static OptimizerRegistry registry;
    return registry;
  }

  bool add(const RegisteredOptimizer<Scalar>& entry) {
    const std::lock_guard lock(m_mutex);
    for (const auto& e : m_entries) {
      if (e.name != entry.name) continue;
      if (e.identity == entry.identity) return false;
      throw InvalidArgument("descent::register_optimizer: the name '" + std::string(entry.name) +
                            "' is already taken by another optimizer class");
    }
    if (entry.name.empty()) {
      throw InvalidArgument("descent::register_optimizer: an optimizer needs a name");
    }
    m_entries.push_back(entry);
    return true;
  }

  /// The entry named `name`; throws std::invalid_argument listing the names when there is none.
  RegisteredOptimizer<Scalar> find(std::string_view name) const {
    const std::lock_guard lock(m_mutex);
    for (const auto& e : m_entries) {
      if (e.name == name) return e;
    }
    throw InvalidArgument("descent::make_optimizer: unknown optimizer '" + std::string(name) +
                          "'; valid names: " + joined_names());
  }

  std::vector<std::string> names() const {
    const std::lock_guard lock(m_mutex);
    std::vector<std::string> names;
    for (const auto& e : m_entries) names.emplace_back(e.name);
    return names;
  }

 private:
  OptimizerRegistry();  // defined below: not inline, so the compiled mode can instantiate it once

  std::string joined_names() const {
    std::string text;
    for (const auto& e : m_entries) text.append(text.empty() ? "" : ", ").append(e.name);
    return text;
  }

  mutable std::mutex m_mutex;
  std::vector<RegisteredOptimizer<Scalar>> m_entries;
};

// The built-ins, registered from the start.
template <class Scalar>
OptimizerRegistry<Scalar>::OptimizerRegistry() {
  [&]<class... O>(OptimizerList<O...>) {
    (m_entries.push_back(registration<O>()), ...);
  }(BuiltinOptimizers<Scalar>{});
}

#ifdef DESCENT_COMPILED_LIB
extern template class OptimizerRegistry<float>;
extern template class OptimizerRegistry<double>;
#endif

template <StepOptimizer O>
bool add_to_registry() {
  return OptimizerRegistry<typename O::Scalar>::instance().add(registration<O>());
}

}  // namespace detail

/// Registers the optimizer class O under O::name, so make_optimizer, the Trainer, checkpoints
/// and the tuner find it by name. Returns true if it was added, false if O was registered already;
/// throws std::invalid_argument if another class has that name.
template <StepOptimizer O>
bool register_optimizer() {
  return detail::add_to_registry<O>();
}

/// Registers the optimizer class template Opt for float and double (Opt<float>, Opt<double>).
template <template <class> class Opt>
bool register_optimizer() {
  static_assert(StepOptimizer<Opt<float>> && StepOptimizer<Opt<double>>,
                "descent::register_optimizer: Opt<float> and Opt<double> must meet StepOptimizer");
  const bool f = detail::add_to_registry<Opt<float>>();
  const bool d = detail::add_to_registry<Opt<double>>();
  return f || d;
}

/// The names make_optimizer<Scalar> knows, the built-ins first, then in order of registration.
template <RealScalar Scalar>
std::vector<std::string> optimizer_names() {
  return detail::OptimizerRegistry<Scalar>::instance().names();
}

/// The optimizer called `name` (sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw,
/// nadam, radam, adamax, rprop, asgd, or any registered one) with its defaults (PyTorch's)
/// overridden by `options`, "key=value,..." in the Options field names. Unknown names, unknown keys
/// and bad values throw std::invalid_argument listing the valid ones.
template <RealScalar Scalar>
Optimizer<Scalar> make_optimizer(std::string_view name, std::string_view options = {}) {
  return detail::OptimizerRegistry<Scalar>::instance().find(name).make(options);
}

/// make_optimizer with the options as a map, e.g. {{"learning_rate", "0.01"}, {"amsgrad", "true"}}.
template <RealScalar Scalar>
Optimizer<Scalar> make_optimizer(std::string_view name,
                                 const std::map<std::string, std::string>& options) {
  std::string text;
  for (const auto& [key, value] : options) text += key + "=" + value + ",";
  return make_optimizer<Scalar>(name, text);
}

/// make_optimizer with numeric options, e.g. {{"learning_rate", 0.01}, {"centered", 1}}.
template <RealScalar Scalar>
Optimizer<Scalar> make_optimizer(std::string_view name,
                                 const std::map<std::string, double>& options) {
  std::string text;
  for (const auto& [key, value] : options) text += key + "=" + detail::format_number(value) + ",";
  return make_optimizer<Scalar>(name, text);
}

}  // namespace descent
