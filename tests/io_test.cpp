// Checkpoints: they round-trip exactly, a resumed fit() ends with the very weights of one that
// never stopped (every optimizer, dropout, schedules), every kind of damaged or mismatched file
// is refused with a message that names the problem, a failed write leaves the old file whole;
// and the NumPy export writes what numpy.load expects. And every kind of fault, in any module, is a
// descent::Error as well as its standard exception.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <descent/data.hpp>
#include <descent/io.hpp>
#include <descent/nn.hpp>
#include "spirals.hpp"
#include "../examples/adabelief.hpp"
#include "../examples/custom_layers.hpp"
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <numbers>
#include <optional>
#include <tuple>
#include <random>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using descent::io::CheckpointError;
using descent::nn::Trainer;
namespace fs = std::filesystem;

namespace {

/// A fresh folder for one test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("descent_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignore;
    fs::remove_all(path, ignore);
  }
  fs::path operator/(const std::string& name) const { return path / name; }
};

using descent_test::spirals;

template <class S>
descent::nn::Sequential<S> small_net(std::uint64_t seed, Eigen::Index hidden = 12) {
  return descent::nn::make_network<S>(
      {.inputs = 2, .outputs = 2, .hidden = {hidden}, .dropout = 0.2}, seed);
}

std::vector<unsigned char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

template <class S>
bool same_bits(const descent::Buffer<S>& a, const descent::Buffer<S>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), sizeof(S) * std::size_t(a.size())) == 0;
}

/// The message of the CheckpointError that loading `path` into a fresh small_net throws ("" if
/// it loads).
template <class S = float>
std::string load_error(const fs::path& path) {
  auto net = small_net<S>(0);
  try {
    descent::io::load_checkpoint(path, net);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "";
}

/// The 32-byte header for `payload`, with its true checksum.
std::vector<unsigned char> with_header(const std::vector<unsigned char>& payload,
                                       std::uint32_t version = 1, std::uint32_t scalar = 4) {
  descent::io::detail::Writer out;
  for (const unsigned char c : descent::io::detail::checkpoint_file.magic) out.u8(c);
  out.u32(version);
  out.u32(scalar);
  out.u64(payload.size());
  out.u32(descent::io::detail::crc32(payload.data(), payload.size()));
  out.u32(0);
  auto bytes = out.bytes();
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

}  // namespace

TEMPLATE_TEST_CASE("A checkpoint round-trips a network and its optimizer exactly", "[io]", float,
                   double) {
  using S = TestType;
  TempDir dir;
  const auto train = spirals<S>(40, 1);
  auto net = small_net<S>(1);
  auto optimizer = descent::make_optimizer<S>("adam", "amsgrad=true,weight_decay=0.01");
  optimizer.add_param_group({descent::Parameter<S>{net.parameters().data(), net.gradients().data(),
                                                   net.parameter_count(), "network"}});
  optimizer.set_learning_rate(0, S(0.0125));  // as a schedule would
  net.set_training(true);
  for (int step = 0; step < 3; ++step) {
    Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> grad(2, train.x.cols());
    descent::nn::loss_and_gradient(descent::nn::Loss::cross_entropy, net.forward(train.x), train.y,
                                   grad);
    net.backward(grad);
    optimizer.step();
  }
  descent::io::save_checkpoint(dir / "a.ckpt", net, optimizer);

  auto other = small_net<S>(99);
  auto fresh = descent::make_optimizer<S>("adam", "amsgrad=true,weight_decay=0.01");
  fresh.add_param_group({descent::Parameter<S>{other.parameters().data(), other.gradients().data(),
                                               other.parameter_count(), "network"}});
  descent::io::load_checkpoint(dir / "a.ckpt", other, fresh);
  CHECK(same_bits<S>(other.parameters(), net.parameters()));
  CHECK(other.dropout_stream() == net.dropout_stream());
  CHECK(fresh.learning_rate(0) == S(0.0125));
  CHECK(fresh.options() == optimizer.options());
  const auto a = optimizer.state_dict(), b = fresh.state_dict();
  CHECK(a.scalars == b.scalars);
  CHECK(a.buffers == b.buffers);
  CHECK(b.scalars.at("0.network.step") == 3);

  const auto c = descent::io::read_checkpoint<S>(dir / "a.ckpt");
  CHECK(c.inputs == 2);
  CHECK(c.layers == std::vector<std::string>{"dense 12", "relu", "dropout 0.2", "dense 2"});
  CHECK(c.optimizer.has_value());
  CHECK(!c.position.has_value());

  // Weights alone load from any checkpoint; an optimizer part is needed for an optimizer.
  descent::io::save_checkpoint(dir / "weights.ckpt", net);
  auto third = small_net<S>(5);
  descent::io::load_checkpoint(dir / "weights.ckpt", third);
  CHECK(same_bits<S>(third.parameters(), net.parameters()));
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "weights.ckpt", third, fresh),
                    Contains("holds no optimizer state"));
  Trainer<S> trainer({.progress = Trainer<S>::Progress::none});
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "a.ckpt", third, trainer),
                    Contains("holds no trainer position"));
}

