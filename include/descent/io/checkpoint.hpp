#pragma once
// Checkpoints: a network's weights, an optimizer's whole state and a Trainer's position in one
// versioned binary file, written atomically and checked completely before anything is loaded.
//
//   descent::io::save_every_epoch(trainer, "run.ckpt");      // a checkpoint after every epoch
//   trainer.fit(net, train);                                 // ... killed during epoch 3
//
//   descent::io::load_checkpoint("run.ckpt", net, trainer);  // a new process, fresh objects
//   trainer.fit(net, train);                                 // epoch 3 on, bit for bit the same
//
// File format, version 2 (version 1 lacks the trainer options): the frame of
// io/detail/framed_file.hpp (magic "\x89DESCENT", version, scalar size, payload size, CRC-32).
// Integers are little-endian and fixed-width; a Scalar or f64 is the IEEE 754 value's bits as a
// little-endian integer; a str is a u64 length and that many bytes; an array is a u64 count and
// that many Scalars. The payload has three parts:
//
//   network    u64 inputs; u64 layer count and each layer's description as a str ("dense 256",
//              "relu", "dropout 0.2"); array parameters (Sequential::parameters(): W1
//              column-major, b1, W2, b2, ...); u64 dropout stream key; u64 dropout stream counter
//   optimizer  the optimizer part of an optimizer state file (io/optimizer_state.hpp)
//   trainer    u8 present (0 or 1; 1 needs the optimizer part, with one group); if 1: i64 epochs
//              finished; i64 steps; f64 learning rate; u8 stopped; str shuffle RNG (the text form
//              of std::mt19937_64); str trainer options (Trainer::run_options(); version 2
//              on: "loss=cross_entropy,batch_size=64,..."); u64 count and that many i64
//              sample indices (the training order); u64 callback count and per callback a u64
//              count and that many f64; u64 epoch count and per epoch i64 epoch, i64 skipped
//              batches, f64 loss, accuracy, val_loss, val_accuracy, learning_rate, seconds; array
//              best weights (may be empty)
//
// Nothing may follow the trainer part. A reader refuses a version newer than its own.

#include <Eigen/Core>
#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <descent/io/detail/binary.hpp>
#include <descent/io/detail/framed_file.hpp>
#include <descent/io/error.hpp>
#include <descent/io/optimizer_state.hpp>
#include <descent/nn/sequential.hpp>
#include <descent/nn/trainer.hpp>
#include <descent/optim/optimizer.hpp>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

