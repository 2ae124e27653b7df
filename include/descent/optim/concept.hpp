#pragma once
// What an optimizer class is: the requirements the runtime layer (make_optimizer, parameter
// groups, state_dict, checkpoints, the Trainer, the tuner) relies on, as C++20 concepts. Any
// class that meets StepOptimizer can be registered (register_optimizer) and is then used by name
// exactly like the built-in ones. docs/step_interface.md explains each requirement.

#include <descent/optim/detail/kernel.hpp>
#include <descent/optim/detail/options.hpp>

#include <Eigen/Core>

#include <concepts>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace descent {

/// Names a member for an optimizer's option_fields() and State::fields():
/// `descent::field("beta1", &Options::beta1)`.
using detail::field;

/// The element types optimizers work in: float and double (`Adam<int>` does not compile).
template <class T>
concept RealScalar = std::same_as<T, float> || std::same_as<T, double>;

namespace detail {

// clang-format 14 garbles concept definitions: the concepts below are formatted by hand.
// clang-format off
/// What a State field may be: a count (std::int64_t step counts), a real kept at any precision
/// (Nadam's mu_product), or a buffer the size of the tensor.
template <class T, class Scalar>
concept StateFieldType =
    std::same_as<T, std::int64_t> || std::same_as<T, double> || std::same_as<T, float> ||
    std::same_as<T, Buffer<Scalar>>;

/// What an Options field may be: a number of the optimizer's Scalar, a bool, an integer.
template <class T, class Scalar>
concept OptionFieldType =
    std::same_as<T, Scalar> || std::same_as<T, bool> || std::same_as<T, int> ||
    std::same_as<T, std::int64_t>;

// clang-format on
template <class T>
inline constexpr bool is_field_tuple = false;
template <class Owner, class... T>
inline constexpr bool is_field_tuple<std::tuple<Field<Owner, T>...>> = true;

/// `Fields` is a std::tuple of detail::field(name, &Owner::member) whose members have types that
/// `Allowed<T>` accepts.
template <class Fields, class Owner, template <class> class Allowed>
inline constexpr bool fields_allowed = false;
template <class Owner, class... Base, class... T, template <class> class Allowed>
inline constexpr bool fields_allowed<std::tuple<Field<Base, T>...>, Owner, Allowed> =
    (std::is_base_of_v<Base, Owner> && ...) && (Allowed<T>::value && ...);

template <class Scalar>
struct StateFieldOf {
  template <class T>
  struct test : std::bool_constant<StateFieldType<T, Scalar>> {};
};
template <class Scalar>
struct OptionFieldOf {
  template <class T>
  struct test : std::bool_constant<OptionFieldType<T, Scalar>> {};
};

}  // namespace detail

/// An optimizer class the runtime layer can use (see docs/step_interface.md):
///
///   using Scalar = float or double;
///   struct Options { Scalar learning_rate; ... };      // plain data; learning_rate required
///   struct State { ...; static constexpr auto fields(); };    // per tensor; fields() lists
///                                                             // every member to checkpoint
///   static constexpr std::string_view name = "adabelief";    // the make_optimizer name
///   static constexpr auto option_fields();                    // every Options member by name
///   explicit Opt(const Options&);                             // validates, throws
///   const Options& options() const;
///   State init(tensor) const;                                 // fresh state for a tensor
///   void step(tensor, grad, State&) const;                    // one update in place
///
/// where fields are listed with descent::detail::field("key", &Type::member).
// clang-format off
template <class O>
concept StepOptimizer =
    requires {
      typename O::Scalar;
      typename O::Options;
      typename O::State;
      { O::name } -> std::convertible_to<std::string_view>;
      O::option_fields();
      O::State::fields();
    } && RealScalar<typename O::Scalar> && std::copy_constructible<O> &&
    std::constructible_from<O, const typename O::Options&> &&
    std::default_initializable<typename O::Options> && std::movable<typename O::State> &&
    detail::fields_allowed<std::decay_t<decltype(O::option_fields())>, typename O::Options,
                           detail::OptionFieldOf<typename O::Scalar>::template test> &&
    detail::fields_allowed<std::decay_t<decltype(O::State::fields())>, typename O::State,
                           detail::StateFieldOf<typename O::Scalar>::template test> &&
    requires(const O& opt, typename O::Options& options, typename O::State& state,
             Eigen::Map<Buffer<typename O::Scalar>> param,
             Eigen::Map<const Buffer<typename O::Scalar>> grad) {
      { options.learning_rate } -> std::convertible_to<typename O::Scalar>;
      { opt.options() } -> std::convertible_to<const typename O::Options&>;
      { opt.init(param) } -> std::same_as<typename O::State>;
      opt.step(param, grad, state);
    };
// clang-format on

}  // namespace descent