namespace {

enum class Extras { plateau_and_early_stopping, warmup_cosine };

template <class S>
void add_callbacks(Trainer<S>& trainer, Extras extras) {
  if (extras == Extras::plateau_and_early_stopping) {
    // Patience 0 and a large threshold cut the rate after almost every epoch.
    trainer.add_callback(std::make_shared<descent::nn::ReduceLearningRateOnPlateau>(
        descent::schedule::ReduceOnPlateau::Options{
            .factor = 0.5, .patience = 0, .threshold = 0.2}));
    trainer.add_callback(std::make_shared<descent::nn::EarlyStopping>(
        descent::nn::EarlyStopping::Options{.patience = 10}));
  } else {
    trainer.add_callback(std::make_shared<descent::nn::LearningRateSchedule>(
        descent::schedule::WarmupCosine(0.02, 5, 40)));
  }
}

}  // namespace

TEST_CASE("An optimizer's state saves to a file of its own and resumes exactly", "[io]") {
  using V = Eigen::VectorXd;
  const auto grad_at = [](const V& w, int t) { return V(w.array().cos().matrix() * double(t)); };
  TempDir dir;
  V straight = V::LinSpaced(6, -1, 1), g(6);
  V resumed = straight, g2(6);
  const auto make = [](V& w, V& grad) {
    auto opt = descent::make_optimizer<double>("nadam", "learning_rate=0.02");
    opt.add_param_group({descent::parameter(w, grad, "w")});
    return opt;
  };
  auto opt = make(straight, g);
  for (int t = 0; t < 4; ++t) {
    g = grad_at(straight, t);
    opt.step();
  }
  opt.set_learning_rate(0.005);  // as a schedule would: the file keeps it
  descent::io::save_optimizer(dir / "opt.state", opt);
  resumed = straight;
  for (int t = 4; t < 9; ++t) {
    g = grad_at(straight, t);
    opt.step();
  }
  auto fresh = make(resumed, g2);
  descent::io::load_optimizer(dir / "opt.state", fresh);
  CHECK(fresh.learning_rate() == 0.005);
  for (int t = 4; t < 9; ++t) {
    g2 = grad_at(resumed, t);
    fresh.step();
  }
  CHECK((resumed - straight).cwiseAbs().maxCoeff() == 0);

  // Another optimizer, another kind of file, the other scalar type: refused, naming it.
  auto adam = descent::make_optimizer<double>("adam");
  adam.add_param_group({descent::parameter(resumed, g2, "w")});
  CHECK_THROWS_WITH(descent::io::load_optimizer(dir / "opt.state", adam),
                    Contains("opt.state") && Contains("saved from nadam, the optimizer is adam"));
  auto net = small_net<double>(1);
  descent::io::save_checkpoint(dir / "net.ckpt", net);
  CHECK_THROWS_WITH(descent::io::load_optimizer(dir / "net.ckpt", fresh),
                    Contains("is not a descent optimizer state file"));
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "opt.state", net),
                    Contains("is not a descent checkpoint"));
  CHECK_THROWS_WITH(descent::io::read_optimizer<float>(dir / "opt.state"),
                    Contains("holds double (8 bytes) values"));
}

