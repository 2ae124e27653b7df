#pragma once
// A feed-forward network: a chain of Dense, Activation and Dropout layers.
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

#include <descent/nn/activation.hpp>
#include <descent/nn/detail/gemm.hpp>
#include <descent/nn/detail/thread_pool.hpp>
#include <descent/nn/layers.hpp>
#include <descent/optim/detail/kernel.hpp>
#include <descent/optim/detail/options.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace descent::nn {

template <class Scalar>
class Sequential {
 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  using Layer = std::variant<Dense, Activation, Dropout>;

  /// A network taking `inputs` features per sample; seed drives weight init and dropout.
  explicit Sequential(Eigen::Index inputs, std::uint64_t seed = 0)
      : m_inputs(inputs), m_seed(seed), m_rng(seed) {
    if (inputs < 1) throw std::invalid_argument("descent::nn::Sequential: inputs must be >= 1");
  }

  Sequential& add(Dense layer) {
    if (layer.units < 1) {
      throw std::invalid_argument("descent::nn::Dense: units must be >= 1, got " +
                                  std::to_string(layer.units));
    }
    return push(layer, layer.units, layer.units * (outputs() + 1));
  }
  Sequential& add(Activation activation) { return push(activation, outputs(), 0); }
  Sequential& add(Dropout dropout) {
    if (!(dropout.rate >= 0 && dropout.rate < 1)) {
      throw std::invalid_argument("descent::nn::Dropout: rate must be in [0, 1), got " +
                                  std::to_string(dropout.rate));
    }
    return push(dropout, outputs(), 0);
  }

  Eigen::Index inputs() const { return m_inputs; }
  Eigen::Index outputs() const { return m_slots.empty() ? m_inputs : m_slots.back().outputs; }
  std::size_t layer_count() const { return m_slots.size(); }
  const Layer& layer(std::size_t i) const { return m_slots.at(i).layer; }
  Eigen::Index parameter_count() const { return m_params.size(); }

  /// All weights and biases, in layer order; the optimizer steps this arena.
  Eigen::Map<Buffer<Scalar>> parameters() { return {m_params.data(), m_params.size()}; }
  Eigen::Map<const Buffer<Scalar>> parameters() const { return {m_params.data(), m_params.size()}; }
  /// d loss / d parameters after backward(), laid out like parameters().
  Eigen::Map<Buffer<Scalar>> gradients() { return {m_grads.data(), m_grads.size()}; }
  Eigen::Map<const Buffer<Scalar>> gradients() const { return {m_grads.data(), m_grads.size()}; }

  /// Weight matrix and bias vector of layer i, which must be Dense (views into the arenas).
  Eigen::Map<Matrix> weight(std::size_t i) { return weight_of(m_params, dense(i)); }
  Eigen::Map<Vector> bias(std::size_t i) { return bias_of(m_params, dense(i)); }
  Eigen::Map<Matrix> weight_gradient(std::size_t i) { return weight_of(m_grads, dense(i)); }
  Eigen::Map<Vector> bias_gradient(std::size_t i) { return bias_of(m_grads, dense(i)); }

