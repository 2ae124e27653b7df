#pragma once
// The runtime layer: pick an optimizer by name ("adam", "learning_rate=0.01,beta2=0.99") for
// command lines and tuning, and let it own many tensors in parameter groups, like PyTorch's
// torch.optim.Optimizer with its param_groups and state_dict.

#include <descent/optim/adadelta.hpp>
#include <descent/optim/clip.hpp>
#include <descent/optim/adagrad.hpp>
#include <descent/optim/adam.hpp>
#include <descent/optim/momentum.hpp>
#include <descent/optim/nadam.hpp>
#include <descent/optim/nesterov.hpp>
#include <descent/optim/rmsprop.hpp>
#include <descent/optim/sgd.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

/// Optimizers for Eigen tensors with PyTorch's update rules, and the modules around them.
namespace descent {

/// One tensor the runtime optimizer updates: flat views of its values and of its gradient.
/// The memory stays the caller's; it must outlive the optimizer's use of it.
template <class Scalar>
struct Parameter {
  Scalar* value = nullptr;  ///< first of `size` values, updated in place by step()
  Scalar* grad = nullptr;   ///< first of `size` gradient values, read by step()
  Eigen::Index size = 0;    ///< number of values in the tensor
  std::string name;         ///< used in state_dict keys and error messages; defaults to its index
};

/// Makes a Parameter from a value and a gradient tensor, both contiguous and of the same shape.
template <class V, class G>
Parameter<typename V::Scalar> parameter(Eigen::DenseBase<V>& value, Eigen::DenseBase<G>& grad,
                                        std::string name = {}) {
  static_assert(std::is_same_v<typename V::Scalar, typename G::Scalar>,
                "descent::parameter: value and grad must have the same Scalar type");
  static_assert(bool(V::Flags & Eigen::DirectAccessBit) && bool(G::Flags & Eigen::DirectAccessBit),
                "descent::parameter: value and grad must be Eigen objects with direct memory access");
  const std::string who = "descent::parameter(" + name + "): ";
  if (value.rows() != grad.rows() || value.cols() != grad.cols()) {
    throw std::invalid_argument(who + "grad is " + std::to_string(grad.rows()) + "x" +
                                std::to_string(grad.cols()) + " but value is " +
                                std::to_string(value.rows()) + "x" + std::to_string(value.cols()));
  }
  if (!detail::is_contiguous(value.derived()) || !detail::is_contiguous(grad.derived())) {
    throw std::invalid_argument(who + "value and grad must be contiguous in memory "
                                      "(a Block of a larger matrix is not; step it directly)");
  }
  return {value.derived().data(), grad.derived().data(), value.size(), std::move(name)};
}

/// Every optimizer class, in the order make_optimizer lists them.
template <class Scalar>
using AnyOptimizer = std::variant<SGD<Scalar>, Momentum<Scalar>, Nesterov<Scalar>, AdaGrad<Scalar>,
                                  RMSProp<Scalar>, Adadelta<Scalar>, Adam<Scalar>, AdamW<Scalar>,
                                  Nadam<Scalar>>;

/// The optimizer state of a whole Optimizer as plain data, keyed "<group>.<param>.<field>".
template <class Scalar>
struct StateDict {
  std::string optimizer;                                 ///< e.g. "adam"
  std::map<std::string, std::vector<Scalar>> buffers;    ///< moments, in each tensor's order
  std::map<std::string, double> scalars;                 ///< step counts, Nadam's mu_product
};

namespace detail {

/// "sgd, momentum, ..., nadam": the names of AnyOptimizer's alternatives, in order.
template <class Scalar>
std::string optimizer_names() {
  std::string names;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((names += (I == 0 ? "" : ", ") +
               std::string(std::variant_alternative_t<I, AnyOptimizer<Scalar>>::name)),
     ...);
  }(std::make_index_sequence<std::variant_size_v<AnyOptimizer<Scalar>>>{});
  return names;
}

/// Calls f(Opt{}) with the default-constructed optimizer whose name matches; throws otherwise.
template <class Scalar, class F>
decltype(auto) with_optimizer_named(std::string_view name, F&& f) {
  std::optional<AnyOptimizer<Scalar>> found;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((std::variant_alternative_t<I, AnyOptimizer<Scalar>>::name == name
          ? void(found.emplace(std::in_place_index<I>))
          : void()),
     ...);
  }(std::make_index_sequence<std::variant_size_v<AnyOptimizer<Scalar>>>{});
  if (!found) {
    throw std::invalid_argument("descent::make_optimizer: unknown optimizer '" + std::string(name) +
                                "'; valid names: " + optimizer_names<Scalar>());
  }
  return std::visit(std::forward<F>(f), *found);
}

