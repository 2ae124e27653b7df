#pragma once
// NumPy export: a network's weights as .npy files that numpy.load reads, so Python can inspect
// them or load them into PyTorch.
//
//   descent::io::export_npy(net, "weights");   // weights/0.weight.npy, weights/0.bias.npy, ...
//
//   >>> w = numpy.load("weights/0.weight.npy")  # shape (units, inputs), like torch.nn.Linear
//
// Files are NPY format version 1.0: "\x93NUMPY", 1, 0, a u16 little-endian header length, a
// Python dict literal {'descr': '<f4' or '<f8', 'fortran_order': False, 'shape': (...), }
// padded with spaces to a multiple of 64 bytes and ending in '\n', then the values, little-endian,
// in C (row-major) order.

#include <Eigen/Core>
#include <cstdint>
#include <descent/error.hpp>
#include <descent/io/detail/binary.hpp>
#include <descent/io/detail/file.hpp>
#include <descent/nn/sequential.hpp>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <variant>
#include <vector>

namespace descent::io {

/// Writes `data`, whose shape is `shape` in C (row-major) order, to `path` as a .npy file,
/// atomically. Throws std::invalid_argument if the shape does not hold data.size() values and
/// std::runtime_error naming the file if it cannot be written.
template <class Scalar>
void write_npy(const std::filesystem::path& path, std::span<const Scalar> data,
               const std::vector<Eigen::Index>& shape) {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                "descent::io::write_npy: float or double");
  Eigen::Index count = 1;
  std::string dims;
  for (const Eigen::Index d : shape) {
    if (d < 0) throw InvalidArgument("descent::io::write_npy: negative dimension");
    count *= d;
    dims += std::to_string(d) + ", ";
  }
  if (static_cast<std::size_t>(count) != data.size()) {
    throw InvalidArgument("descent::io::write_npy: the shape holds " + std::to_string(count) +
                          " values, the data has " + std::to_string(data.size()));
  }
  // Python's tuples: (), (3,), (2, 3)
  dims.resize(shape.size() == 1 ? dims.size() - 1 : shape.empty() ? 0 : dims.size() - 2);
  std::string dict = std::string("{'descr': '<f") + (sizeof(Scalar) == 4 ? "4" : "8") +
                     "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const std::size_t preamble = 10;  // magic, version, header length
  dict.append(63 - (preamble + dict.size()) % 64, ' ');
  dict += '\n';
  detail::Writer out;
  constexpr unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};  // and version 1.0
  for (const unsigned char c : magic) out.u8(c);
  out.u8(static_cast<std::uint8_t>(dict.size() & 0xff));
  out.u8(static_cast<std::uint8_t>(dict.size() >> 8));
  for (const char c : dict) out.u8(static_cast<std::uint8_t>(c));
  out.raw(data.data(), data.size());
  detail::write_atomically(path, {std::span<const unsigned char>(out.bytes())},
                           "descent::io::write_npy");
}

/// Writes every Dense layer i of `net` into `dir` (created if need be) as "<i>.weight.npy",
/// shape (units, inputs), and "<i>.bias.npy", shape (units,): the keys of the state_dict of a
/// torch.nn.Sequential built from the same layers, activations and dropout included. Returns the
/// files written.
template <class Scalar>
std::vector<std::filesystem::path> export_npy(const nn::Sequential<Scalar>& net,
                                              const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw RuntimeError("descent::io::export_npy: cannot create '" + dir.string() +
                       "': " + ec.message());
  }
  // The arena is W1 (units x inputs, column-major), b1, W2, b2, ... (see Sequential).
  std::vector<std::filesystem::path> written;
  const Scalar* arena = net.parameters().data();
  Eigen::Index inputs = net.inputs();
  for (std::size_t i = 0; i < net.layer_count(); ++i) {
    const auto* dense = std::get_if<nn::Dense>(&net.layer(i));
    if (dense == nullptr) continue;
    using RowMajor = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Index units = dense->units;
    const RowMajor weight = Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>>(
        arena, units, inputs);
    const auto base = dir / std::to_string(i);
    written.push_back(base.string() + ".weight.npy");
    write_npy(written.back(), std::span<const Scalar>(weight.data(), std::size_t(weight.size())),
              {units, inputs});
    written.push_back(base.string() + ".bias.npy");
    write_npy(written.back(), std::span<const Scalar>(arena + units * inputs, std::size_t(units)),
              {units});
    arena += units * (inputs + 1);
    inputs = units;
  }
  return written;
}

}  // namespace descent::io