TEST_CASE("Optimizer state saved before an option existed loads as that option's default",
          "[io]") {
  // Files written before `maximize` existed have no such key: they were made with its default.
  Eigen::VectorXd w = Eigen::VectorXd::Ones(3), g = Eigen::VectorXd::Ones(3);
  auto opt = descent::make_optimizer<double>("asgd", "t0=1");
  opt.add_param_group({descent::parameter(w, g, "w")});
  for (int t = 0; t < 3; ++t) opt.step();
  auto record = descent::io::detail::record_of(opt);
  const std::string now = record.group_options[0];
  REQUIRE(now.size() > 15);
  CHECK(now.substr(now.size() - 15) == ",maximize=false");
  record.group_options[0] = now.substr(0, now.size() - 15);  // as written before maximize
  auto fresh = descent::make_optimizer<double>("asgd", "t0=1");
  fresh.add_param_group({descent::parameter(w, g, "w")});
  descent::io::detail::restore_optimizer(record, fresh, "old file");
  CHECK(fresh.state_dict().buffers == opt.state_dict().buffers);
  CHECK(fresh.state_dict().scalars == opt.state_dict().scalars);

  // A real difference is still refused, naming it.
  auto climbing = descent::make_optimizer<double>("asgd", "t0=1,maximize=true");
  climbing.add_param_group({descent::parameter(w, g, "w")});
  CHECK_THROWS_WITH(descent::io::detail::restore_optimizer(record, climbing, "old file"),
                    Contains("old file does not fit") && Contains("maximize=false") &&
                        Contains("maximize=true"));
}

TEMPLATE_TEST_CASE(
    "Training 2 epochs, saving, loading into fresh objects and training 1 more "
    "ends bit-identical to 3 epochs straight, for every optimizer, the user's too",
    "[io][resume]", float, double) {
  using S = TestType;
  const auto train = spirals<S>(48, 2);
  const auto extras = GENERATE(Extras::plateau_and_early_stopping, Extras::warmup_cosine);
  // adabelief: a user's optimizer (examples/adabelief.hpp), registered by name.
  const std::string name = GENERATE("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta",
                                    "adam", "adamw", "nadam", "radam", "adamax", "rprop", "asgd",
                                    "adabelief");
  CAPTURE(name, int(extras));
  descent::register_optimizer<mylab::AdaBelief>();
  typename Trainer<S>::Options options{.optimizer = name,
                                       .learning_rate = 0.01,
                                       .batch_size = 20,
                                       .epochs = 3,
                                       .seed = 4,
                                       .validation_split = 0.25,
                                       .progress = Trainer<S>::Progress::none};
  if (name == "rmsprop") options.optimizer_options = "centered=true,momentum=0.5";
  if (name == "asgd") options.optimizer_options = "t0=10";  // averaging (mu, ax) from step 11 on

  auto straight_net = small_net<S>(3);
  Trainer<S> straight(options);
  add_callbacks(straight, extras);
  const auto straight_history = straight.fit(straight_net, train);

  TempDir dir;
  {
    auto net = small_net<S>(3);
    auto first_options = options;
    first_options.epochs = 2;
    Trainer<S> first(first_options);
    add_callbacks(first, extras);
    descent::io::save_every_epoch(first, dir / "run.ckpt");
    first.fit(net, train);
  }
  auto net = small_net<S>(77);  // other weights: the checkpoint must bring them
  Trainer<S> second(options);
  add_callbacks(second, extras);
  descent::io::load_checkpoint(dir / "run.ckpt", net, second);
  const auto history = second.fit(net, train);

  CHECK(same_bits<S>(net.parameters(), straight_net.parameters()));
  CHECK(net.dropout_stream() == straight_net.dropout_stream());
  REQUIRE(history.epochs.size() == 3);
  for (std::size_t e = 0; e < 3; ++e) {
    CHECK(history.epochs[e].loss == straight_history.epochs[e].loss);
    CHECK(history.epochs[e].learning_rate == straight_history.epochs[e].learning_rate);
  }
}