/// Nesterov momentum is defined without dampening; PyTorch rejects dampening != 0 with it.
inline void reject_nesterov_dampening(std::string_view key, std::string_view value) {
  double d = 0;
  if (key == "dampening" && (!parse_value(value, d) || d != 0)) {
    throw std::invalid_argument("descent::Nesterov: dampening must be 0 (Nesterov momentum has "
                                "no dampening), got " + std::string(value));
  }
}

}  // namespace detail

/// A type-erased optimizer over many tensors, made by make_optimizer().
///
///   auto opt = descent::make_optimizer<float>("adam", "learning_rate=0.01");
///   opt.add_param_group({descent::parameter(w1, g1), descent::parameter(b1, gb1)});
///   opt.add_param_group({descent::parameter(w2, g2)}, {.learning_rate = 1e-3f});
///   ... fill g1, gb1, g2 ...;  opt.step();  opt.zero_grad();
///
/// Every tensor has its own State; one step() advances each State by exactly one step.
template <class Scalar>
class Optimizer {
 public:
  /// Per-group overrides of the optimizer's options, as in PyTorch's param_groups.
  struct GroupOptions {
    std::optional<Scalar> learning_rate{};  ///< replaces the optimizer's learning_rate if set
    std::optional<Scalar> weight_decay{};   ///< replaces the optimizer's weight_decay if set
  };

  /// Wraps one optimizer as the prototype that every parameter group starts from.
  explicit Optimizer(AnyOptimizer<Scalar> prototype) : m_prototype(std::move(prototype)) {}

  /// "adam", "sgd", ...
  std::string_view name() const {
    return std::visit([](const auto& opt) { return opt.name; }, m_prototype);
  }

  /// Every option of group `group` as "key=value,...", exact enough to rebuild it.
  std::string options(std::size_t group = 0) const {
    return std::visit(
        [](const auto& opt) {
          return detail::format_options<std::decay_t<decltype(opt)>>(opt.options());
        },
        group_or_prototype(group));
  }

