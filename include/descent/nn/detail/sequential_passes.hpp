#pragma once
// Sequential's forward and backward passes of one layer (Dense, Activation, Dropout or a Module)
// over a part of the batch. Defined out of the class, not inline: the compiled mode
// (descent::compiled) instantiates them once for float and double.

#include <descent/nn/sequential.hpp>

namespace descent::nn {

template <class Scalar>
void Sequential<Scalar>::forward_layer(std::size_t i, int p, Eigen::Index c0, Eigen::Index n,
                                       std::uint64_t& draw) {
  Slot& s = m_slots[i];
  if (Module<Scalar>* m = module(s)) {
    using descent::detail::golden_gamma;
    const std::uint64_t seed = detail::mix64(m_dropout.key + draw * golden_gamma);
    draw += static_cast<std::uint64_t>(dropout_draws(s));
    return whole_batch(p, [&] {
      m->forward(input_of(i).leftCols(m_batch), s.output.leftCols(m_batch), const_params_of(s),
                 {m_training, seed});
    });
  }
  if (n == 0) {  // a part with no samples (a batch smaller than the threads) draws nothing
    draw += static_cast<std::uint64_t>(dropout_draws(s));
    return;
  }
  const auto in = input_of(i).middleCols(c0, n);
  auto out = s.output.middleCols(c0, n);
  if (std::holds_alternative<Dense>(s.layer)) {
    // z = W x + b: the bias first, then the product accumulated onto it.
    out = bias_of(m_params, s).replicate(1, n);
    s.forward_gemm[std::size_t(p)]->template run<false, false>(
        out, m_params.data() + s.param_offset, s.outputs, in.data(), in.outerStride(), s.inputs,
        true);
  } else if (const auto* a = std::get_if<Activation>(&s.layer)) {
    activate(*a, in, out);
  } else if (const auto draws = dropout_draws(s); draws == 0) {
    out = in;
  } else {
    // Draw d of the stream decides units 4d .. 4d+3 of the batch's mask (column-major), 16
    // bits apiece: the rate is honoured to 1/65536, and a unit's decision does not depend on
    // which thread makes it.
    const double rate = std::get<Dropout>(s.layer).rate;
    const auto keep = static_cast<Scalar>(1 / (1 - rate));
    const auto threshold = static_cast<std::uint32_t>(std::lround(rate * 65536.0));
    auto mask = s.mask.middleCols(c0, n);
    Scalar* m = mask.data();
    const Eigen::Index first = c0 * s.outputs, last = first + mask.size();
    const auto bits_of = [&](Eigen::Index d) {
      using descent::detail::golden_gamma;
      return detail::mix64(m_dropout.key + (draw + std::uint64_t(d)) * golden_gamma);
    };
    const auto decide = [&](std::uint64_t bits, Eigen::Index u) {  // unit u of 4 in a draw
      return ((bits >> 16 * u) & 0xffff) >= threshold ? keep : Scalar(0);
    };
    // Whole draws in the middle (a loop the compiler vectorizes), part draws at the ends.
    const Eigen::Index whole_begin = (first + 3) / 4, whole_end = last / 4;
    Eigen::Index k = first;
    for (; k < std::min(last, 4 * whole_begin); ++k) m[k - first] = decide(bits_of(k / 4), k % 4);
    for (Eigen::Index d = whole_begin; d < whole_end; ++d) {
      const std::uint64_t bits = bits_of(d);
      for (int u = 0; u < 4; ++u) m[4 * d + u - first] = decide(bits, u);
    }
    for (k = std::max(k, 4 * whole_end); k < last; ++k) {
      m[k - first] = decide(bits_of(k / 4), k % 4);
    }
    out = in.cwiseProduct(mask);
    draw += static_cast<std::uint64_t>(draws);
  }
}

template <class Scalar>
void Sequential<Scalar>::backward_layer(std::size_t i, int p, Eigen::Index c0, Eigen::Index n,
                                        bool need_input) {
  Slot& s = m_slots[i];
  const Eigen::Index b = m_batch;
  const Matrix& grad_source =
      i + 1 < m_slots.size() ? m_slots[i + 1].input_gradient : m_output_gradient;
  const auto g = grad_source.leftCols(b);
  const auto in = input_of(i).leftCols(b);
  auto gin = s.input_gradient.middleCols(c0, n);
  if (Module<Scalar>* m = module(s)) {
    return whole_batch(p, [&] {
      typename Module<Scalar>::Backward args{in,
                                             s.output.leftCols(b),
                                             g,
                                             const_params_of(s),
                                             params_of(m_grads, s),
                                             s.input_gradient.leftCols(b),
                                             need_input};
      m->backward(args);
    });
  }
  if (std::holds_alternative<Dense>(s.layer)) {
    // dW = g x^T and db = the sum of g over the batch need every column of g: wait for the
    // other parts, then take a share of dW's columns (a contiguous run of the gradient arena,
    // which step() then updates on the same thread) and of db's rows. dx = W^T g is column by
    // column again.
    if (m_pool) m_pool->barrier();
    const auto [k0, k] = descent::detail::part_range(s.inputs, threads(), p);
    s.weight_gemm[std::size_t(p)]->template run<false, true>(
        weight_of(m_grads, s).middleCols(k0, k), g.data(), g.outerStride(), in.data() + k0,
        in.outerStride(), b);
    const auto [r0, rows] = descent::detail::part_range(s.outputs, threads(), p);
    bias_of(m_grads, s).segment(r0, rows) = g.middleRows(r0, rows).rowwise().sum();
    if (!need_input || n == 0) return;
    s.input_gemm[std::size_t(p)]->template run<true, false>(
        gin, m_params.data() + s.param_offset, s.outputs, g.data() + c0 * g.outerStride(),
        g.outerStride(), s.outputs);
  } else if (!need_input || n == 0) {
    return;  // activations and dropout have no parameters
  } else if (const auto* a = std::get_if<Activation>(&s.layer)) {
    activation_backward(*a, in.middleCols(c0, n), s.output.middleCols(c0, n), g.middleCols(c0, n),
                        gin);
  } else if (dropout_draws(s) == 0) {
    gin = g.middleCols(c0, n);
  } else {
    gin = g.middleCols(c0, n).cwiseProduct(s.mask.middleCols(c0, n));  // d/dx (x mask) = mask
  }
}

}  // namespace descent::nn
