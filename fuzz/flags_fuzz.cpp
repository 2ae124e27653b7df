// Fuzzes the examples' command-line parsing: examples/common.hpp's Args (flag, value, integer,
// real), checked_flag, split_list and the library parsers the examples hand flag values to
// (optimizer names and "key=value" options, hidden sizes, activation, init and loss names), in a
// loop shaped like fashion_mnist's parse(), and then what parse() and run() build from the flags:
// the network's parameter count, the Trainer, and the network itself with its batch buffers when
// they are small (libFuzzer counts a large allocation as a crash; sizes too large for memory are
// tested in tests/nn_test.cpp). The input is argv, arguments separated by NUL bytes.
// Every bad command line must end in a UsageError (exit status 2); any other exception would
// turn a bad flag into exit status 1, and aborts here.

#include "common.hpp"

#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace ex = descent::examples;
namespace nn = descent::nn;

void parse(int argc, char** argv) {
  ex::Args args(argc, argv);
  std::string optimizer = "adam", options;
  double learning_rate = 1e-3;
  nn::NetworkSpec spec{.inputs = 784, .outputs = 10};
  long long batch_size = 64;
  nn::Loss loss = nn::Loss::cross_entropy;
  while (!args.done()) {
    const std::string_view flag = args.flag();
    if (flag == "--optimizer") {
      optimizer = args.value();
    } else if (flag == "--options") {
      options = args.value();
    } else if (flag == "--learning-rate") {
      learning_rate = args.real();
    } else if (flag == "--epochs") {
      (void)args.integer(0, 1000000);
    } else if (flag == "--batch-size") {
      batch_size = args.integer(1);
    } else if (flag == "--train-subset") {
      (void)args.integer(1);
    } else if (flag == "--seed") {
      (void)args.integer(0);
    } else if (flag == "--hidden") {
      const std::string_view v = args.value();
      spec.hidden = ex::checked_flag(flag, [&] { return nn::parse_hidden(v); });
    } else if (flag == "--activation") {
      const std::string_view v = args.value();
      spec.activation = ex::checked_flag(flag, [&] { return nn::activation_from_string(v); });
    } else if (flag == "--init") {
      spec.init = ex::checked_flag(flag, [&] { return nn::init_from_string(args.value()); });
    } else if (flag == "--loss") {
      const std::string_view v = args.value();
      loss = ex::checked_flag(flag, [&] { return nn::loss_from_string(v); });
    } else if (flag == "--dropout") {
      spec.dropout = args.real();
      if (!(spec.dropout >= 0 && spec.dropout < 1)) {
        ex::flag_error(flag, "must be in [0, 1), got " + ex::format_exact(spec.dropout));
      }
    } else if (flag == "--optimizers") {
      if (ex::split_list(args.value()).empty()) ex::flag_error(flag, "needs at least one optimizer");
    } else if (flag == "--threads") {
      (void)args.integer(1, 1024);
    } else if (flag == "--json" || flag == "--data" || flag == "--out" || flag == "--checkpoint" ||
               flag == "--resume" || flag == "--export-npy") {
      (void)ex::json_string(args.value());
    } else if (flag == "--synthetic" || flag == "--quick") {
      // switches take no value
    } else {
      throw ex::UsageError("unknown flag '" + std::string(flag) + "' (see --help)");
    }
  }
  ex::checked_flag("--optimizer", [&] { return descent::make_optimizer<float>(optimizer); });
  ex::checked_flag("--options", [&] { return descent::make_optimizer<float>(optimizer, options); });
  const auto trainer = ex::checked_flag("--learning-rate", [&] {
    return nn::Trainer<float>({.optimizer = optimizer, .learning_rate = learning_rate,
                               .optimizer_options = options, .loss = loss,
                               .batch_size = batch_size,
                               .progress = nn::Trainer<float>::Progress::none});
  });
  (void)ex::json_number(learning_rate);
  (void)trainer.run_options();

  const Eigen::Index parameters =
      ex::checked_flag("--hidden", [&] { return nn::parameter_count(spec); });
  if (parameters > 200000) return;  // counted, not built: see the top of this file
  auto net = ex::checked_flag("--hidden", [&] { return nn::make_network<float>(spec, 1); });
  Eigen::Index widest = 784;
  for (const Eigen::Index units : spec.hidden) widest = std::max(widest, units);
  const Eigen::Index batch = std::min<Eigen::Index>(batch_size, 64);
  if (widest * batch > 4000000) return;
  net.reserve(batch);
  const Eigen::MatrixXf out = net.forward(Eigen::MatrixXf::Zero(784, batch));
  if (out.rows() != 10 || out.cols() != batch) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  // argv[0], then the arguments; strings own the bytes, argv points into them.
  std::vector<std::string> words{"fuzz"};
  std::string word;
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] == 0) {
      words.push_back(word);
      word.clear();
    } else {
      word += static_cast<char>(bytes[i]);
    }
  }
  if (size > 0) words.push_back(word);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  try {
    parse(static_cast<int>(words.size()), argv.data());
  } catch (const ex::UsageError&) {
  }
  return 0;
}
