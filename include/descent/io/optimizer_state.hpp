#pragma once
// An optimizer's whole state in a file of its own, without a network: for programs that use the
// optimizers alone (this header includes nothing of descent::nn).
//
//   descent::io::save_optimizer("opt.state", opt);   // groups' options, moments, step counts
//   ...                                               // a new process, the same tensors added
//   descent::io::load_optimizer("opt.state", opt);   // steps on exactly as before
//
// File format: the frame of io/detail/framed_file.hpp with magic "\x89DESCOPT", version 1, and
// as payload the optimizer part (below), which checkpoints embed as well. Nothing follows it.
//
//   optimizer  u8 present (0 or 1); if 1: str name ("adam"); u64 group count and each group's
//              options as a str ("learning_rate=0.001,beta1=0.9,..."); u64 buffer count and per
//              buffer a str key ("0.network.exp_avg") and an array; u64 scalar count and per
//              scalar a str key and an f64 (step counts, Nadam's mu_product): Optimizer::state_dict

#include <descent/error.hpp>
#include <descent/io/detail/binary.hpp>
#include <descent/io/detail/framed_file.hpp>
#include <descent/io/error.hpp>
#include <descent/optim/optimizer.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace descent::io {

/// An optimizer's options and state as saved: a file's optimizer part.
template <class Scalar>
struct OptimizerRecord {
  std::vector<std::string> group_options;  ///< Optimizer::options(g) of every group
  StateDict<Scalar> state;                 ///< Optimizer::state_dict(); state.optimizer is the name
};

