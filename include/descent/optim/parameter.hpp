#pragma once
// The tensors a runtime Optimizer updates, and where their memory is found at each step.

#include <descent/error.hpp>
#include <descent/optim/detail/kernel.hpp>

#include <Eigen/Core>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace descent {

namespace detail {

/// Where a tensor's memory is looked up before each step: on the Eigen Matrix or Array that owns
/// it. Assigning a new result to such an object (`g = grad_of(w);`) may hand it the result's
/// buffer and free the old one, so an address taken once would go stale; the object stays put.
template <class Scalar>
struct TensorSource {
  void* object = nullptr;                        ///< the Matrix or Array; null: a fixed address
  Scalar* (*data)(void* object) = nullptr;       ///< its data() now
  Eigen::Index (*size)(void* object) = nullptr;  ///< its size() now
};

template <class V>
TensorSource<typename V::Scalar> source_of(Eigen::DenseBase<V>& tensor) {
  if constexpr (std::is_base_of_v<Eigen::PlainObjectBase<V>, V>) {
    return {&tensor.derived(), [](void* o) { return static_cast<V*>(o)->data(); },
            [](void* o) { return static_cast<V*>(o)->size(); }};
  } else {
    return {};  // a Map, Ref or Block: a view whose memory does not move
  }
}

}  // namespace detail

/// One tensor the runtime optimizer updates: flat views of its values and of its gradient.
///
/// Made by descent::parameter() from Eigen objects, a Parameter follows a Matrix or Array to
/// wherever its memory is at each step (so `g = grad_of(w);` is safe), and step() refuses a tensor
/// whose size has changed. Made from raw pointers (or from a Map), the memory is the caller's and
/// must stay where it is while the optimizer uses it.
template <class Scalar>
struct Parameter {
  Scalar* value = nullptr;  ///< first of `size` values, updated in place by step()
  Scalar* grad = nullptr;   ///< first of `size` gradient values, read by step()
  Eigen::Index size = 0;    ///< number of values in the tensor
  std::string name;         ///< used in state_dict keys and error messages; defaults to its index
  /// Set by parameter() when the value is a Matrix or Array: value is looked up there each step.
  detail::TensorSource<Scalar> value_source{};
  /// Set by parameter() when the gradient is a Matrix or Array: grad is looked up there each step.
  detail::TensorSource<Scalar> grad_source{};

  /// Brings value and grad up to date with their sources; throws std::invalid_argument naming
  /// the tensor if either no longer holds `size` values.
  void refresh() {
    const auto follow = [&](const detail::TensorSource<Scalar>& source, Scalar*& data,
                            const char* what) {
      if (source.object == nullptr) return;
      const Eigen::Index now = source.size(source.object);
      if (now != size) {
        throw InvalidArgument("descent::Optimizer: parameter " + name + "'s " + what + " holds " +
                              std::to_string(now) + " values now, " + std::to_string(size) +
                              " when it was added");
      }
      data = source.data(source.object);
    };
    follow(value_source, value, "value");
    follow(grad_source, grad, "gradient");
  }
};

/// Makes a Parameter from a value and a gradient tensor, both contiguous and of the same shape.
/// A Matrix or Array is followed by reference: it must outlive the optimizer's use of it, but
/// may be assigned new contents (and memory) of the same size between steps.
template <class V, class G>
Parameter<typename V::Scalar> parameter(Eigen::DenseBase<V>& value, Eigen::DenseBase<G>& grad,
                                        std::string name = {}) {
  static_assert(std::is_same_v<typename V::Scalar, typename G::Scalar>,
                "descent::parameter: value and grad must have the same Scalar type");
  static_assert(
      bool(V::Flags & Eigen::DirectAccessBit) && bool(G::Flags & Eigen::DirectAccessBit),
      "descent::parameter: value and grad must be Eigen objects with direct memory access");
  const std::string who = "descent::parameter(" + name + "): ";
  if (value.rows() != grad.rows() || value.cols() != grad.cols()) {
    throw InvalidArgument(who + "grad is " + std::to_string(grad.rows()) + "x" +
                          std::to_string(grad.cols()) + " but value is " +
                          std::to_string(value.rows()) + "x" + std::to_string(value.cols()));
  }
  if (!detail::is_contiguous(value.derived()) || !detail::is_contiguous(grad.derived())) {
    throw InvalidArgument(who +
                          "value and grad must be contiguous in memory "
                          "(a Block of a larger matrix is not; step it directly)");
  }
  return {value.derived().data(), grad.derived().data(),    value.size(),
          std::move(name),        detail::source_of(value), detail::source_of(grad)};
}

}  // namespace descent
