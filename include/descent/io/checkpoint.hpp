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
// File format, version 2 (version 1 lacks the trainer options). Integers are little-endian and fixed-width; a Scalar or f64 is the
// IEEE 754 value's bits as a little-endian integer; a str is a u64 length and that many bytes; an
// array is a u64 count and that many Scalars.
//
//   offset  size  field
//        0     8  magic 89 44 45 53 43 45 4E 54 ("\x89DESCENT")
//        8     4  u32 format version: 2 (1 is read too)
//       12     4  u32 bytes per Scalar: 4 (float) or 8 (double)
//       16     8  u64 payload size in bytes (the file is 32 bytes longer)
//       24     4  u32 CRC-32 of the payload (the one of gzip, PNG and zlib's crc32)
//       28     4  u32 reserved, 0
//       32        the payload, three parts:
//
//   network    u64 inputs; u64 layer count and each layer's description as a str ("dense 256",
//              "relu", "dropout 0.2"); array parameters (Sequential::parameters(): W1
//              column-major, b1, W2, b2, ...); u64 dropout stream key; u64 dropout stream counter
//   optimizer  u8 present (0 or 1); if 1: str name ("adam"); u64 group count and each group's
//              options as a str ("learning_rate=0.001,beta1=0.9,..."); u64 buffer count and per
//              buffer a str key ("0.network.exp_avg") and an array; u64 scalar count and per
//              scalar a str key and an f64 (step counts, Nadam's mu_product): Optimizer::state_dict
//   trainer    u8 present (0 or 1; 1 needs the optimizer part, with one group); if 1: i64 epochs
//              finished; i64 steps; f64 learning rate; u8 stopped; str shuffle RNG (the text form
//              of std::mt19937_64); str trainer options (Trainer::run_options(); version 2
//              on: "loss=cross_entropy,batch_size=64,..."); u64 count and that many i64 sample indices (the training
//              order); u64 callback count and per callback a u64 count and that many f64; u64
//              epoch count and per epoch i64 epoch, i64 skipped batches, f64 loss, accuracy,
//              val_loss, val_accuracy, learning_rate, seconds; array best weights (may be empty)
//
// Nothing may follow the trainer part. A reader refuses a version newer than its own.

#include <Eigen/Core>
#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <descent/io/detail/binary.hpp>
#include <descent/io/detail/file.hpp>
#include <descent/io/error.hpp>
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

/// A checkpoint's optimizer part, as saved from an Optimizer.
template <class Scalar>
struct OptimizerRecord {
  std::vector<std::string> group_options;  ///< Optimizer::options(g) of every group
  StateDict<Scalar> state;                 ///< Optimizer::state_dict(); state.optimizer is the name
};

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

/// "dense 256", "relu", "dropout 0.2": what a checkpoint compares to tell networks apart.
template <class Scalar>
std::vector<std::string> layer_descriptions(const nn::Sequential<Scalar>& net) {
  std::vector<std::string> layers;
  for (std::size_t i = 0; i < net.layer_count(); ++i) {
    std::visit(
        [&](const auto& layer) {
          using L = std::decay_t<decltype(layer)>;
          if constexpr (std::is_same_v<L, nn::Dense>) {
            layers.push_back("dense " + std::to_string(layer.units));
          } else if constexpr (std::is_same_v<L, nn::Activation>) {
            layers.emplace_back(nn::to_string(layer));
          } else {
            layers.push_back("dropout " + descent::detail::format_number(layer.rate));
          }
        },
        net.layer(i));
  }
  return layers;
}

