#pragma once
// A layer of your own: derive from descent::nn::Module and add it to a Sequential network beside
// Dense, Activation and Dropout. Its parameters live in the network's arena like Dense's (one
// optimizer pass covers them), it trains with the Trainer, goes through checkpoints by its
// description, and nn::check_gradients checks its backward pass against finite differences.
//
//   template <class Scalar>
//   class Scale : public descent::nn::Module<Scalar> {   // y = a * x, one parameter a
//    public:
//     std::string description() const override { return "scale"; }
//     Eigen::Index outputs(Eigen::Index inputs) const override { return inputs; }
//     Eigen::Index parameter_count(Eigen::Index) const override { return 1; }
//     void initialize(Params a, Eigen::Index, std::mt19937_64&) override { a[0] = 1; }
//     void forward(const ConstBatch& x, Batch y, ConstParams a, const Pass&) override {
//       y = a[0] * x;
//     }
//     void backward(Backward& b) override {        // dL/da = sum(dy .* x), dL/dx = a dy
//       b.grad[0] = (b.dy.array() * b.x.array()).sum();
//       if (b.need_dx) b.dx = b.params[0] * b.dy;
//     }
//   };
//   net.add(Dense{64}).add(Scale<float>{}).add(Activation::relu);
//
// The network calls forward and backward with the whole batch, from one thread: a network with
// several threads runs its other layers in parallel and waits for this one.

#include <descent/optim/detail/kernel.hpp>

#include <Eigen/Core>

#include <cstdint>
#include <random>
#include <string>

namespace descent::nn {

/// The interface of a layer of your own (see the top of this file for an example).
template <class Scalar>
class Module {
 public:
  /// A batch, features x samples (samples are columns), that the layer reads.
  using ConstBatch = Eigen::Ref<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>;
  /// A batch, features x samples, that the layer writes.
  using Batch = Eigen::Ref<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>;
  /// The layer's parameters (or their gradients): its slice of the network's arena.
  using Params = Eigen::Map<Buffer<Scalar>>;
  /// The layer's parameters, read-only.
  using ConstParams = Eigen::Map<const Buffer<Scalar>>;

  /// What forward() is told about the pass.
  struct Pass {
    bool training = false;  ///< training mode (Sequential::set_training): noise, dropout on
    /// Seeds this pass's random numbers: the network's random stream (the one dropout uses)
    /// gives every forward pass in training a fresh seed, and a checkpoint restores it, so a
    /// resumed run draws the same numbers.
    std::uint64_t seed = 0;
  };

  /// What backward() gets: the forward pass's input and output, the gradient of the loss with
  /// respect to the output, and where to put the gradients.
  struct Backward {
    ConstBatch x;        ///< the input of the last forward()
    ConstBatch y;        ///< its output
    ConstBatch dy;       ///< d loss / d y
    ConstParams params;  ///< the parameters forward() used
    Params grad;         ///< d loss / d params: overwrite it (it holds the last batch's)
    Batch dx;            ///< d loss / d x: write it when need_dx
    bool need_dx;        ///< false for the first layer, unless the input gradient is asked for
  };

  virtual ~Module() = default;

  /// The layer's name and options, e.g. "gaussian_noise 0.1": summary() prints it, and a
  /// checkpoint loads only into a network whose layers have the same descriptions.
  virtual std::string description() const = 0;
  /// Values per sample out, for `inputs` values per sample in. Throws std::invalid_argument if the
  /// layer cannot take that many inputs (Sequential::add then refuses it).
  virtual Eigen::Index outputs(Eigen::Index inputs) const = 0;
  /// How many parameters the layer keeps in the network's arena, for `inputs` inputs.
  virtual Eigen::Index parameter_count(Eigen::Index /*inputs*/) const { return 0; }
  /// Draws the initial parameters from `rng` (Sequential::initialize; the same seed gives the
  /// same network).
  virtual void initialize(Params /*params*/, Eigen::Index /*inputs*/, std::mt19937_64& /*rng*/) {}
  /// y = f(x; params) for a batch: x is inputs x batch, y outputs x batch.
  virtual void forward(const ConstBatch& x, Batch y, ConstParams params, const Pass& pass) = 0;
  /// The gradients of the last forward() (see Backward).
  virtual void backward(Backward& b) = 0;
};

}  // namespace descent::nn