TEST_CASE("A network with the user's layers checkpoints and resumes bit for bit", "[io][resume]") {
  using S = double;
  const auto net_of = [](double sigma) {
    descent::nn::Sequential<S> net(2, 8);
    net.add(descent::nn::Dense{8}).add(mylab::ResidualDense<S>{});
    net.add(descent::nn::Activation::relu).add(mylab::GaussianNoise<S>(sigma));
    net.add(descent::nn::Dense{2});
    return net;
  };
  const auto train = spirals<S>(40, 5);
  Trainer<S>::Options options{.optimizer = "adam", .learning_rate = 0.01, .batch_size = 16,
                              .epochs = 3, .seed = 2, .progress = Trainer<S>::Progress::none};
  auto straight_net = net_of(0.2);
  Trainer<S>(options).fit(straight_net, train);

  TempDir dir;
  {
    auto net = net_of(0.2);
    auto first_options = options;
    first_options.epochs = 2;
    Trainer<S> first(first_options);
    descent::io::save_every_epoch(first, dir / "run.ckpt");
    first.fit(net, train);
  }
  auto net = net_of(0.2);
  net.initialize(99);  // other weights: the checkpoint must bring them
  Trainer<S> second(options);
  descent::io::load_checkpoint(dir / "run.ckpt", net, second);
  second.fit(net, train);
  CHECK(same_bits<S>(net.parameters(), straight_net.parameters()));
  CHECK(net.dropout_stream() == straight_net.dropout_stream());  // the noise's seeds too

  auto other = net_of(0.5);
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "run.ckpt", other),
                    Contains("its layer 3 is 'gaussian_noise 0.2', this network's is "
                             "'gaussian_noise 0.5'"));
}

TEST_CASE("A resumed run that had already finished does not train again", "[io][resume]") {
  TempDir dir;
  const auto train = spirals<float>(32, 3);
  auto net = small_net<float>(1);
  Trainer<float> trainer(
      {.batch_size = 16, .epochs = 2, .progress = Trainer<float>::Progress::none});
  descent::io::save_every_epoch(trainer, dir / "run.ckpt");
  trainer.fit(net, train);
  auto again = small_net<float>(2);
  Trainer<float> resumed(
      {.batch_size = 16, .epochs = 2, .progress = Trainer<float>::Progress::none});
  descent::io::load_checkpoint(dir / "run.ckpt", again, resumed);
  const auto history = resumed.fit(again, train);
  CHECK(history.epochs.size() == 2);
  CHECK(same_bits<float>(again.parameters(), net.parameters()));
  CHECK(descent::io::read_checkpoint<float>(dir / "run.ckpt").position->epoch == 2);
}

TEST_CASE("A checkpoint that does not fit the trainer or the data is refused", "[io][resume]") {
  TempDir dir;
  const auto train = spirals<float>(32, 3);
  auto net = small_net<float>(1);
  Trainer<float> trainer({.optimizer = "adam",
                          .batch_size = 16,
                          .epochs = 1,
                          .progress = Trainer<float>::Progress::none});
  descent::io::save_every_epoch(trainer, dir / "run.ckpt");
  trainer.fit(net, train);
  const descent::Buffer<float> before = small_net<float>(5).parameters();

  auto other = small_net<float>(5);
  Trainer<float> sgd({.optimizer = "sgd", .progress = Trainer<float>::Progress::none});
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "run.ckpt", other, sgd),
                    Contains("does not fit the trainer") && Contains("optimizer adam") &&
                        Contains("this trainer has sgd"));
  Trainer<float> beta({.optimizer = "adam",
                       .optimizer_options = "beta2=0.99",
                       .progress = Trainer<float>::Progress::none});
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "run.ckpt", other, beta),
                    Contains("beta2=0.999") && Contains("beta2=0.99"));
  Trainer<float> callbacks({.batch_size = 16, .progress = Trainer<float>::Progress::none});
  callbacks.add_callback(std::make_shared<descent::nn::EarlyStopping>());
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "run.ckpt", other, callbacks),
                    Contains("saved with 0 callbacks, this trainer has 1"));
  // Everything else that shapes the run: batch size, loss, seed, validation split, NaN policy.
  Trainer<float> batch({.batch_size = 8, .progress = Trainer<float>::Progress::none});
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "run.ckpt", other, batch),
                    Contains("batch_size=16") && Contains("batch_size=8"));
  Trainer<float> loss({.loss = descent::nn::Loss::mse, .batch_size = 16,
                       .progress = Trainer<float>::Progress::none});
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "run.ckpt", other, loss),
                    Contains("loss=cross_entropy") && Contains("loss=mse"));
  Trainer<float> seed({.batch_size = 16, .seed = 1, .progress = Trainer<float>::Progress::none});
  CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "run.ckpt", other, seed),
                    Contains("seed=0") && Contains("seed=1"));
  CHECK(same_bits<float>(other.parameters(), before));  // nothing was loaded

  // Other data: fit() refuses before training, and the position is still there for a fit()
  // with the right data, which ends exactly where a run that never stopped does.
  Trainer<float> resumed(
      {.batch_size = 16, .epochs = 2, .progress = Trainer<float>::Progress::none});
  descent::io::load_checkpoint(dir / "run.ckpt", other, resumed);
  CHECK_THROWS_WITH(resumed.fit(other, spirals<float>(20, 3)),
                    Contains("64 training samples are not this data's 40"));
  const auto history = resumed.fit(other, train);
  auto straight = small_net<float>(1);
  Trainer<float>({.batch_size = 16, .epochs = 2, .progress = Trainer<float>::Progress::none})
      .fit(straight, train);
  CHECK(history.epochs.size() == 2);
  CHECK(same_bits<float>(other.parameters(), straight.parameters()));
}

