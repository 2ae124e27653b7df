#pragma once
// A feed-forward network: a chain of Dense, Activation and Dropout layers, and layers of your own
// (descent::nn::Module).
//
//   descent::nn::Sequential<float> net(784);
//   net.add(Dense{256}).add(Activation::relu).add(Dropout{0.2}).add(Dense{10});
//   net.initialize(/*seed=*/0);
//   auto logits = net.forward(x);            // x: 784 x batch, samples are columns
//   net.backward(d_loss_d_logits);           // fills net.gradients()
//
// Every weight and bias lives in one contiguous arena, parameters(), and every gradient in a
// second one, gradients(), in the same order (W1, b1, W2, b2, ..., each W column-major like
// torch.nn.Linear.weight). One optimizer State covers the whole network and a training step is one
// fused pass over it. Buffers are sized for the largest batch seen (or reserve()d): after that,
// forward and backward allocate nothing.

#include <descent/detail/format.hpp>
#include <descent/detail/size.hpp>
#include <descent/error.hpp>
#include <descent/nn/activation.hpp>
#include <descent/nn/detail/gemm.hpp>
#include <descent/nn/detail/thread_pool.hpp>
#include <descent/nn/layers.hpp>
#include <descent/nn/module.hpp>
#include <descent/optim/detail/kernel.hpp>
#include <descent/optim/detail/options.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <memory>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

/// Feed-forward networks: layers, activations, losses, Sequential and the Trainer.
namespace descent::nn {

/// A feed-forward network: a chain of layers whose weights and biases share one arena.
template <class Scalar>
class Sequential {
 public:
  /// A matrix of Scalar; batches have one sample per column.
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  /// A column vector of Scalar, as a Dense layer's bias.
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  /// Any one layer: a built-in one's description, or a layer of your own.
  using Layer = std::variant<Dense, Activation, Dropout, std::unique_ptr<Module<Scalar>>>;

  /// A network taking `inputs` features per sample; seed drives weight init and dropout.
  explicit Sequential(Eigen::Index inputs, std::uint64_t seed = 0)
      : m_inputs(inputs), m_seed(seed) {
    if (inputs < 1) throw InvalidArgument("descent::nn::Sequential: inputs must be >= 1");
  }

  /// Appends a Dense layer and draws every weight afresh from the seed (see initialize());
  /// throws std::invalid_argument if units < 1, and std::length_error, naming the layer, when its
  /// units * (inputs + 1) parameters do not fit in memory. Returns *this.
  Sequential& add(Dense layer) {
    if (layer.units < 1) {
      throw InvalidArgument("descent::nn::Dense: units must be >= 1, got " +
                            std::to_string(layer.units));
    }
    const auto count = layer.parameter_count(outputs());
    if (!count || !descent::detail::checked_sum(*count, m_params.size())) {
      throw LengthError("descent::nn::Dense: layer " + std::to_string(m_slots.size()) + " (" +
                        std::to_string(layer.units) + " units on " + std::to_string(outputs()) +
                        " inputs) has more parameters than " + "can be counted");
    }
    return push(layer, layer.units, *count);
  }
  /// Appends an activation applied element-wise; returns *this.
  Sequential& add(Activation activation) { return push(activation, outputs(), 0); }
  /// Appends a layer of your own (see Module); throws std::invalid_argument if it is null or
  /// refuses this many inputs, std::length_error if its parameters do not fit. Returns *this.
  Sequential& add(std::unique_ptr<Module<Scalar>> module) {
    if (!module) throw InvalidArgument("descent::nn::Sequential::add: the module is null");
    const Eigen::Index in = outputs();
    const Eigen::Index out = module->outputs(in);
    const Eigen::Index count = module->parameter_count(in);
    const std::string who = "descent::nn::Sequential::add: layer " +
                            std::to_string(m_slots.size()) + " (" + module->description() + ")";
    if (out < 1) {
      throw InvalidArgument(who + " has " + std::to_string(out) + " outputs on " +
                            std::to_string(in) + " inputs");
    }
    if (count < 0 || !descent::detail::checked_sum(count, m_params.size())) {
      throw LengthError(who + " has " + std::to_string(count) + " parameters");
    }
    return push(std::move(module), out, count);
  }
  /// Appends a copy of `module`, any class derived from Module<Scalar>. Returns *this.
  // clang-format 14 would put the requires-clause on the declaration's line.
  // clang-format off
  template <class M>
    requires std::derived_from<std::decay_t<M>, Module<Scalar>>
  Sequential& add(M&& module) {
    // clang-format on
    return add(std::unique_ptr<Module<Scalar>>(
        std::make_unique<std::decay_t<M>>(std::forward<M>(module))));
  }
  /// Appends a Dropout layer; throws std::invalid_argument unless 0 <= rate < 1. Returns *this.
  Sequential& add(Dropout dropout) {
    if (!(dropout.rate >= 0 && dropout.rate < 1)) {
      throw InvalidArgument("descent::nn::Dropout: rate must be in [0, 1), got " +
                            descent::detail::format_number(dropout.rate));
    }
    return push(dropout, outputs(), 0);
  }

