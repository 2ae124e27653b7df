#pragma once
// The runtime Optimizer: any optimizer class, chosen at run time, over many tensors in parameter
// groups, like PyTorch's torch.optim.Optimizer with its param_groups and state_dict. Made by name
// with make_optimizer (registry.hpp) or from an optimizer object directly.

#include <descent/error.hpp>
#include <descent/optim/clip.hpp>
#include <descent/optim/concept.hpp>
#include <descent/optim/detail/optimizer_group.hpp>
#include <descent/optim/parameter.hpp>

#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Optimizers for Eigen tensors with PyTorch's update rules, and the modules around them.
namespace descent {

/// A type-erased optimizer over many tensors, made by make_optimizer() or from any
/// StepOptimizer object.
///
///   auto opt = descent::make_optimizer<float>("adam", "learning_rate=0.01");
///   opt.add_param_group({descent::parameter(w1, g1), descent::parameter(b1, gb1)});
///   opt.add_param_group({descent::parameter(w2, g2)}, {.learning_rate = 1e-3f});
///   ... fill g1, gb1, g2 ...;  opt.step();  opt.zero_grad();
///
/// Every tensor has its own State; one step() advances each State by exactly one step.
template <RealScalar Scalar>
class Optimizer {
 public:
  /// Per-group overrides of the optimizer's options, as in PyTorch's param_groups.
  struct GroupOptions {
    std::optional<Scalar> learning_rate{};  ///< replaces the optimizer's learning_rate if set
    std::optional<Scalar> weight_decay{};   ///< replaces the optimizer's weight_decay if set
  };

  /// Wraps one optimizer as the prototype that every parameter group starts from.
  // clang-format 14 would misplace the requires-clause.
  // clang-format off
  template <StepOptimizer O>
    requires std::same_as<typename O::Scalar, Scalar>
  explicit Optimizer(O prototype)
      : m_prototype(std::make_unique<detail::GroupOf<O>>(std::move(prototype))) {}
  // clang-format on

  /// Copies the optimizer with its groups' options and states (the tensors are shared).
  Optimizer(const Optimizer& other) : m_prototype(other.m_prototype->clone()) {
    for (const auto& g : other.m_groups) m_groups.push_back({g.optimizer->clone(), g.params});
  }
  /// Replaces this optimizer by a copy of `other`.
  Optimizer& operator=(const Optimizer& other) {
    if (this != &other) *this = Optimizer(other);
    return *this;
  }
  /// Moves an optimizer.
  Optimizer(Optimizer&&) noexcept = default;
  /// Moves an optimizer.
  Optimizer& operator=(Optimizer&&) noexcept = default;
  ~Optimizer() = default;

  /// "adam", "sgd", ...: the optimizer's make_optimizer name.
  std::string_view name() const { return m_prototype->name(); }

  /// Every option of group `group` as "key=value,...", exact enough to rebuild it.
  std::string options(std::size_t group = 0) const { return group_or_prototype(group).options(); }