  /// Draws every weight and bias afresh from `seed` (see Init); also restarts the dropout
  /// stream. The same seed gives the same network on every platform.
  void initialize(std::uint64_t seed) {
    m_seed = seed;
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < m_slots.size(); ++i) {
      const auto* d = std::get_if<Dense>(&m_slots[i].layer);
      if (d == nullptr) continue;
      detail::initialize_dense(weight(i), bias(i), d->init, rng);
    }
    m_rng.seed(seed ^ 0x9e3779b97f4a7c15ull);
  }

  /// Splits every layer's matrix products over `threads` threads (1: the calling thread only).
  void set_threads(int threads) {
    if (threads < 1) {
      throw std::invalid_argument("descent::nn::Sequential: threads must be >= 1, got " +
                                  std::to_string(threads));
    }
    if (threads == this->threads()) return;
    m_pool = threads > 1 ? std::make_unique<detail::ThreadPool>(threads) : nullptr;
    const Eigen::Index capacity = m_capacity;
    m_capacity = 0;
    if (capacity > 0) reserve(capacity);
  }
  int threads() const { return m_pool ? m_pool->size() : 1; }

  /// Training mode turns dropout on.
  void set_training(bool training) { m_training = training; }
  bool training() const { return m_training; }

  /// The state of the dropout random stream, for checkpoints.
  std::mt19937_64& rng() { return m_rng; }

  /// Sizes every buffer for batches of up to `batch` samples.
  void reserve(Eigen::Index batch) {
    if (batch <= m_capacity) return;
    m_capacity = batch;
    m_input.resize(m_inputs, batch);
    for (auto& s : m_slots) {
      s.output.resize(s.outputs, batch);
      s.input_gradient.resize(s.inputs, batch);
      if (std::holds_alternative<Dropout>(s.layer)) s.mask.resize(s.outputs, batch);
      if (std::holds_alternative<Dense>(s.layer)) {
        // One set of packing buffers per thread, each sized for that thread's share.
        const int parts = threads();
        const Eigen::Index cols = share(batch, parts), rows = share(s.outputs, parts);
        s.forward_gemm.clear();
        s.weight_gemm.clear();
        s.input_gemm.clear();
        for (int p = 0; p < parts; ++p) {
          s.forward_gemm.push_back(std::make_unique<detail::Gemm<Scalar>>(s.outputs, cols, s.inputs));
          s.weight_gemm.push_back(std::make_unique<detail::Gemm<Scalar>>(rows, s.inputs, batch));
          s.input_gemm.push_back(std::make_unique<detail::Gemm<Scalar>>(s.inputs, cols, s.outputs));
        }
      }
    }
  }

  /// The network's outputs (outputs x batch) for inputs x (inputs x batch), valid until the next
  /// forward. In training mode dropout is applied.
  template <class X>
  auto forward(const Eigen::MatrixBase<X>& x) {
    if (x.rows() != m_inputs) {
      throw std::invalid_argument("descent::nn::Sequential::forward: input has " +
                                  std::to_string(x.rows()) + " rows, the network takes " +
                                  std::to_string(m_inputs));
    }
    const Eigen::Index batch = x.cols();
    reserve(batch);
    m_batch = batch;
    m_input.leftCols(batch) = x;
    for (std::size_t i = 0; i < m_slots.size(); ++i) forward_layer(i);
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
      throw std::invalid_argument("descent::nn::Sequential::backward: gradient is " +
                                  std::to_string(grad_output.rows()) + "x" +
                                  std::to_string(grad_output.cols()) + ", outputs were " +
                                  std::to_string(outputs()) + "x" + std::to_string(m_batch));
    }
    if (m_slots.empty()) return;
    m_output_gradient.resize(outputs(), m_capacity);  // no-op once sized
    m_output_gradient.leftCols(m_batch) = grad_output;
    for (std::size_t i = m_slots.size(); i-- > 0;) {
      const bool need_input = i > 0 || input_gradient;
      backward_layer(i, need_input);
    }
    m_has_input_gradient = input_gradient;
  }

  /// d loss / d inputs from the last backward(input_gradient = true).
  auto input_gradient() const {
    if (!m_has_input_gradient || m_slots.empty()) {
      throw std::logic_error("descent::nn::Sequential: call backward(grad, true) first");
    }
    return m_slots.front().input_gradient.leftCols(m_batch);
  }

  /// One line per layer, with shapes and parameter counts.
  std::string summary() const {
    std::string text = "input " + std::to_string(m_inputs) + "\n";
    for (const auto& s : m_slots) {
      std::visit(
          [&](const auto& l) {
            using L = std::decay_t<decltype(l)>;
            if constexpr (std::is_same_v<L, Dense>) {
              text += "dense " + std::to_string(s.outputs) + "  (" +
                      std::to_string(s.param_count) + " parameters)\n";
            } else if constexpr (std::is_same_v<L, Activation>) {
              text += std::string(to_string(l)) + "\n";
            } else {
              text += "dropout " + descent::detail::format_value(l.rate) + "\n";
            }
          },
          s.layer);
    }
    return text + "total " + std::to_string(m_params.size()) + " parameters\n";
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

  Sequential& push(Layer layer, Eigen::Index outputs, Eigen::Index param_count) {
    Slot s;
    s.layer = layer;
    s.inputs = this->outputs();
    s.outputs = outputs;
    s.param_offset = m_params.size();
    s.param_count = param_count;
    m_slots.push_back(std::move(s));
    // Grow the arenas, keeping the values already there.
    Buffer<Scalar> params = Buffer<Scalar>::Zero(m_params.size() + param_count);
    params.head(m_params.size()) = m_params;
    m_params.swap(params);
    m_grads = Buffer<Scalar>::Zero(m_params.size());
    const Eigen::Index capacity = m_capacity;
    m_capacity = 0;
    if (capacity > 0) reserve(capacity);
    if (param_count > 0) initialize(m_seed);
    return *this;
  }

  const Slot& dense(std::size_t i) const {
    if (i >= m_slots.size() || !std::holds_alternative<Dense>(m_slots[i].layer)) {
      throw std::invalid_argument("descent::nn::Sequential: layer " + std::to_string(i) +
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

  /// The largest part when n things are split into `parts`, and where part p starts and ends.
  static Eigen::Index share(Eigen::Index n, int parts) { return (n + parts - 1) / parts; }
  static std::pair<Eigen::Index, Eigen::Index> part_range(Eigen::Index n, int parts, int p) {
    const Eigen::Index size = share(n, parts), begin = std::min(n, p * size);
    return {begin, std::min(n, begin + size) - begin};
  }

  /// Runs f(part) for every part, on the pool's threads when there is a pool.
  template <class F>
  void parallel(F& f) {
    if (!m_pool) return f(0);
    m_pool->run([](void* context, int part) { (*static_cast<F*>(context))(part); }, &f);
  }

  const Matrix& input_of(std::size_t i) const { return i == 0 ? m_input : m_slots[i - 1].output; }

  void forward_layer(std::size_t i) {
    Slot& s = m_slots[i];
    const Eigen::Index b = m_batch;
    const auto in = input_of(i).leftCols(b);
    auto out = s.output.leftCols(b);
    if (std::holds_alternative<Dense>(s.layer)) {
      // z = W x + b: the bias first, then the product accumulated onto it.
      out = bias_of(m_params, s).replicate(1, b);
      auto product = [&](int p) {  // each thread takes a share of the batch's columns
        const auto [c0, n] = part_range(b, threads(), p);
        s.forward_gemm[p]->template run<false, false>(
            out.middleCols(c0, n), m_params.data() + s.param_offset, s.outputs,
            in.data() + c0 * in.outerStride(), in.outerStride(), s.inputs, true);
      };
      parallel(product);
    } else if (const auto* a = std::get_if<Activation>(&s.layer)) {
      activate(*a, in, out);
    } else {
      const double rate = std::get<Dropout>(s.layer).rate;
      if (!m_training || rate == 0) {
        out = in;
      } else {
        // Each 64-bit draw decides four units, 16 bits apiece: the rate is honoured to 1/65536.
        auto mask = s.mask.leftCols(b);
        const auto keep = static_cast<Scalar>(1 / (1 - rate));
        const auto threshold = static_cast<std::uint32_t>(std::lround(rate * 65536.0));
        Scalar* m = mask.data();
        const Eigen::Index size = mask.size();
        for (Eigen::Index k = 0; k < size; k += 4) {
          std::uint64_t bits = m_rng();
          for (Eigen::Index lane = k; lane < std::min(k + 4, size); ++lane, bits >>= 16) {
            m[lane] = (bits & 0xffff) >= threshold ? keep : Scalar(0);
          }
        }
        out = in.cwiseProduct(mask);
      }
    }
  }

  void backward_layer(std::size_t i, bool need_input) {
    Slot& s = m_slots[i];
    const Eigen::Index b = m_batch;
    const Matrix& grad_source =
        i + 1 < m_slots.size() ? m_slots[i + 1].input_gradient : m_output_gradient;
    const auto g = grad_source.leftCols(b);
    const auto in = input_of(i).leftCols(b);
    auto gin = s.input_gradient.leftCols(b);
    if (std::holds_alternative<Dense>(s.layer)) {
      // dW = g x^T, db = sum over the batch of g, dx = W^T g
      auto products = [&](int p) {  // a share of dW's rows, and of dx's columns
        const auto [r0, rows] = part_range(s.outputs, threads(), p);
        s.weight_gemm[p]->template run<false, true>(weight_of(m_grads, s).middleRows(r0, rows),
                                                    g.data() + r0, g.outerStride(), in.data(),
                                                    in.outerStride(), b);
        if (!need_input) return;
        const auto [c0, cols] = part_range(b, threads(), p);
        s.input_gemm[p]->template run<true, false>(
            gin.middleCols(c0, cols), m_params.data() + s.param_offset, s.outputs,
            g.data() + c0 * g.outerStride(), g.outerStride(), s.outputs);
      };
      parallel(products);
      bias_of(m_grads, s) = g.rowwise().sum();
    } else if (!need_input) {
      return;  // activations and dropout have no parameters
    } else if (const auto* a = std::get_if<Activation>(&s.layer)) {
      activation_backward(*a, in, s.output.leftCols(b), g, gin);
    } else {
      const double rate = std::get<Dropout>(s.layer).rate;
      if (!m_training || rate == 0) {
        gin = g;
      } else {
        gin = g.cwiseProduct(s.mask.leftCols(b));  // d/dx (x * mask) = mask
      }
    }
  }

  Eigen::Index m_inputs;
  std::uint64_t m_seed;
  std::mt19937_64 m_rng;
  std::vector<Slot> m_slots;
  Buffer<Scalar> m_params, m_grads;
  Matrix m_input, m_output_gradient;
  Eigen::Index m_capacity = 0, m_batch = 0;
  bool m_training = false;
  bool m_has_input_gradient = false;
  std::unique_ptr<detail::ThreadPool> m_pool;
};

}  // namespace descent::nn