  /// Features per sample that forward() takes.
  Eigen::Index inputs() const { return m_inputs; }
  /// Values per sample that forward() returns (the inputs when there are no layers).
  Eigen::Index outputs() const { return m_slots.empty() ? m_inputs : m_slots.back().outputs; }
  /// Number of layers added.
  std::size_t layer_count() const { return m_slots.size(); }
  /// Layer `i`; throws std::out_of_range if there is no such layer.
  const Layer& layer(std::size_t i) const { return slot(i).layer; }
  /// Number of weights and biases in all layers.
  Eigen::Index parameter_count() const { return m_params.size(); }

  /// All weights and biases, in layer order; the optimizer steps this arena.
  Eigen::Map<Buffer<Scalar>> parameters() { return {m_params.data(), m_params.size()}; }
  /// The same arena, read-only.
  Eigen::Map<const Buffer<Scalar>> parameters() const { return {m_params.data(), m_params.size()}; }
  /// d loss / d parameters after backward(), laid out like parameters().
  Eigen::Map<Buffer<Scalar>> gradients() { return {m_grads.data(), m_grads.size()}; }
  /// The same arena, read-only.
  Eigen::Map<const Buffer<Scalar>> gradients() const { return {m_grads.data(), m_grads.size()}; }

  /// The weight matrix (units x inputs) of layer i, a view into parameters(); throws
  /// std::invalid_argument unless layer i is Dense, as do bias() and the gradients below.
  Eigen::Map<Matrix> weight(std::size_t i) { return weight_of(m_params, dense(i)); }
  /// The bias of Dense layer `i`, a view into parameters().
  Eigen::Map<Vector> bias(std::size_t i) { return bias_of(m_params, dense(i)); }
  /// d loss / d weight of Dense layer `i`, a view into gradients().
  Eigen::Map<Matrix> weight_gradient(std::size_t i) { return weight_of(m_grads, dense(i)); }
  /// d loss / d bias of Dense layer `i`, a view into gradients().
  Eigen::Map<Vector> bias_gradient(std::size_t i) { return bias_of(m_grads, dense(i)); }

  /// Draws every weight and bias afresh from `seed` (see Init); also restarts the dropout
  /// stream. The same seed gives the same network on every platform.
  void initialize(std::uint64_t seed) {
    m_seed = seed;
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < m_slots.size(); ++i) {
      if (const auto* d = std::get_if<Dense>(&m_slots[i].layer)) {
        detail::initialize_dense(weight(i), bias(i), d->init, rng);
      } else if (Module<Scalar>* m = module(m_slots[i])) {
        m->initialize(params_of(m_params, m_slots[i]), m_slots[i].inputs, rng);
      }
    }
    m_dropout = {detail::mix64(seed ^ descent::detail::golden_gamma), 0};
  }