TEST_CASE("A checkpoint whose callback state does not fit is refused before anything changes",
          "[io][resume]") {
  TempDir dir;
  const auto train = spirals<float>(16, 3);
  const auto make_trainer = [] {
    Trainer<float> t({.batch_size = 16, .epochs = 2, .progress = Trainer<float>::Progress::none});
    t.add_callback(std::make_shared<descent::nn::EarlyStopping>());
    t.add_callback(std::make_shared<descent::nn::ReduceLearningRateOnPlateau>());
    return t;
  };
  auto net = small_net<float>(1);
  auto trainer = make_trainer();
  std::optional<descent::nn::FitPosition<float>> saved;
  trainer.set_epoch_hook([&](const auto&, const auto& position) {
    if (!saved) saved = position;
  });
  trainer.fit(net, train);
  REQUIRE(saved);
  const double nan = std::nan(""), inf = INFINITY;
  // {callback, value, where}: a NaN plateau learning rate, a negative one, a NaN best loss.
  const std::vector<std::tuple<int, int, double>> forgeries = {
      {1, 0, nan}, {1, 0, -1.0}, {1, 0, inf}, {0, 0, nan}, {0, 1, -3.0}};
  for (const auto& [callback, index, value] : forgeries) {
    auto forged = *saved;
    forged.callbacks[std::size_t(callback)][std::size_t(index)] = value;
    descent::io::save_checkpoint(dir / "forged.ckpt", net, forged);  // a valid checksum
    auto target = small_net<float>(7);
    const descent::Buffer<float> before = target.parameters();
    auto resumed = make_trainer();
    CAPTURE(callback, index, value);
    CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "forged.ckpt", target, resumed),
                      Contains("does not fit the trainer") &&
                          Contains("callback " + std::to_string(callback + 1) + " of 2"));
    CHECK(same_bits<float>(target.parameters(), before));
    CHECK(resumed.fit(target, train).epochs.front().epoch == 1);  // no position was taken
  }
}

TEST_CASE("Saving over a file keeps its mode, and a symbolic link stays a link", "[io]") {
  TempDir dir;
  const auto net = small_net<float>(1), other = small_net<float>(2);
  const fs::path file = dir / "run.ckpt";
  descent::io::save_checkpoint(file, net);
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);  // 0600: private
  descent::io::save_checkpoint(file, other);
  CHECK(fs::status(file).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(same_bits<float>(descent::io::read_checkpoint<float>(file).parameters, other.parameters()));

  fs::create_directories(dir / "store");
  fs::create_symlink("store/target.ckpt", dir / "link.ckpt");  // dangling: made on first save
  descent::io::save_checkpoint(dir / "link.ckpt", net);
  descent::io::save_checkpoint(dir / "link.ckpt", other);
  CHECK(fs::is_symlink(fs::symlink_status(dir / "link.ckpt")));
  CHECK(same_bits<float>(descent::io::read_checkpoint<float>(dir / "store/target.ckpt").parameters,
                         other.parameters()));

  fs::create_symlink("loop.ckpt", dir / "loop.ckpt");
  CHECK_THROWS_WITH(descent::io::save_checkpoint(dir / "loop.ckpt", net),
                    Contains("too many levels of symbolic links"));
}