  /// Adds tensors that share options; returns the group's index.
  std::size_t add_param_group(std::vector<Parameter<Scalar>> params, GroupOptions overrides = {}) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      Parameter<Scalar>& p = params[i];
      if (p.name.empty()) p.name = "param" + std::to_string(parameter_count() + i);
      if (p.size < 0 || (p.size > 0 && (p.value == nullptr || p.grad == nullptr))) {
        throw InvalidArgument("descent::Optimizer::add_param_group: parameter " + p.name +
                              " has no memory");
      }
      for (const auto& q : all_parameters(params, i)) {
        if (q->value == p.value && p.size > 0) {
          throw InvalidArgument("descent::Optimizer::add_param_group: parameter " + p.name +
                                " is already in the optimizer (as " + q->name + ")");
        }
      }
    }
    Group group{m_prototype->empty_copy(), {}};
    group.optimizer->set(overrides.learning_rate, overrides.weight_decay);
    for (const auto& p : params) group.optimizer->add_tensor(value_of(p));
    group.params = std::move(params);
    m_groups.push_back(std::move(group));
    return m_groups.size() - 1;
  }

  /// One step of every tensor, each from its current gradient, on the calling thread or split
  /// over `team`'s threads (nn::Sequential::step passes its own). Throws std::invalid_argument,
  /// before any step, if a Matrix or Array given to parameter() has changed size.
  void step(const StepTeam* team = nullptr) {
    refresh();
    for (auto& group : m_groups) {
      for (std::size_t i = 0; i < group.params.size(); ++i) {
        const Parameter<Scalar>& p = group.params[i];
        group.optimizer->step(i, value_of(p), Eigen::Map<const Buffer<Scalar>>(p.grad, p.size),
                              team);
      }
    }
  }

  /// Sets every gradient to zero.
  void zero_grad() {
    refresh();
    for_each_gradient([](auto g) { g.setZero(); });
  }

  /// Clips every gradient to [-limit, limit].
  void clip_grad_value(double limit) {
    refresh();
    for_each_gradient([&](auto g) { clip_by_value(g, limit); });
  }

  /// Scales all gradients by one factor so their joint L2 norm is at most max_norm
  /// (torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
  double clip_grad_norm(double max_norm) {
    detail::require_nonnegative("Optimizer::clip_grad_norm", "max_norm", max_norm);
    refresh();
    double squared = 0;
    for_each_gradient([&](auto g) { squared += detail::squared_norm(g); });
    const double norm = std::sqrt(squared);
    const auto coef = static_cast<Scalar>(detail::clip_coefficient(norm, max_norm));
    if (coef < 1) for_each_gradient([&](auto g) { g *= coef; });
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
    return group_or_prototype(group).learning_rate();
  }
  /// Sets the learning rate of every group (what a schedule does each step).
  void set_learning_rate(Scalar lr) {
    m_prototype->set(lr, std::nullopt);
    for (auto& g : m_groups) g.optimizer->set(lr, std::nullopt);
  }
  /// Sets the learning rate of group `group` only.
  void set_learning_rate(std::size_t group, Scalar lr) {
    checked(group).optimizer->set(lr, std::nullopt);
  }
  /// Whether the optimizer has a weight_decay option (every built-in one does).
  bool has_weight_decay() const { return m_prototype->weight_decay().has_value(); }
  /// The weight decay of group `group` (before any group exists, of the prototype); throws
  /// std::invalid_argument if the optimizer has no weight_decay option.
  Scalar weight_decay(std::size_t group = 0) const {
    const auto wd = group_or_prototype(group).weight_decay();
    if (!wd) {
      throw InvalidArgument("descent::Optimizer: " + std::string(name()) +
                            " has no weight_decay option");
    }
    return *wd;
  }
  /// Sets the weight decay of group `group` only.
  void set_weight_decay(std::size_t group, Scalar wd) {
    checked(group).optimizer->set(std::nullopt, wd);
  }

  /// A copy of all moments and step counts, for checkpoints.
  StateDict<Scalar> state_dict() const {
    StateDict<Scalar> dict{std::string(name()), {}, {}};
    for (std::size_t g = 0; g < m_groups.size(); ++g) {
      for (std::size_t i = 0; i < m_groups[g].params.size(); ++i) {
        m_groups[g].optimizer->save_state(i, key_prefix(g, i), dict);
      }
    }
    return dict;
  }

  /// Restores what state_dict() saved. Checks everything before changing anything: the
  /// optimizer name, every key, every size; on error the current state is left as it was.
  void load_state_dict(const StateDict<Scalar>& dict) {
    const std::string who = "descent::Optimizer::load_state_dict: ";
    if (dict.optimizer != name()) {
      throw InvalidArgument(who + "state is for '" + dict.optimizer + "', optimizer is '" +
                            std::string(name()) + "'");
    }
    std::size_t expected_keys = 0;
    for (std::size_t g = 0; g < m_groups.size(); ++g) {
      for (std::size_t i = 0; i < m_groups[g].params.size(); ++i) {
        expected_keys += m_groups[g].optimizer->check_state(i, key_prefix(g, i), dict);
      }
    }
    if (expected_keys != dict.scalars.size() + dict.buffers.size()) {
      throw InvalidArgument(who +
                            "the state has entries this optimizer does not know "
                            "(other parameters or options?)");
    }
    for (std::size_t g = 0; g < m_groups.size(); ++g) {
      for (std::size_t i = 0; i < m_groups[g].params.size(); ++i) {
        m_groups[g].optimizer->load_state(i, key_prefix(g, i), dict);
      }
    }
  }

 private:
  struct Group {
    std::unique_ptr<detail::OptimizerGroup<Scalar>> optimizer;
    std::vector<Parameter<Scalar>> params;
  };

  static Eigen::Map<Buffer<Scalar>> value_of(const Parameter<Scalar>& p) {
    return {p.value, p.size};
  }

  /// "<group>.<param>.": where tensor i of group g keeps its state in a StateDict.
  std::string key_prefix(std::size_t g, std::size_t i) const {
    return std::to_string(g) + "." + m_groups[g].params[i].name + ".";
  }

  /// Follows every Matrix or Array given to parameter() to where its memory is now.
  void refresh() {
    for (auto& g : m_groups) {
      for (auto& p : g.params) p.refresh();
    }
  }

  template <class F>
  void for_each_gradient(F&& f) {
    for (auto& g : m_groups) {
      for (auto& p : g.params) f(Eigen::Map<Buffer<Scalar>>(p.grad, p.size));
    }
  }

  Group& checked(std::size_t group) {
    return const_cast<Group&>(std::as_const(*this).checked(group));
  }
  const Group& checked(std::size_t group) const {
    if (group >= m_groups.size()) {
      throw OutOfRange("descent::Optimizer: no parameter group " + std::to_string(group) +
                       " (there are " + std::to_string(m_groups.size()) + ")");
    }
    return m_groups[group];
  }

  /// Group `group`'s optimizer; before any group exists, group 0 is the prototype.
  const detail::OptimizerGroup<Scalar>& group_or_prototype(std::size_t group) const {
    if (m_groups.empty() && group == 0) return *m_prototype;
    return *checked(group).optimizer;
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

  std::unique_ptr<detail::OptimizerGroup<Scalar>> m_prototype;
  std::vector<Group> m_groups;
};

}  // namespace descent