  /// Splits the forward and backward passes over `threads` threads (1: the calling thread only):
  /// each thread takes a share of the batch's columns, and of the weight gradients' columns. The
  /// results do not depend on the thread count, except for float summation order in the products.
  void set_threads(int threads) {
    if (threads < 1) {
      throw InvalidArgument("descent::nn::Sequential: threads must be >= 1, got " +
                            std::to_string(threads));
    }
    if (threads == this->threads()) return;
    m_pool = threads > 1 ? std::make_unique<detail::ThreadPool>(threads) : nullptr;
    const Eigen::Index capacity = m_capacity;
    m_capacity = 0;
    if (capacity > 0) reserve(capacity);
  }
  /// Number of threads the passes use, as set by set_threads().
  int threads() const { return m_pool ? m_pool->size() : 1; }

  /// optimizer.step(&team) with a StepTeam of this network's threads: of the parameter arena,
  /// each thread updates the weight columns and bias rows whose gradients it computed (they are
  /// still in its cache), and of any other large tensor an equal run. Updates work element by
  /// element, so the result is exactly optimizer.step()'s. Any type with step(const StepTeam*)
  /// will do; with one thread, optimizer.step() is called.
  template <class Optimizer>
  void step(Optimizer& optimizer) {
    if (!m_pool) return optimizer.step();
    const descent::StepTeam team{m_pool.get(),
                                 m_pool->size(),
                                 [](void* pool, void (*task)(void*, int), void* context) {
                                   static_cast<detail::ThreadPool*>(pool)->run(task, context);
                                 },
                                 m_params.data(),
                                 m_params.size(),
                                 m_step_segments.data(),
                                 m_step_segments.size()};
    optimizer.step(&team);
  }

  /// Training mode turns dropout on.
  void set_training(bool training) { m_training = training; }
  /// Whether dropout is on (training mode).
  bool training() const { return m_training; }

  /// Where dropout's random stream stands, for checkpoints: saving it and setting it back repeats
  /// the same masks.
  DropoutStream& dropout_stream() { return m_dropout; }
  /// The dropout stream, read-only.
  const DropoutStream& dropout_stream() const { return m_dropout; }

  /// Sizes every buffer for batches of up to `batch` samples; throws std::length_error, naming
  /// the batch and the layer, when they do not fit in memory (the network is unchanged then).
  void reserve(Eigen::Index batch) {
    if (batch <= m_capacity) return;
    try {
      if (!descent::detail::checked_product(widest(), batch)) throw std::bad_alloc();
      allocate_buffers(batch);
    } catch (const std::bad_alloc&) {
      throw LengthError("descent::nn::Sequential: the buffers for a batch of " +
                        std::to_string(batch) + " (the widest layer has " +
                        std::to_string(widest()) + " values per sample) do not fit in memory");
    }
    m_capacity = batch;
  }

  /// The network's outputs (outputs x batch) for inputs x (inputs x batch), valid until the next
  /// forward. In training mode dropout is applied.
  template <class X>
  auto forward(const Eigen::MatrixBase<X>& x) {
    if (x.rows() != m_inputs) {
      throw InvalidArgument("descent::nn::Sequential::forward: input has " +
                            std::to_string(x.rows()) + " rows, the network takes " +
                            std::to_string(m_inputs));
    }
    const Eigen::Index batch = x.cols();
    reserve(batch);
    m_batch = batch;
    // Every layer works column by column, so each thread takes its share of the samples through
    // the whole network: one dispatch, no waiting between layers.
    // (A Module takes the whole batch: there the threads wait, and one of them runs it.)
    auto pass = [&](int p) {
      const auto [c0, n] = descent::detail::part_range(batch, threads(), p);
      m_input.middleCols(c0, n) = x.middleCols(c0, n);
      std::uint64_t draw = m_dropout.counter;
      for (std::size_t i = 0; i < m_slots.size(); ++i) forward_layer(i, p, c0, n, draw);
    };
    parallel(pass);
    for (const auto& s : m_slots) {
      m_dropout.counter += static_cast<std::uint64_t>(dropout_draws(s));
    }
    return output();
  }

