#pragma once
// Building a network from the hyperparameters people tune: hidden layers and their units, the
// activation, dropout. The loss, optimizer, learning rate, batch size and epochs go to the Trainer.

#include <descent/detail/from_chars.hpp>
#include <descent/error.hpp>
#include <descent/nn/sequential.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace descent::nn {

/// The shape of a multilayer perceptron, from the hyperparameters people tune; make_network
/// builds it.
struct NetworkSpec {
  Eigen::Index inputs = 0;   ///< features per sample
  Eigen::Index outputs = 0;  ///< classes (logits), or targets per sample for regression
  std::vector<Eigen::Index> hidden = {256, 128};  ///< units per hidden layer; empty: linear model
  Activation activation = Activation::relu;       ///< after every hidden Dense layer
  double dropout = 0.2;                           ///< after every hidden activation; 0 for none
  Init init = Init::automatic;                    ///< how every Dense layer's weights start
};

/// The weights and biases of the network make_network(spec) builds, counted before any memory is
/// taken (say, to refuse a size from a command line). Throws std::invalid_argument for a size
/// < 1, and std::length_error when the count does not fit in an Eigen::Index.
inline Eigen::Index parameter_count(const NetworkSpec& spec) {
  if (spec.inputs < 1 || spec.outputs < 1) {
    throw InvalidArgument("descent::nn::parameter_count: inputs and outputs must be >= 1");
  }
  std::optional<Eigen::Index> total = 0;
  Eigen::Index inputs = spec.inputs;
  for (std::size_t i = 0; i <= spec.hidden.size() && total; ++i) {
    const Eigen::Index units = i < spec.hidden.size() ? spec.hidden[i] : spec.outputs;
    if (units < 1) {
      throw InvalidArgument("descent::nn::parameter_count: hidden layer " + std::to_string(i) +
                            " has " + std::to_string(units) + " units");
    }
    const auto layer = Dense{units}.parameter_count(inputs);
    total = layer ? descent::detail::checked_sum(*total, *layer) : std::nullopt;
    inputs = units;
  }
  if (!total) {
    throw LengthError(
        "descent::nn::parameter_count: the network has more parameters than "
        "can be counted");
  }
  return *total;
}

/// inputs -> [Dense(h) -> activation -> Dropout] per hidden layer -> Dense(outputs).
/// The last layer has no activation: losses take logits.
template <class Scalar>
Sequential<Scalar> make_network(const NetworkSpec& spec, std::uint64_t seed = 0) {
  if (spec.outputs < 1) throw InvalidArgument("descent::nn::make_network: outputs must be >= 1");
  Sequential<Scalar> net(spec.inputs, seed);
  for (const Eigen::Index units : spec.hidden) {
    net.add(Dense{units, spec.init}).add(spec.activation);
    if (spec.dropout > 0) net.add(Dropout{spec.dropout});
  }
  net.add(Dense{spec.outputs, spec.init});
  net.initialize(seed);
  return net;
}

/// "256,128" -> {256, 128}; "" or "none" -> {} (no hidden layer). Throws on anything else.
inline std::vector<Eigen::Index> parse_hidden(std::string_view text) {
  std::vector<Eigen::Index> units;
  if (text.empty() || text == "none") return units;
  while (true) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    Eigen::Index value = 0;
    const auto [end, ec] =
        descent::detail::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc{} || end != item.data() + item.size() || value < 1) {
      throw InvalidArgument("descent::nn: hidden layer size '" + std::string(item) +
                            "' is not a positive whole number");
    }
    units.push_back(value);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return units;
}

}  // namespace descent::nn