  /// Adds tensors that share options; returns the group's index.
  std::size_t add_param_group(std::vector<Parameter<Scalar>> params, GroupOptions overrides = {}) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      Parameter<Scalar>& p = params[i];
      if (p.name.empty()) p.name = "param" + std::to_string(parameter_count() + i);
      if (p.size < 0 || (p.size > 0 && (p.value == nullptr || p.grad == nullptr))) {
        throw std::invalid_argument("descent::Optimizer::add_param_group: parameter " + p.name +
                                    " has no memory");
      }
      for (const auto& q : all_parameters(params, i)) {
        if (q->value == p.value && p.size > 0) {
          throw std::invalid_argument("descent::Optimizer::add_param_group: parameter " + p.name +
                                      " is already in the optimizer (as " + q->name + ")");
        }
      }
    }
    GroupSlot group{m_prototype, {}, {}};
    apply_overrides(group.optimizer, overrides.learning_rate, overrides.weight_decay);
    std::visit(
        [&](const auto& opt) {
          for (const auto& p : params) {
            group.states.emplace_back(opt.init(Eigen::Map<Buffer<Scalar>>(p.value, p.size)));
          }
        },
        group.optimizer);
    group.params = std::move(params);
    m_groups.push_back(std::move(group));
    return m_groups.size() - 1;
  }

  /// One step of every tensor, each from its current gradient.
  void step() {
    for (auto& group : m_groups) {
      std::visit(
          [&](const auto& opt) {
            using State = typename std::decay_t<decltype(opt)>::State;
            for (std::size_t i = 0; i < group.params.size(); ++i) {
              const Parameter<Scalar>& p = group.params[i];
              opt.step(Eigen::Map<Buffer<Scalar>>(p.value, p.size),
                       Eigen::Map<const Buffer<Scalar>>(p.grad, p.size),
                       std::get<State>(group.states[i]));
            }
          },
          group.optimizer);
    }
  }

  /// Sets every gradient to zero.
  void zero_grad() {
    for (auto& group : m_groups) {
      for (auto& p : group.params) Eigen::Map<Buffer<Scalar>>(p.grad, p.size).setZero();
    }
  }

  /// Clips every gradient to [-limit, limit].
  void clip_grad_value(double limit) {
    for (auto& group : m_groups) {
      for (auto& p : group.params) clip_by_value(Eigen::Map<Buffer<Scalar>>(p.grad, p.size), limit);
    }
  }

  /// Scales all gradients by one factor so their joint L2 norm is at most max_norm
  /// (torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
  double clip_grad_norm(double max_norm) {
    detail::require_nonnegative("Optimizer::clip_grad_norm", "max_norm", max_norm);
    double squared = 0;
    for (const auto& group : m_groups) {
      for (const auto& p : group.params) {
        squared += detail::squared_norm(Eigen::Map<const Buffer<Scalar>>(p.grad, p.size));
      }
    }
    const double norm = std::sqrt(squared);
    const auto coef = static_cast<Scalar>(detail::clip_coefficient(norm, max_norm));
    if (coef < 1) {
      for (auto& group : m_groups) {
        for (auto& p : group.params) Eigen::Map<Buffer<Scalar>>(p.grad, p.size) *= coef;
      }
    }
    return norm;
  }

  /// Number of parameter groups added so far.
  std::size_t group_count() const { return m_groups.size(); }
  /// Number of tensors in all groups.
  std::size_t parameter_count() const {
    std::size_t n = 0;
    for (const auto& g : m_groups) n += g.params.size();
    return n;
  }
  /// The tensors of group `group`; throws std::out_of_range if there is no such group.
  const std::vector<Parameter<Scalar>>& params(std::size_t group) const {
    return checked(group).params;
  }

  /// The learning rate of group `group` (before any group exists, of the prototype).
  Scalar learning_rate(std::size_t group = 0) const {
    return std::visit([](const auto& opt) { return opt.options().learning_rate; },
                      group_or_prototype(group));
  }
  /// Sets the learning rate of every group (what a schedule does each step).
  void set_learning_rate(Scalar lr) {
    apply_overrides(m_prototype, lr, std::nullopt);
    for (auto& g : m_groups) apply_overrides(g.optimizer, lr, std::nullopt);
  }
  /// Sets the learning rate of group `group` only.
  void set_learning_rate(std::size_t group, Scalar lr) {
    apply_overrides(checked(group).optimizer, lr, std::nullopt);
  }
  /// The weight decay of group `group` (before any group exists, of the prototype).
  Scalar weight_decay(std::size_t group = 0) const {
    return std::visit([](const auto& opt) { return opt.options().weight_decay; },
                      group_or_prototype(group));
  }
  /// Sets the weight decay of group `group` only.
  void set_weight_decay(std::size_t group, Scalar wd) {
    apply_overrides(checked(group).optimizer, std::nullopt, wd);
  }

  /// A copy of all moments and step counts, for checkpoints.
  StateDict<Scalar> state_dict() const {
    StateDict<Scalar> dict{std::string(name()), {}, {}};
    for_each_state_field([&](const std::string& key, const auto& value) {
      using T = std::decay_t<decltype(value)>;
      if constexpr (std::is_arithmetic_v<T>) {
        dict.scalars[key] = static_cast<double>(value);
      } else {
        dict.buffers[key].assign(value.data(), value.data() + value.size());
      }
    });
    return dict;
  }

  /// Restores what state_dict() saved. Checks everything before changing anything: the
  /// optimizer name, every key, every size; on error the current state is left as it was.
  void load_state_dict(const StateDict<Scalar>& dict) {
    const std::string who = "descent::Optimizer::load_state_dict: ";
    if (dict.optimizer != name()) {
      throw std::invalid_argument(who + "state is for '" + dict.optimizer + "', optimizer is '" +
                                  std::string(name()) + "'");
    }
    std::size_t expected_keys = 0;
    for_each_state_field([&](const std::string& key, const auto& value) {
      using T = std::decay_t<decltype(value)>;
      ++expected_keys;
      if constexpr (std::is_arithmetic_v<T>) {
        const auto it = dict.scalars.find(key);
        if (it == dict.scalars.end()) throw std::invalid_argument(who + "missing " + key);
        // A step count: converting anything else to an integer would be undefined behaviour.
        if (std::is_integral_v<T> && !(it->second >= 0 && it->second <= 0x1p53 &&
                                       it->second == std::floor(it->second))) {
          throw std::invalid_argument(who + key + " is " + detail::format_number(it->second) +
                                      ", not a count from 0 to 2^53");
        }
      } else {
        const auto it = dict.buffers.find(key);
        if (it == dict.buffers.end()) throw std::invalid_argument(who + "missing " + key);
        if (static_cast<Eigen::Index>(it->second.size()) != value.size()) {
          throw std::invalid_argument(who + key + " holds " + std::to_string(it->second.size()) +
                                      " values, the optimizer expects " +
                                      std::to_string(value.size()));
        }
      }
    });
    if (expected_keys != dict.scalars.size() + dict.buffers.size()) {
      throw std::invalid_argument(who + "the state has entries this optimizer does not know "
                                        "(other parameters or options?)");
    }
    for_each_state_field([&](const std::string& key, auto& value) {
      using T = std::decay_t<decltype(value)>;
      if constexpr (std::is_arithmetic_v<T>) {
        value = static_cast<T>(dict.scalars.at(key));
      } else {
        const auto& v = dict.buffers.at(key);
        value = Eigen::Map<const Buffer<Scalar>>(v.data(), static_cast<Eigen::Index>(v.size()));
      }
    });
  }

 private:
  template <class Opt>
  using StateOf = typename Opt::State;
  template <class... Opt>
  static std::variant<StateOf<Opt>...> state_variant(std::variant<Opt...>);
  using AnyState = decltype(state_variant(std::declval<AnyOptimizer<Scalar>>()));

  struct GroupSlot {
    AnyOptimizer<Scalar> optimizer;
    std::vector<Parameter<Scalar>> params;
    std::vector<AnyState> states;
  };

  GroupSlot& checked(std::size_t group) {
    return const_cast<GroupSlot&>(std::as_const(*this).checked(group));
  }
  const GroupSlot& checked(std::size_t group) const {
    if (group >= m_groups.size()) {
      throw std::out_of_range("descent::Optimizer: no parameter group " + std::to_string(group) +
                              " (there are " + std::to_string(m_groups.size()) + ")");
    }
    return m_groups[group];
  }

  /// Group `group`'s optimizer; before any group exists, group 0 is the prototype.
  const AnyOptimizer<Scalar>& group_or_prototype(std::size_t group) const {
    if (m_groups.empty() && group == 0) return m_prototype;
    return checked(group).optimizer;
  }

  /// Rebuilds `opt` with a new learning rate and/or weight decay; the constructor validates them.
  static void apply_overrides(AnyOptimizer<Scalar>& any, std::optional<Scalar> lr,
                              std::optional<Scalar> wd) {
    std::visit(
        [&](auto& opt) {
          auto options = opt.options();
          if (lr) options.learning_rate = *lr;
          if (wd) options.weight_decay = *wd;
          opt = std::decay_t<decltype(opt)>(options);
        },
        any);
  }

  /// The parameters already registered, and those before index `end` of a group being added.
  std::vector<const Parameter<Scalar>*> all_parameters(const std::vector<Parameter<Scalar>>& adding,
                                                       std::size_t end) const {
    std::vector<const Parameter<Scalar>*> all;
    for (const auto& g : m_groups) {
      for (const auto& p : g.params) all.push_back(&p);
    }
    for (std::size_t i = 0; i < end; ++i) all.push_back(&adding[i]);
    return all;
  }

  /// Calls f("<group>.<param>.<field>", value) for every field of every tensor's State.
  template <class F>
  void for_each_state_field(F&& f) const {
    const_cast<Optimizer*>(this)->for_each_state_field_impl(f);
  }
  template <class F>
  void for_each_state_field(F&& f) {
    for_each_state_field_impl(f);
  }
  template <class F>
  void for_each_state_field_impl(F& f) {
    for (std::size_t g = 0; g < m_groups.size(); ++g) {
      for (std::size_t i = 0; i < m_groups[g].params.size(); ++i) {
        const std::string prefix = std::to_string(g) + "." + m_groups[g].params[i].name + ".";
        std::visit(
            [&](auto& state) {
              std::apply(
                  [&](const auto&... field) {
                    (f(prefix + std::string(field.name), state.*(field.member)), ...);
                  },
                  std::decay_t<decltype(state)>::fields());
            },
            m_groups[g].states[i]);
      }
    }
  }

  AnyOptimizer<Scalar> m_prototype;
  std::vector<GroupSlot> m_groups;
};