  /// The outputs of the last forward().
  auto output() const {
    const Matrix& last = m_slots.empty() ? m_input : m_slots.back().output;
    return last.leftCols(m_batch);
  }

  /// Back-propagates d loss / d outputs of the last forward() into gradients() (overwriting it).
  /// With input_gradient, also computes d loss / d inputs (see input_gradient()).
  template <class G>
  void backward(const Eigen::MatrixBase<G>& grad_output, bool input_gradient = false) {
    if (grad_output.rows() != outputs() || grad_output.cols() != m_batch) {
      throw InvalidArgument("descent::nn::Sequential::backward: gradient is " +
                            std::to_string(grad_output.rows()) + "x" +
                            std::to_string(grad_output.cols()) + ", outputs were " +
                            std::to_string(outputs()) + "x" + std::to_string(m_batch));
    }
    if (m_slots.empty()) return;
    m_output_gradient.resize(outputs(), m_capacity);  // no-op once sized
    // Each thread back-propagates its share of the columns, as in forward(); a Dense layer's
    // weight gradient sums over every column, so there the threads wait for each other and then
    // split its columns (the inputs) instead.
    auto pass = [&](int p) {
      const auto [c0, n] = descent::detail::part_range(m_batch, threads(), p);
      m_output_gradient.middleCols(c0, n) = grad_output.middleCols(c0, n);
      for (std::size_t i = m_slots.size(); i-- > 0;) {
        backward_layer(i, p, c0, n, i > 0 || input_gradient);
      }
    };
    parallel(pass);
    m_has_input_gradient = input_gradient;
  }

  /// d loss / d inputs from the last backward(input_gradient = true).
  auto input_gradient() const {
    if (!m_has_input_gradient || m_slots.empty()) {
      throw LogicError("descent::nn::Sequential: call backward(grad, true) first");
    }
    return m_slots.front().input_gradient.leftCols(m_batch);
  }

  /// One line per layer, with shapes and parameter counts.
  std::string summary() const {
    std::string text = "input " + std::to_string(m_inputs) + "\n";
    for (std::size_t i = 0; i < m_slots.size(); ++i) {
      const Slot& s = m_slots[i];
      text += description(i);
      if (s.param_count > 0) text += "  (" + std::to_string(s.param_count) + " parameters)";
      if (module(s) != nullptr) text += "  -> " + std::to_string(s.outputs);
      text += "\n";
    }
    return text + "total " + std::to_string(m_params.size()) + " parameters\n";
  }

  /// Layer i as a checkpoint names it: "dense 256", "relu", "dropout 0.2", or a Module's
  /// description(). Throws std::out_of_range if there is no such layer.
  std::string description(std::size_t i) const {
    const Slot& s = slot(i);
    if (const auto* d = std::get_if<Dense>(&s.layer)) return "dense " + std::to_string(d->units);
    if (const auto* a = std::get_if<Activation>(&s.layer)) return std::string(to_string(*a));
    if (const auto* d = std::get_if<Dropout>(&s.layer)) {
      return "dropout " + descent::detail::format_number(d->rate);
    }
    return module(s)->description();
  }

 private:
  struct Slot {
    Layer layer;
    Eigen::Index inputs = 0, outputs = 0;
    Eigen::Index param_offset = 0, param_count = 0;
    Matrix output;          // outputs x capacity
    Matrix input_gradient;  // inputs x capacity
    Matrix mask;            // dropout: 0 or 1 / (1 - rate)
    std::vector<std::unique_ptr<detail::Gemm<Scalar>>> forward_gemm, weight_gemm, input_gemm;
  };