TEST_CASE("Every damaged checkpoint is refused with a message naming the damage", "[io][corrupt]") {
  TempDir dir;
  const auto train = spirals<float>(16, 3);
  auto net = small_net<float>(1);
  Trainer<float> trainer(
      {.batch_size = 16, .epochs = 1, .progress = Trainer<float>::Progress::none});
  trainer.add_callback(std::make_shared<descent::nn::EarlyStopping>());
  descent::io::save_every_epoch(trainer, dir / "good.ckpt");
  trainer.fit(net, train);
  const auto good = read_bytes(dir / "good.ckpt");
  REQUIRE(good.size() > 200);
  REQUIRE(load_error(dir / "good.ckpt").empty());
  const fs::path bad = dir / "bad.ckpt";

  SECTION("a flipped payload byte: bad checksum, wherever it is") {
    for (std::size_t at = 32; at < good.size(); at += (at < 1024 ? 7 : 101)) {
      auto bytes = good;
      bytes[at] ^= 0x10;
      write_bytes(bad, bytes);
      CAPTURE(at);
      CHECK_THAT(load_error(bad), Contains("bad checksum"));
    }
  }
  SECTION("a file cut short anywhere: truncated") {
    for (std::size_t size = 0; size < good.size(); size += (size < 64 ? 1 : 61)) {
      write_bytes(bad, {good.begin(), good.begin() + std::ptrdiff_t(size)});
      CAPTURE(size);
      CHECK_THAT(load_error(bad), Contains("is truncated"));
    }
  }
  SECTION("extra bytes at the end") {
    auto bytes = good;
    bytes.push_back(0);
    write_bytes(bad, bytes);
    CHECK_THAT(load_error(bad), Contains("1 bytes follow"));
  }
  SECTION("another file type") {
    write_bytes(bad, {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                      0,   0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    CHECK_THAT(load_error(bad), Contains("is not a descent checkpoint"));
    auto bytes = good;
    bytes[1] = 'd';
    write_bytes(bad, bytes);
    CHECK_THAT(load_error(bad), Contains("is not a descent checkpoint"));
  }
  SECTION("a newer format version") {
    auto bytes = good;
    bytes[8] = 3;
    write_bytes(bad, bytes);
    CHECK_THAT(load_error(bad), Contains("format version 3, newer than the 2"));
  }
  SECTION("a float checkpoint into a double network, and back") {
    CHECK_THAT(load_error<double>(dir / "good.ckpt"),
               Contains("holds float (4 bytes) values; it cannot be loaded as double (8 bytes)"));
    auto d = small_net<double>(0);
    descent::io::save_checkpoint(dir / "double.ckpt", d);
    CHECK_THAT(load_error<float>(dir / "double.ckpt"), Contains("holds double (8 bytes) values"));
  }
  SECTION("a network of another shape") {
    auto wider = small_net<float>(0, 13);
    const descent::Buffer<float> before = wider.parameters();
    CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "good.ckpt", wider),
                      Contains("holds another network: its layer 0 is 'dense 12', this "
                               "network's is 'dense 13'"));
    CHECK(same_bits<float>(wider.parameters(), before));
    auto deeper = descent::nn::make_network<float>({.inputs = 3, .outputs = 2, .hidden = {12}}, 0);
    CHECK_THROWS_WITH(descent::io::load_checkpoint(dir / "good.ckpt", deeper),
                      Contains("input 2, dense 12") && Contains("this network is input 3"));
  }
  SECTION("a file that is not there, or a folder") {
    CHECK_THAT(load_error(dir / "missing.ckpt"),
               Contains("cannot read") && Contains("missing.ckpt"));
    CHECK_THAT(load_error(dir.path), Contains("not a regular file"));
  }
}