/// The optimizer called `name` (sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw,
/// nadam) with PyTorch's defaults overridden by `options`, "key=value,..." in the Options field
/// names. Unknown names, unknown keys and bad values throw std::invalid_argument listing the
/// valid ones.
template <class Scalar>
Optimizer<Scalar> make_optimizer(std::string_view name, std::string_view options = {}) {
  return detail::with_optimizer_named<Scalar>(name, [&](const auto& prototype) {
    using Opt = std::decay_t<decltype(prototype)>;
    auto o = prototype.options();
    detail::for_each_key_value(options, [&](std::string_view key, std::string_view value) {
      if constexpr (std::is_same_v<Opt, Nesterov<Scalar>>) {
        // PyTorch users may spell out dampening=0; anything else is an error that names it.
        if (key == "dampening") return detail::reject_nesterov_dampening(key, value);
      }
      detail::set_option<Opt>(o, key, value);
    });
    return Optimizer<Scalar>(AnyOptimizer<Scalar>(std::in_place_type<Opt>, o));
  });
}

/// make_optimizer with the options as a map, e.g. {{"learning_rate", "0.01"}, {"amsgrad", "true"}}.
template <class Scalar>
Optimizer<Scalar> make_optimizer(std::string_view name,
                                 const std::map<std::string, std::string>& options) {
  std::string text;
  for (const auto& [key, value] : options) text += key + "=" + value + ",";
  return make_optimizer<Scalar>(name, text);
}

/// make_optimizer with numeric options, e.g. {{"learning_rate", 0.01}, {"centered", 1}}.
template <class Scalar>
Optimizer<Scalar> make_optimizer(std::string_view name, const std::map<std::string, double>& options) {
  std::string text;
  for (const auto& [key, value] : options) text += key + "=" + detail::format_number(value) + ",";
  return make_optimizer<Scalar>(name, text);
}

}  // namespace descent