  /// The most values per sample any buffer holds.
  Eigen::Index widest() const {
    Eigen::Index w = m_inputs;
    for (const auto& s : m_slots) w = std::max(w, s.outputs);
    return w;
  }

  /// Sizes every layer's buffers for `batch` samples (reserve() checks and commits).
  void allocate_buffers(Eigen::Index batch) {
    m_input.resize(m_inputs, batch);
    for (auto& s : m_slots) {
      s.output.resize(s.outputs, batch);
      s.input_gradient.resize(s.inputs, batch);
      if (std::holds_alternative<Dropout>(s.layer)) s.mask.resize(s.outputs, batch);
      if (std::holds_alternative<Dense>(s.layer)) {
        // One set of packing buffers per thread, each sized for that thread's share.
        const int parts = threads();
        const Eigen::Index cols = descent::detail::part_share(batch, parts),
                           weight_cols = descent::detail::part_share(s.inputs, parts);
        s.forward_gemm.clear();
        s.weight_gemm.clear();
        s.input_gemm.clear();
        for (int p = 0; p < parts; ++p) {
          s.forward_gemm.push_back(
              std::make_unique<detail::Gemm<Scalar>>(s.outputs, cols, s.inputs));
          s.weight_gemm.push_back(
              std::make_unique<detail::Gemm<Scalar>>(s.outputs, weight_cols, batch));
          s.input_gemm.push_back(std::make_unique<detail::Gemm<Scalar>>(s.inputs, cols, s.outputs));
        }
      }
    }
  }

  const Slot& slot(std::size_t i) const {
    if (i >= m_slots.size()) {
      throw OutOfRange("descent::nn::Sequential: no layer " + std::to_string(i) + " (there are " +
                       std::to_string(m_slots.size()) + ")");
    }
    return m_slots[i];
  }

  static Module<Scalar>* module(const Slot& s) {
    const auto* m = std::get_if<std::unique_ptr<Module<Scalar>>>(&s.layer);
    return m != nullptr ? m->get() : nullptr;
  }
  static typename Module<Scalar>::Params params_of(Buffer<Scalar>& arena, const Slot& s) {
    return {arena.data() + s.param_offset, s.param_count};
  }
  typename Module<Scalar>::ConstParams const_params_of(const Slot& s) const {
    return {m_params.data() + s.param_offset, s.param_count};
  }

  Sequential& push(Layer layer, Eigen::Index outputs, Eigen::Index param_count) {
    // The new arenas first, keeping the values already there (a new Dense layer then redraws
    // them all from the seed, below): if they do not fit, the network is left as it was.
    Buffer<Scalar> params, grads;
    try {
      params = Buffer<Scalar>::Zero(m_params.size() + param_count);
      grads = Buffer<Scalar>::Zero(m_params.size() + param_count);
    } catch (const std::bad_alloc&) {
      throw LengthError(
          "descent::nn::Sequential: layer " + std::to_string(m_slots.size()) + " needs " +
          std::to_string(param_count) + " parameters, " +
          std::to_string(m_params.size() + param_count) + " in all (" +
          descent::detail::format_number(std::round(20.0 * double(m_params.size() + param_count) *
                                                    sizeof(Scalar) / double(1 << 30)) /
                                         10) +
          " GiB with their gradients): they do not fit in memory");
    }
    params.head(m_params.size()) = m_params;
    Slot s;
    s.layer = std::move(layer);
    s.inputs = this->outputs();
    s.outputs = outputs;
    s.param_offset = m_params.size();
    s.param_count = param_count;
    if (param_count > 0 && module(s) != nullptr) {  // a Module's parameters: equal runs
      m_step_segments.push_back({s.param_offset, param_count, 1});
    } else if (param_count > 0) {  // a Dense layer: its weight, outputs x inputs, then its bias
      m_step_segments.push_back({s.param_offset, s.inputs, s.outputs});
      m_step_segments.push_back({s.param_offset + s.outputs * s.inputs, s.outputs, 1});
    }
    m_slots.push_back(std::move(s));
    m_params.swap(params);
    m_grads.swap(grads);
    const Eigen::Index capacity = m_capacity;
    m_capacity = 0;
    if (capacity > 0) reserve(capacity);
    if (param_count > 0) initialize(m_seed);
    return *this;
  }