namespace detail {

inline constexpr FileKind optimizer_file{
    {0x89, 'D', 'E', 'S', 'C', 'O', 'P', 'T'}, 1, "optimizer state file"};

inline std::string optimizer_file_context(const std::filesystem::path& path) {
  return "descent::io: optimizer state '" + path.string() + "'";
}

template <class Scalar>
OptimizerRecord<Scalar> record_of(const Optimizer<Scalar>& optimizer) {
  OptimizerRecord<Scalar> r;
  for (std::size_t g = 0; g < optimizer.group_count(); ++g) {
    r.group_options.push_back(optimizer.options(g));
  }
  r.state = optimizer.state_dict();
  return r;
}

template <class Scalar>
void write_optimizer(Writer& out, const OptimizerRecord<Scalar>& r) {
  out.u8(1);
  out.str(r.state.optimizer);
  out.u64(r.group_options.size());
  for (const auto& g : r.group_options) out.str(g);
  out.u64(r.state.buffers.size());
  for (const auto& [key, values] : r.state.buffers) {
    out.str(key);
    out.array(values.data(), values.size());
  }
  out.u64(r.state.scalars.size());
  for (const auto& [key, value] : r.state.scalars) {
    out.str(key);
    out.f64(value);
  }
}

template <class Scalar>
Buffer<Scalar> read_array(Reader& in, std::string_view what) {
  const std::size_t n = in.count(what, sizeof(Scalar));
  Buffer<Scalar> values(static_cast<Eigen::Index>(n));
  in.raw(what, values.data(), n);
  return values;
}

/// The optimizer part after its "present" flag.
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

/// `saved` with each option it lacks that `defaults` has, at its default, in `defaults`' order
/// (then any others): a file written before an option existed (maximize) was made with its default.
inline std::string with_defaults(std::string_view saved, std::string_view defaults) {
  std::vector<std::pair<std::string, std::string>> items;
  descent::detail::for_each_key_value(
      saved, [&](std::string_view key, std::string_view value) { items.emplace_back(key, value); });
  std::string text;
  const auto add = [&](std::string_view key, std::string_view value) {
    if (!text.empty()) text += ',';
    text.append(key).append("=").append(value);
  };
  descent::detail::for_each_key_value(defaults, [&](std::string_view key, std::string_view value) {
    const auto it =
        std::find_if(items.begin(), items.end(), [&](const auto& i) { return i.first == key; });
    if (it == items.end()) return add(key, value);
    add(key, it->second);
    items.erase(it);
  });
  for (const auto& [key, value] : items) add(key, value);
  return text;
}

/// The options of a default `name`, or "" when the registry does not know it (a class given to
/// Optimizer directly).
template <class Scalar>
std::string default_options(std::string_view name) {
  try {
    return make_optimizer<Scalar>(name).options();
  } catch (const std::invalid_argument&) {
    return {};
  }
}

/// `optimizer` as `r` saved it: every group takes the saved learning rate and weight decay (a
/// schedule may have changed them); its other options must match. Checks everything first:
/// on error (CheckpointError starting with `context`) `optimizer` is unchanged.
template <class Scalar>
void restore_optimizer(const OptimizerRecord<Scalar>& r, Optimizer<Scalar>& optimizer,
                       const std::string& context) {
  Optimizer<Scalar> loaded = optimizer;  // changed only once everything fits
  try {
    if (r.state.optimizer != optimizer.name()) {
      throw InvalidArgument("it was saved from " + r.state.optimizer + ", the optimizer is " +
                            std::string(optimizer.name()));
    }
    if (r.group_options.size() != optimizer.group_count()) {
      throw InvalidArgument("it has " + std::to_string(r.group_options.size()) +
                            " parameter groups, the optimizer " +
                            std::to_string(optimizer.group_count()));
    }
    const std::string defaults = default_options<Scalar>(optimizer.name());
    for (std::size_t g = 0; g < r.group_options.size(); ++g) {
      const auto saved = options_without(with_defaults(r.group_options[g], defaults),
                                         {"learning_rate", "weight_decay"});
      const auto ours = options_without(optimizer.options(g), {"learning_rate", "weight_decay"});
      if (saved != ours) {
        throw InvalidArgument("group " + std::to_string(g) + " was saved with options " + saved +
                              ", the optimizer has " + ours);
      }
      descent::detail::for_each_key_value(
          r.group_options[g], [&](std::string_view key, std::string_view value) {
            Scalar v{};
            if (key != "learning_rate" && key != "weight_decay") return;
            if (!descent::detail::parse_value(value, v)) {
              throw InvalidArgument("group " + std::to_string(g) + "'s " + std::string(key) + " '" +
                                    std::string(value) + "' is not a number");
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
  optimizer = std::move(loaded);
}

}  // namespace detail

/// Saves everything `optimizer` holds (its name, each group's options, every moment and step
/// count) to `path`, atomically. Throws std::runtime_error naming the file when it cannot be
/// written; `path` is then unchanged.
template <class Scalar>
void save_optimizer(const std::filesystem::path& path, const Optimizer<Scalar>& optimizer) {
  detail::Writer out;
  detail::write_optimizer(out, detail::record_of(optimizer));
  detail::write_framed_file<Scalar>(path, detail::optimizer_file, out.bytes(),
                                    "descent::io::save_optimizer");
}

/// Reads and checks a whole optimizer state file. Throws CheckpointError naming the file and
/// what is wrong; never reads out of bounds or allocates more than the file's size.
template <class Scalar>
OptimizerRecord<Scalar> read_optimizer(const std::filesystem::path& path) {
  const std::string context = detail::optimizer_file_context(path);
  const auto frame = detail::read_framed_file<Scalar>(path, detail::optimizer_file, context,
                                                      "descent::io::read_optimizer");
  const auto payload = frame.payload();
  detail::Reader in(payload.data(), payload.size(), context + " is corrupt");
  if (!in.flag("optimizer present")) in.fail("holds no optimizer");
  auto record = detail::read_optimizer<Scalar>(in);
  if (in.left() != 0) in.fail(std::to_string(in.left()) + " bytes follow the optimizer");
  return record;
}

/// Loads what save_optimizer wrote into `optimizer`, which must be the same optimizer with the
/// same tensors in the same groups (save and load add them in the same order). Every group takes
/// the saved learning rate and weight decay; its other options must match. Checks everything
/// first: on error (CheckpointError) `optimizer` is unchanged.
template <class Scalar>
void load_optimizer(const std::filesystem::path& path, Optimizer<Scalar>& optimizer) {
  detail::restore_optimizer(read_optimizer<Scalar>(path), optimizer,
                            detail::optimizer_file_context(path));
}

}  // namespace descent::io