namespace detail {

inline constexpr unsigned char checkpoint_magic[8] = {0x89, 'D', 'E', 'S', 'C', 'E', 'N', 'T'};
inline constexpr std::size_t checkpoint_header_size = 32;

inline std::string checkpoint_context(const std::filesystem::path& path) {
  return "descent::io: checkpoint '" + path.string() + "'";
}

inline std::string scalar_name(std::uint32_t bytes) {
  return bytes == 4   ? "float (4 bytes)"
         : bytes == 8 ? "double (8 bytes)"
                      : std::to_string(bytes) + "-byte";
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
void write_optimizer(Writer& out, const std::vector<std::string>& group_options,
                     const StateDict<Scalar>& state) {
  out.u8(1);
  out.str(state.optimizer);
  out.u64(group_options.size());
  for (const auto& g : group_options) out.str(g);
  out.u64(state.buffers.size());
  for (const auto& [key, values] : state.buffers) {
    out.str(key);
    out.array(values.data(), values.size());
  }
  out.u64(state.scalars.size());
  for (const auto& [key, value] : state.scalars) {
    out.str(key);
    out.f64(value);
  }
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

/// The header for `payload`, then both written atomically to `path`.
template <class Scalar>
void write_checkpoint_file(const std::filesystem::path& path, const Bytes& payload) {
  Writer header;
  for (const unsigned char c : checkpoint_magic) header.u8(c);
  header.u32(checkpoint_version);
  header.u32(sizeof(Scalar));
  header.u64(payload.size());
  header.u32(crc32(payload.data(), payload.size()));
  header.u32(0);
  write_atomically(
      path,
      {std::span<const unsigned char>(header.bytes()), std::span<const unsigned char>(payload)},
      "descent::io::save_checkpoint");
}

template <class Scalar>
Buffer<Scalar> read_array(Reader& in, std::string_view what) {
  const std::size_t n = in.count(what, sizeof(Scalar));
  Buffer<Scalar> values(static_cast<Eigen::Index>(n));
  in.raw(what, values.data(), n);
  return values;
}

template <class Scalar>
OptimizerRecord<Scalar> read_optimizer(Reader& in) {
  OptimizerRecord<Scalar> r;
  r.state.optimizer = in.str("optimizer name");
  const std::size_t groups = in.count("optimizer group count", 8);
  for (std::size_t g = 0; g < groups; ++g) r.group_options.push_back(in.str("group options"));
  const std::size_t buffers = in.count("optimizer buffer count", 16);
  for (std::size_t b = 0; b < buffers; ++b) {
    std::string key = in.str("optimizer buffer key");
    const auto values = read_array<Scalar>(in, "optimizer buffer " + key);
    if (r.state.buffers.count(key)) in.fail("optimizer buffer " + key + " appears twice");
    r.state.buffers[std::move(key)].assign(values.data(), values.data() + values.size());
  }
  const std::size_t scalars = in.count("optimizer scalar count", 16);
  for (std::size_t s = 0; s < scalars; ++s) {
    std::string key = in.str("optimizer scalar key");
    const double value = in.f64("optimizer scalar " + key);
    if (r.state.scalars.count(key)) in.fail("optimizer scalar " + key + " appears twice");
    r.state.scalars[std::move(key)] = value;
  }
  return r;
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

/// "key=value,..." without the items whose key is in `skip`.
inline std::string options_without(std::string_view options,
                                   std::initializer_list<std::string_view> skip) {
  std::string rest;
  descent::detail::for_each_key_value(options, [&](std::string_view key, std::string_view value) {
    for (const auto s : skip) {
      if (key == s) return;
    }
    if (!rest.empty()) rest += ',';
    rest.append(key).append("=").append(value);
  });
  return rest;
}

}  // namespace detail

/// Reads and checks a whole checkpoint: magic, version, scalar type, size, checksum and every
/// field. Throws CheckpointError naming the file and what is wrong; never reads out of bounds
/// or allocates more than the file's size, whatever the bytes.
template <class Scalar>
Checkpoint<Scalar> read_checkpoint(const std::filesystem::path& path) {
  const std::string context = detail::checkpoint_context(path);
  const auto bytes = detail::read_file(path, "descent::io::read_checkpoint");
  const auto fail = [&](const std::string& what) -> void {
    throw CheckpointError(context + " " + what);
  };
  const std::size_t size = bytes.size();
  const std::size_t magic_bytes = std::min(size, sizeof detail::checkpoint_magic);
  if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(magic_bytes),
                  detail::checkpoint_magic)) {
    fail("is not a descent checkpoint (it does not start with \"\\x89DESCENT\")");
  }
  if (size < detail::checkpoint_header_size) {
    fail("is truncated: " + std::to_string(size) + " bytes, less than the " +
         std::to_string(detail::checkpoint_header_size) + "-byte header");
  }
  detail::Reader header(bytes.data() + 8, detail::checkpoint_header_size - 8, context);
  const std::uint32_t version = header.u32("version");
  const std::uint32_t scalar = header.u32("scalar size");
  const std::uint64_t payload = header.u64("payload size");
  const std::uint32_t crc = header.u32("checksum");
  const std::uint32_t reserved = header.u32("reserved");
  if (version == 0) fail("has format version 0, which does not exist (a corrupt header)");
  if (version > checkpoint_version) {
    fail("has format version " + std::to_string(version) + ", newer than the " +
         std::to_string(checkpoint_version) + " this build of descent reads (update descent)");
  }
  if (scalar != 4 && scalar != 8) {
    fail("has a corrupt header: scalar size " + std::to_string(scalar));
  }
  if (scalar != sizeof(Scalar)) {
    fail("holds " + detail::scalar_name(scalar) + " values; it cannot be loaded as " +
         detail::scalar_name(sizeof(Scalar)));
  }
  if (reserved != 0) fail("has a corrupt header: reserved field " + std::to_string(reserved));
  const std::size_t have = size - detail::checkpoint_header_size;
  if (payload > have) {
    fail("is truncated: its header announces " + std::to_string(payload) +
         " payload bytes, the file holds " + std::to_string(have));
  }
  if (payload < have) {
    fail("is corrupt: " + std::to_string(have - payload) + " bytes follow the " +
         std::to_string(payload) + " payload bytes its header announces");
  }
  const unsigned char* data = bytes.data() + detail::checkpoint_header_size;
  const std::uint32_t actual = detail::crc32(data, have);
  if (actual != crc) {
    fail("is corrupt: bad checksum (the payload's CRC-32 is " + std::to_string(actual) +
         ", the header says " + std::to_string(crc) + ")");
  }

  detail::Reader in(data, have, context + " is corrupt");
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
  detail::write_checkpoint_file<Scalar>(path, out.bytes());
}

/// Saves `net` and everything `optimizer` holds: its groups and their options, moments, steps.
template <class Scalar>
void save_checkpoint(const std::filesystem::path& path, const nn::Sequential<Scalar>& net,
                     const Optimizer<Scalar>& optimizer) {
  detail::Writer out;
  detail::write_network(out, net);
  std::vector<std::string> groups;
  for (std::size_t g = 0; g < optimizer.group_count(); ++g) groups.push_back(optimizer.options(g));
  detail::write_optimizer(out, groups, optimizer.state_dict());
  out.u8(0);
  detail::write_checkpoint_file<Scalar>(path, out.bytes());
}

/// Saves `net` and a Trainer's position (what Trainer::set_epoch_hook hands over).
template <class Scalar>
void save_checkpoint(const std::filesystem::path& path, const nn::Sequential<Scalar>& net,
                     const nn::FitPosition<Scalar>& position) {
  detail::Writer out;
  detail::write_network(out, net);
  detail::write_optimizer(out, {position.optimizer_options}, position.optimizer);
  detail::write_position(out, position);
  detail::write_checkpoint_file<Scalar>(path, out.bytes());
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
  const OptimizerRecord<Scalar>& r = *c.optimizer;
  Optimizer<Scalar> loaded = optimizer;  // changed only once everything fits
  try {
    if (r.state.optimizer != optimizer.name()) {
      throw std::invalid_argument("it was saved from " + r.state.optimizer + ", the optimizer is " +
                                  std::string(optimizer.name()));
    }
    if (r.group_options.size() != optimizer.group_count()) {
      throw std::invalid_argument("it has " + std::to_string(r.group_options.size()) +
                                  " parameter groups, the optimizer " +
                                  std::to_string(optimizer.group_count()));
    }
    for (std::size_t g = 0; g < r.group_options.size(); ++g) {
      const auto saved =
          detail::options_without(r.group_options[g], {"learning_rate", "weight_decay"});
      const auto ours =
          detail::options_without(optimizer.options(g), {"learning_rate", "weight_decay"});
      if (saved != ours) {
        throw std::invalid_argument("group " + std::to_string(g) + " was saved with options " +
                                    saved + ", the optimizer has " + ours);
      }
      descent::detail::for_each_key_value(
          r.group_options[g], [&](std::string_view key, std::string_view value) {
            Scalar v{};
            if (key != "learning_rate" && key != "weight_decay") return;
            if (!descent::detail::parse_value(value, v)) {
              throw std::invalid_argument("group " + std::to_string(g) + "'s " + std::string(key) +
                                          " '" + std::string(value) + "' is not a number");
            }
            if (key == "learning_rate") {
              loaded.set_learning_rate(g, v);
            } else {
              loaded.set_weight_decay(g, v);
            }
          });
    }
    loaded.load_state_dict(r.state);
  } catch (const std::invalid_argument& e) {
    throw CheckpointError(context + " does not fit the optimizer: " + e.what());
  }
  detail::load_network(c, net);
  optimizer = std::move(loaded);
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
