// Writes a small network's weights with descent::io::export_npy, in float and in double, and
// next to them expected.txt, the bits of the values they must hold, for check_npy.py to compare
// with what numpy.load reads.
//
//   npy_export OUT_DIR   -> OUT_DIR/f4/*.npy, OUT_DIR/f8/*.npy, OUT_DIR/expected.txt

#include <bit>
#include <charconv>
#include <cstdio>
#include <descent/io.hpp>
#include <descent/nn.hpp>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

/// The value's bits in hexadecimal: exact, with no decimal rounding on either side.
template <class S>
std::string bits(S v) {
  char buf[32];
  const auto [end, ec] =
      std::to_chars(buf, buf + sizeof buf, std::bit_cast<descent::io::detail::BitsOf<S>>(v), 16);
  return std::string(buf, end);
}

template <class S>
void export_one(const std::filesystem::path& out, const std::string& sub, std::ofstream& expected) {
  auto net = descent::nn::make_network<S>({.inputs = 5, .outputs = 3, .hidden = {4, 6}}, 11);
  descent::io::export_npy(net, out / sub);
  const char* dtype = sizeof(S) == 4 ? "float32" : "float64";
  for (std::size_t i = 0; i < net.layer_count(); ++i) {
    if (!std::holds_alternative<descent::nn::Dense>(net.layer(i))) continue;
    const auto w = net.weight(i);
    expected << sub << "/" << i << ".weight.npy " << dtype << " " << w.rows() << "," << w.cols()
             << " :";
    for (Eigen::Index r = 0; r < w.rows(); ++r) {
      for (Eigen::Index c = 0; c < w.cols(); ++c) expected << " " << bits(w(r, c));
    }
    const auto b = net.bias(i);
    expected << "\n" << sub << "/" << i << ".bias.npy " << dtype << " " << b.size() << " :";
    for (Eigen::Index r = 0; r < b.size(); ++r) expected << " " << bits(b(r));
    expected << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: npy_export OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  std::ofstream expected(out / "expected.txt");
  export_one<float>(out, "f4", expected);
  export_one<double>(out, "f8", expected);
  return expected ? 0 : 1;
}