  const Slot& dense(std::size_t i) const {
    if (i >= m_slots.size() || !std::holds_alternative<Dense>(m_slots[i].layer)) {
      throw InvalidArgument("descent::nn::Sequential: layer " + std::to_string(i) +
                            " is not a Dense layer");
    }
    return m_slots[i];
  }
  static Eigen::Map<Matrix> weight_of(Buffer<Scalar>& arena, const Slot& s) {
    return {arena.data() + s.param_offset, s.outputs, s.inputs};
  }
  static Eigen::Map<Vector> bias_of(Buffer<Scalar>& arena, const Slot& s) {
    return {arena.data() + s.param_offset + s.outputs * s.inputs, s.outputs};
  }

  /// Runs f on part 0 once every part has arrived, and lets the parts go on when it is done: a
  /// Module sees the whole batch.
  template <class F>
  void whole_batch(int p, F&& f) {
    if (m_pool) m_pool->barrier();
    if (p == 0) f();
    if (m_pool) m_pool->barrier();
  }

  /// Runs f(part) for every part, on the pool's threads when there is a pool.
  template <class F>
  void parallel(F& f) {
    if (!m_pool) return f(0);
    m_pool->run([](void* context, int part) { (*static_cast<F*>(context))(part); }, &f);
  }

  const Matrix& input_of(std::size_t i) const { return i == 0 ? m_input : m_slots[i - 1].output; }

  /// Random draws a layer takes from the stream per forward pass in training: a dropout layer one
  /// per four units, a Module one (its Pass::seed).
  Eigen::Index dropout_draws(const Slot& s) const {
    if (module(s) != nullptr) return m_training ? 1 : 0;
    const auto* d = std::get_if<Dropout>(&s.layer);
    if (d == nullptr || !m_training || d->rate == 0) return 0;
    return (s.outputs * m_batch + 3) / 4;
  }

  /// Layer i on columns [c0, c0 + n) of the batch, for part p. `draw` is where this layer's
  /// dropout draws start in the stream; it moves past them. (Both passes are defined in
  /// nn/detail/sequential_passes.hpp, out of the class: not inline, so the compiled mode builds
  /// them once.)
  void forward_layer(std::size_t i, int p, Eigen::Index c0, Eigen::Index n, std::uint64_t& draw);
  /// Back-propagates layer i on columns [c0, c0 + n), for part p.
  void backward_layer(std::size_t i, int p, Eigen::Index c0, Eigen::Index n, bool need_input);

  Eigen::Index m_inputs;
  std::uint64_t m_seed;
  DropoutStream m_dropout;
  std::vector<Slot> m_slots;
  Buffer<Scalar> m_params, m_grads;
  Matrix m_input, m_output_gradient;
  Eigen::Index m_capacity = 0, m_batch = 0;
  bool m_training = false;
  bool m_has_input_gradient = false;
  std::unique_ptr<detail::ThreadPool> m_pool;
  // How step() splits the arena: each Dense layer's weight by columns and bias by rows, as
  // backward() splits their gradients.
  std::vector<descent::detail::StepSegment> m_step_segments;
};

}  // namespace descent::nn

#include <descent/nn/detail/sequential_passes.hpp>

#ifdef DESCENT_COMPILED_LIB  // descent::compiled holds these instantiations
extern template class descent::nn::Sequential<float>;
extern template class descent::nn::Sequential<double>;
#endif