/// Files: checkpoints of a network, its optimizer and a Trainer's position, and .npy export.
namespace descent::io {

/// The checkpoint format this build writes, and the newest it reads.
inline constexpr std::uint32_t checkpoint_version = 2;

/// What a checkpoint file holds, read and checked by read_checkpoint.
template <class Scalar>
struct Checkpoint {
  Eigen::Index inputs = 0;          ///< Sequential::inputs() of the network saved
  std::vector<std::string> layers;  ///< layer_descriptions() of the network saved
  Buffer<Scalar> parameters;        ///< its Sequential::parameters()
  nn::DropoutStream dropout;        ///< its Sequential::dropout_stream()
  /// Saved with an Optimizer (save_checkpoint(path, net, optimizer)).
  std::optional<OptimizerRecord<Scalar>> optimizer;
  /// Saved by a Trainer (save_every_epoch); its optimizer fields hold the optimizer part.
  std::optional<nn::FitPosition<Scalar>> position;
};

/// "dense 256", "relu", "dropout 0.2", a Module's description(): what a checkpoint compares to
/// tell networks apart.
template <class Scalar>
std::vector<std::string> layer_descriptions(const nn::Sequential<Scalar>& net) {
  std::vector<std::string> layers;
  for (std::size_t i = 0; i < net.layer_count(); ++i) layers.push_back(net.description(i));
  return layers;
}

namespace detail {

inline constexpr FileKind checkpoint_file{
    {0x89, 'D', 'E', 'S', 'C', 'E', 'N', 'T'}, checkpoint_version, "checkpoint"};

inline std::string checkpoint_context(const std::filesystem::path& path) {
  return "descent::io: checkpoint '" + path.string() + "'";
}

template <class Scalar>
void write_network(Writer& out, const nn::Sequential<Scalar>& net) {
  out.u64(static_cast<std::uint64_t>(net.inputs()));
  const auto layers = layer_descriptions(net);
  out.u64(layers.size());
  for (const auto& l : layers) out.str(l);
  out.array(net.parameters().data(), static_cast<std::size_t>(net.parameter_count()));
  out.u64(net.dropout_stream().key);
  out.u64(net.dropout_stream().counter);
}

template <class Scalar>
void write_position(Writer& out, const nn::FitPosition<Scalar>& p) {
  out.u8(1);
  out.i64(p.epoch);
  out.i64(p.step);
  out.f64(p.learning_rate);
  out.u8(p.stopped ? 1 : 0);
  out.str(p.shuffle_rng);
  out.str(p.trainer_options);
  out.u64(p.order.size());
  for (const std::int64_t i : p.order) out.i64(i);
  out.u64(p.callbacks.size());
  for (const auto& c : p.callbacks) {
    out.u64(c.size());
    for (const double v : c) out.f64(v);
  }
  out.u64(p.history.size());
  for (const auto& e : p.history) {
    out.i64(e.epoch);
    out.i64(e.skipped);
    for (const double v :
         {e.loss, e.accuracy, e.val_loss, e.val_accuracy, e.learning_rate, e.seconds}) {
      out.f64(v);
    }
  }
  out.array(p.best_weights.data(), static_cast<std::size_t>(p.best_weights.size()));
}

template <class Scalar>
void write_checkpoint_file(const std::filesystem::path& path, const Writer& payload) {
  write_framed_file<Scalar>(path, checkpoint_file, payload.bytes(), "descent::io::save_checkpoint");
}

template <class Scalar>
nn::FitPosition<Scalar> read_position(Reader& in, std::uint32_t version) {
  nn::FitPosition<Scalar> p;
  const std::int64_t epoch = in.i64("epochs finished");
  if (epoch < 0 || epoch > INT_MAX) in.fail("epochs finished is " + std::to_string(epoch));
  p.epoch = static_cast<int>(epoch);
  p.step = in.i64("steps");
  if (p.step < 0) in.fail("steps is " + std::to_string(p.step));
  p.learning_rate = in.f64("learning rate");
  p.stopped = in.flag("stopped");
  p.shuffle_rng = in.str("shuffle RNG");
  if (version >= 2) {
    p.trainer_options = in.str("trainer options");
    if (p.trainer_options.empty()) in.fail("the trainer options are empty");
  }
  p.order.resize(in.count("training order", 8));
  for (auto& i : p.order) i = in.i64("training order");
  p.callbacks.resize(in.count("callback count", 8));
  for (auto& c : p.callbacks) {
    c.resize(in.count("callback state", 8));
    for (double& v : c) v = in.f64("callback state");
  }
  p.history.resize(in.count("history", 64));
  for (auto& e : p.history) {
    const std::int64_t n = in.i64("history epoch");
    if (n < 0 || n > INT_MAX) in.fail("a history entry has epoch " + std::to_string(n));
    e.epoch = static_cast<int>(n);
    e.skipped = in.i64("history skipped batches");
    for (double* v :
         {&e.loss, &e.accuracy, &e.val_loss, &e.val_accuracy, &e.learning_rate, &e.seconds}) {
      *v = in.f64("history");
    }
  }
  p.best_weights = read_array<Scalar>(in, "best weights");
  return p;
}

/// Throws CheckpointError unless `c` was saved from a network shaped like `net`.
template <class Scalar>
void check_network(const Checkpoint<Scalar>& c, const nn::Sequential<Scalar>& net,
                   const std::string& context) {
  const auto ours = layer_descriptions(net);
  const auto list = [](Eigen::Index inputs, const std::vector<std::string>& layers) {
    std::string text = "input " + std::to_string(inputs);
    for (const auto& l : layers) text += ", " + l;
    return text;
  };
  if (c.inputs != net.inputs() || c.layers.size() != ours.size()) {
    throw CheckpointError(context + " holds another network: " + list(c.inputs, c.layers) +
                          "; this network is " + list(net.inputs(), ours));
  }
  for (std::size_t i = 0; i < ours.size(); ++i) {
    if (c.layers[i] != ours[i]) {
      throw CheckpointError(context + " holds another network: its layer " + std::to_string(i) +
                            " is '" + c.layers[i] + "', this network's is '" + ours[i] + "'");
    }
  }
  if (c.parameters.size() != net.parameter_count()) {  // only a forged file gets here
    throw CheckpointError(context + " holds " + std::to_string(c.parameters.size()) +
                          " parameters, this network has " + std::to_string(net.parameter_count()));
  }
}

template <class Scalar>
void load_network(const Checkpoint<Scalar>& c, nn::Sequential<Scalar>& net) {
  net.parameters() = c.parameters;
  net.dropout_stream() = c.dropout;
}

}  // namespace detail

/// Reads and checks a whole checkpoint: magic, version, scalar type, size, checksum and every
/// field. Throws CheckpointError naming the file and what is wrong; never reads out of bounds
/// or allocates more than the file's size, whatever the bytes.
template <class Scalar>
Checkpoint<Scalar> read_checkpoint(const std::filesystem::path& path) {
  const std::string context = detail::checkpoint_context(path);
  const auto frame = detail::read_framed_file<Scalar>(path, detail::checkpoint_file, context,
                                                      "descent::io::read_checkpoint");
  const std::uint32_t version = frame.version;
  const auto payload = frame.payload();
  detail::Reader in(payload.data(), payload.size(), context + " is corrupt");
  Checkpoint<Scalar> c;
  const std::uint64_t inputs = in.u64("inputs");
  if (inputs < 1 || inputs > std::uint64_t(PTRDIFF_MAX)) {
    in.fail("inputs is " + std::to_string(inputs));
  }
  c.inputs = static_cast<Eigen::Index>(inputs);
  c.layers.resize(in.count("layer count", 8));
  for (auto& l : c.layers) l = in.str("layer description");
  c.parameters = detail::read_array<Scalar>(in, "parameters");
  c.dropout.key = in.u64("dropout stream key");
  c.dropout.counter = in.u64("dropout stream counter");
  std::optional<OptimizerRecord<Scalar>> optimizer;
  if (in.flag("optimizer present")) optimizer = detail::read_optimizer<Scalar>(in);
  if (in.flag("trainer present")) {
    if (!optimizer || optimizer->group_options.size() != 1) {
      in.fail("the trainer part needs an optimizer part with one group");
    }
    c.position = detail::read_position<Scalar>(in, version);
    c.position->optimizer_options = std::move(optimizer->group_options[0]);
    c.position->optimizer = std::move(optimizer->state);
  } else {
    c.optimizer = std::move(optimizer);
  }
  if (in.left() != 0) in.fail(std::to_string(in.left()) + " bytes follow the last part");
  return c;
}

/// Saves the weights and dropout stream of `net` to `path`, atomically (see the top of this file).
/// Throws std::runtime_error naming the file when it cannot be written; `path` is then unchanged.
template <class Scalar>
void save_checkpoint(const std::filesystem::path& path, const nn::Sequential<Scalar>& net) {
  detail::Writer out;
  detail::write_network(out, net);
  out.u8(0);
  out.u8(0);
  detail::write_checkpoint_file<Scalar>(path, out);
}

/// Saves `net` and everything `optimizer` holds: its groups and their options, moments, steps.
template <class Scalar>
void save_checkpoint(const std::filesystem::path& path, const nn::Sequential<Scalar>& net,
                     const Optimizer<Scalar>& optimizer) {
  detail::Writer out;
  detail::write_network(out, net);
  detail::write_optimizer(out, detail::record_of(optimizer));
  out.u8(0);
  detail::write_checkpoint_file<Scalar>(path, out);
}

/// Saves `net` and a Trainer's position (what Trainer::set_epoch_hook hands over).
template <class Scalar>
void save_checkpoint(const std::filesystem::path& path, const nn::Sequential<Scalar>& net,
                     const nn::FitPosition<Scalar>& position) {
  detail::Writer out;
  detail::write_network(out, net);
  detail::write_optimizer(
      out, OptimizerRecord<Scalar>{{position.optimizer_options}, position.optimizer});
  detail::write_position(out, position);
  detail::write_checkpoint_file<Scalar>(path, out);
}

/// Makes `trainer` save a checkpoint to `path` at the end of every epoch of its fit()s, each
/// replacing the last atomically: a crash loses at most the epoch it interrupts.
template <class Scalar>
void save_every_epoch(nn::Trainer<Scalar>& trainer, std::filesystem::path path) {
  trainer.set_epoch_hook([path = std::move(path)](const nn::Sequential<Scalar>& net,
                                                  const nn::FitPosition<Scalar>& position) {
    save_checkpoint(path, net, position);
  });
}

/// Loads the weights and dropout stream of any checkpoint into `net`, which must have the same
/// layers. Checks everything first: on error (CheckpointError) `net` is unchanged.
template <class Scalar>
void load_checkpoint(const std::filesystem::path& path, nn::Sequential<Scalar>& net) {
  const auto c = read_checkpoint<Scalar>(path);
  detail::check_network(c, net, detail::checkpoint_context(path));
  detail::load_network(c, net);
}

/// Loads `net` and the optimizer part into `optimizer`, which must be the same optimizer with the
/// same tensors in the same groups. Every group takes the saved learning rate and weight decay
/// (a schedule may have changed them); its other options must match. Checks everything first:
/// on error (CheckpointError) `net` and `optimizer` are unchanged.
template <class Scalar>
void load_checkpoint(const std::filesystem::path& path, nn::Sequential<Scalar>& net,
                     Optimizer<Scalar>& optimizer) {
  const std::string context = detail::checkpoint_context(path);
  auto c = read_checkpoint<Scalar>(path);
  detail::check_network(c, net, context);
  if (c.position) {  // a Trainer's checkpoint: its one group
    c.optimizer =
        OptimizerRecord<Scalar>{{c.position->optimizer_options}, std::move(c.position->optimizer)};
  }
  if (!c.optimizer) {
    throw CheckpointError(context + " holds no optimizer state (it was saved without one)");
  }
  detail::restore_optimizer(*c.optimizer, optimizer, context);
  detail::load_network(c, net);
}

/// Loads `net` and makes the next trainer.fit() go on from the saved position until the
/// trainer's epochs in total (Trainer::resume_from), exactly as the interrupted run would have.
/// The trainer must have the options and callbacks it was saved with. Checks everything it can
/// first: on error (CheckpointError) `net` and `trainer` are unchanged. fit() itself checks that
/// its data has the training samples the position orders.
template <class Scalar>
void load_checkpoint(const std::filesystem::path& path, nn::Sequential<Scalar>& net,
                     nn::Trainer<Scalar>& trainer) {
  const std::string context = detail::checkpoint_context(path);
  auto c = read_checkpoint<Scalar>(path);
  detail::check_network(c, net, context);
  if (!c.position) {
    throw CheckpointError(context + " holds no trainer position (it was not saved by a Trainer)");
  }
  if (c.position->best_weights.size() != 0 &&
      c.position->best_weights.size() != net.parameter_count()) {
    throw CheckpointError(context + " is corrupt: its best weights are " +
                          std::to_string(c.position->best_weights.size()) +
                          " values, the network has " + std::to_string(net.parameter_count()));
  }
  try {
    trainer.resume_from(std::move(*c.position));
  } catch (const std::invalid_argument& e) {
    throw CheckpointError(context + " does not fit the trainer: " + e.what());
  }
  detail::load_network(c, net);
}

}  // namespace descent::io