TEST_CASE("A forged checkpoint with a valid checksum cannot make the reader misbehave",
          "[io][corrupt]") {
  TempDir dir;
  const fs::path path = dir / "forged.ckpt";
  using descent::io::detail::Writer;

  // Counts far beyond the file's size are refused before anything is allocated.
  for (const int field : {0, 1, 2}) {
    Writer w;
    w.u64(2);  // inputs
    if (field == 0) {
      w.u64(std::uint64_t(1) << 60);  // layers
    } else {
      w.u64(1);
      if (field == 1) {
        w.u64(~std::uint64_t(0));  // the description's length
      } else {
        w.str("dense 2");
        w.u64(std::uint64_t(1) << 61);  // parameters
      }
    }
    write_bytes(path, with_header(w.bytes()));
    CAPTURE(field);
    CHECK_THAT(load_error(path),
               Contains("is corrupt") && Contains("claims") && Contains("bytes are left"));
  }

  // Mutations of a real payload, checksum fixed up: an error or a load, never anything else.
  auto net = small_net<float>(1);
  Trainer<float> trainer(
      {.batch_size = 16, .epochs = 1, .progress = Trainer<float>::Progress::none});
  trainer.add_callback(std::make_shared<descent::nn::ReduceLearningRateOnPlateau>());
  descent::io::save_every_epoch(trainer, dir / "good.ckpt");
  trainer.fit(net, spirals<float>(16, 3));
  const auto good = read_bytes(dir / "good.ckpt");
  const std::vector<unsigned char> payload(good.begin() + 32, good.end());
  std::mt19937_64 rng(5);
  int refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    auto p = payload;
    const int changes = 1 + int(rng() % 4);
    for (int k = 0; k < changes; ++k) {
      const std::size_t at = rng() % p.size();
      p[at] = (rng() % 2) ? static_cast<unsigned char>(rng())
                          : static_cast<unsigned char>(p[at] ^ 0x80);
    }
    if (rng() % 8 == 0) p.resize(rng() % p.size());
    write_bytes(path, with_header(p));
    auto target = small_net<float>(0);
    Trainer<float> resumed(
        {.batch_size = 16, .epochs = 2, .progress = Trainer<float>::Progress::none});
    resumed.add_callback(std::make_shared<descent::nn::ReduceLearningRateOnPlateau>());
    try {
      descent::io::load_checkpoint(path, target, resumed);
    } catch (const CheckpointError&) {
      ++refused;
    }
  }
  CHECK(refused > 75);  // most mutations break something; none crashes (run under ASan too)
}

TEST_CASE("Step counts that are not counts are refused, not converted", "[io][corrupt]") {
  // A forged step count of 1e300 or -1 would be undefined behaviour to convert, or would divide
  // by zero in Adam's bias correction: load_state_dict refuses it with the key's name.
  auto optimizer = descent::make_optimizer<float>("adam");
  descent::Buffer<float> w = descent::Buffer<float>::Zero(3), g = w;
  optimizer.add_param_group({descent::parameter(w, g, "w")});
  auto dict = optimizer.state_dict();
  for (const double bad : {1e300, -1.0, 0.5, std::nan("")}) {
    dict.scalars["0.w.step"] = bad;
    CHECK_THROWS_WITH(optimizer.load_state_dict(dict),
                      Contains("0.w.step is") && Contains("not a count from 0 to 2^53"));
  }
  CHECK(optimizer.state_dict().scalars.at("0.w.step") == 0);
}

TEST_CASE("A write that fails leaves the previous checkpoint whole", "[io][crash]") {
  TempDir dir;
  const fs::path path = dir / "run.ckpt";
  auto net = small_net<float>(1);
  descent::io::save_checkpoint(path, net);
  const auto saved = read_bytes(path);

  // A child process that may only write files of 100 bytes: the write fails midway, as a full
  // disk would make it.
  auto bigger = small_net<float>(2);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{100, 100};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      descent::io::save_checkpoint(path, bigger);
    } catch (const std::runtime_error& e) {
      _exit(std::strstr(e.what(), "cannot write") != nullptr ? 3 : 4);
    }
    _exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);  // it failed, and said so
  CHECK(read_bytes(path) == saved);
  auto loaded = small_net<float>(3);
  descent::io::load_checkpoint(path, loaded);
  CHECK(same_bits<float>(loaded.parameters(), net.parameters()));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path)) ++files;
  CHECK(files == 1);  // the temporary file was removed

  // What a crash in the middle of a write leaves behind (a partial temporary file) does not
  // disturb loading, and the next save replaces the checkpoint.
  write_bytes(path.string() + ".tmp.12345.0", {saved.begin(), saved.begin() + 40});
  CHECK(load_error(path).empty());
  descent::io::save_checkpoint(path, bigger);
  descent::io::load_checkpoint(path, loaded);
  CHECK(same_bits<float>(loaded.parameters(), bigger.parameters()));

  CHECK_THROWS_WITH(descent::io::save_checkpoint(dir / "no-such-folder/run.ckpt", net),
                    Contains("cannot write") && Contains("no-such-folder/run.ckpt"));
}

TEMPLATE_TEST_CASE("export_npy writes NPY 1.0 files of the right type, shape and order",
                   "[io][npy]", float, double) {
  using S = TestType;
  TempDir dir;
  auto net = descent::nn::make_network<S>({.inputs = 3, .outputs = 2, .hidden = {4}}, 6);
  const auto files = descent::io::export_npy(net, dir / "weights");
  REQUIRE(files.size() == 4);
  CHECK(files[0].filename() == "0.weight.npy");
  CHECK(files[1].filename() == "0.bias.npy");
  CHECK(files[2].filename() == "3.weight.npy");  // dense, relu, dropout, dense
  CHECK(files[3].filename() == "3.bias.npy");

  const auto bytes = read_bytes(files[0]);
  REQUIRE(bytes.size() > 10);
  CHECK(std::string(bytes.begin(), bytes.begin() + 6) == "\x93NUMPY");
  CHECK(bytes[6] == 1);
  CHECK(bytes[7] == 0);
  const std::size_t header = bytes[8] | (bytes[9] << 8);
  CHECK((10 + header) % 64 == 0);
  const std::string dict(bytes.begin() + 10, bytes.begin() + 10 + std::ptrdiff_t(header));
  CHECK_THAT(dict, Contains(sizeof(S) == 4 ? "'descr': '<f4'" : "'descr': '<f8'") &&
                       Contains("'fortran_order': False") && Contains("'shape': (4, 3)"));
  CHECK(dict.back() == '\n');
  // C order: row 1 of W (the second unit's weights) comes after all of row 0.
  REQUIRE(bytes.size() == 10 + header + 12 * sizeof(S));
  S w[12];
  std::memcpy(w, bytes.data() + 10 + header, sizeof w);
  const auto weight = net.weight(0);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 3; ++c) CHECK(w[r * 3 + c] == weight(r, c));
  }
  const auto bias = read_bytes(files[1]);
  const std::string bias_dict(bias.begin() + 10, bias.begin() + 10 + (bias[8] | (bias[9] << 8)));
  CHECK_THAT(bias_dict, Contains("'shape': (4,)"));
}

TEST_CASE("The checkpoint CRC-32 is gzip's and PNG's", "[io]") {
  // The standard check value of CRC-32/ISO-HDLC, and the empty input.
  const std::string digits = "123456789";
  CHECK(descent::io::detail::crc32(reinterpret_cast<const unsigned char*>(digits.data()),
                                   digits.size()) == 0xCBF43926u);
  CHECK(descent::io::detail::crc32(nullptr, 0) == 0u);
}

namespace {

/// The message of the descent::Error that f throws, checking that it is also a Std ("" if f
/// throws nothing).
template <class Std>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const descent::Error& e) {
    CHECK(dynamic_cast<const Std*>(&e) != nullptr);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("Every kind of fault is a descent::Error and its standard exception", "[errors]") {
  namespace fs = std::filesystem;
  CHECK_THAT(error_of<std::invalid_argument>([] { descent::make_optimizer<float>("adamaxx"); }),
             Contains("unknown optimizer 'adamaxx'"));
  CHECK_THAT(error_of<std::invalid_argument>([] { descent::Adam<float>({.beta1 = 2}); }),
             Contains("beta1 must be in [0, 1), got 2"));
  descent::nn::Sequential<float> net(4);
  CHECK_THAT(error_of<std::length_error>([&] { net.add(descent::nn::Dense{Eigen::Index{1} << 62}); }),
             Contains("Dense: layer 0"));
  CHECK_THAT(error_of<std::out_of_range>([&] { (void)net.layer(3); }), Contains("no layer 3"));
  auto opt = descent::make_optimizer<float>("sgd");
  CHECK_THAT(error_of<std::out_of_range>([&] { (void)opt.params(2); }),
             Contains("no parameter group 2"));
  CHECK_THAT(error_of<std::logic_error>([&] { (void)net.input_gradient(); }),
             Contains("call backward(grad, true) first"));
  const fs::path nowhere = fs::temp_directory_path() / "descent-no-such-dir" / "file";
  CHECK_THAT(error_of<std::runtime_error>([&] { descent::io::write_file_atomically(nowhere, "x"); }),
             Contains("cannot write") && Contains("descent-no-such-dir"));
  CHECK_THAT(error_of<std::runtime_error>([&] { descent::data::load_csv<float>(nowhere); }),
             Contains("descent-no-such-dir"));
  CHECK_THAT(error_of<descent::data::DataError>([&] { descent::io::load_checkpoint(nowhere, net); }),
             Contains("cannot read"));
}
