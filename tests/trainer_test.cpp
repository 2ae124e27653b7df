// The Trainer: it learns (two interleaved spirals, a problem a linear model cannot solve), it is
// reproducible from its seed, its callbacks do what they say, and bad settings are refused.

#include <descent/data.hpp>
#include <descent/nn.hpp>
#include "spirals.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

using Catch::Matchers::Contains;
using descent::nn::Activation;
using descent::nn::Trainer;

namespace {

using descent_test::Data;
using descent_test::spirals;

descent::nn::NetworkSpec spiral_spec() {
  return {.inputs = 2, .outputs = 2, .hidden = {32, 32}, .activation = Activation::relu,
          .dropout = 0};
}

}  // namespace

TEST_CASE("The trainer learns two spirals that no linear model separates", "[trainer]") {
  const auto train = spirals<float>(300, 1), test = spirals<float>(200, 2);
  auto net = descent::nn::make_network<float>(spiral_spec(), 0);
  Trainer<float> trainer({.optimizer = "adam", .learning_rate = 0.01, .batch_size = 32,
                          .epochs = 60, .progress = Trainer<float>::Progress::none});
  const auto history = trainer.fit(net, train);
  REQUIRE(history.epochs.size() == 60);
  CHECK(history.epochs.back().loss < history.epochs.front().loss / 4);
  CHECK(trainer.evaluate(net, test).accuracy > 0.95);

  // A linear model (no hidden layer) cannot: it stays near chance.
  auto linear = descent::nn::make_network<float>({.inputs = 2, .outputs = 2, .hidden = {}}, 0);
  trainer.fit(linear, train);
  CHECK(trainer.evaluate(linear, test).accuracy < 0.75);
}

TEST_CASE("Training is reproducible from the seed, and the seed matters", "[trainer]") {
  const auto train = spirals<double>(100, 3);
  const auto run = [&](std::uint64_t seed) {
    auto net = descent::nn::make_network<double>(
        {.inputs = 2, .outputs = 2, .hidden = {16}, .dropout = 0.1}, seed);
    Trainer<double> trainer({.optimizer = "nadam", .learning_rate = 0.01, .batch_size = 16,
                             .epochs = 3, .seed = seed,
                             .progress = Trainer<double>::Progress::none});
    trainer.fit(net, train);
    return descent::Buffer<double>(net.parameters());
  };
  CHECK(run(7).isApprox(run(7), 0));
  CHECK(!run(7).isApprox(run(8), 1e-6));
}

TEST_CASE("Full-batch training is gradient descent on the whole set", "[trainer]") {
  // With batch_size = n and plain SGD, one epoch is exactly one step along the full gradient.
  const auto train = spirals<double>(50, 4);
  auto net = descent::nn::make_network<double>({.inputs = 2, .outputs = 2, .hidden = {8},
                                                .dropout = 0}, 1);
  auto reference = descent::nn::make_network<double>({.inputs = 2, .outputs = 2, .hidden = {8},
                                                      .dropout = 0}, 1);
  Trainer<double> trainer({.optimizer = "sgd", .learning_rate = 0.5, .batch_size = 100,
                           .epochs = 1, .progress = Trainer<double>::Progress::none});
  trainer.fit(net, train);
  Eigen::MatrixXd grad(2, 100);
  descent::nn::loss_and_gradient(descent::nn::Loss::cross_entropy, reference.forward(train.x),
                                 train.y, grad);
  reference.backward(grad);
  const descent::Buffer<double> expected = reference.parameters() - 0.5 * reference.gradients();
  CHECK((descent::Buffer<double>(net.parameters()) - expected).abs().maxCoeff() < 1e-12);
}

TEST_CASE("Early stopping stops on a plateau and restores the best weights", "[trainer]") {
  const auto train = spirals<float>(100, 5), validation = spirals<float>(100, 6);
  auto net = descent::nn::make_network<float>(spiral_spec(), 0);
  // A learning rate of 0 never improves: stop after patience + 1 epochs.
  Trainer<float> frozen({.optimizer = "sgd", .learning_rate = 0, .batch_size = 32, .epochs = 50,
                         .progress = Trainer<float>::Progress::none});
  auto stopper = std::make_shared<descent::nn::EarlyStopping>(
      descent::nn::EarlyStopping::Options{.patience = 2, .min_delta = 1e-3});
  frozen.add_callback(stopper);
  const auto history = frozen.fit(net, train, &validation);
  CHECK(history.stopped_early);
  CHECK(history.epochs.size() == 4);  // epoch 1 sets the best, then 3 epochs without progress
  CHECK(stopper->best_epoch() == 1);

  // Restoring: after training, the weights are those of the best validation epoch.
  Trainer<float> noisy({.optimizer = "sgd", .learning_rate = 2.0, .batch_size = 8, .epochs = 8,
                        .progress = Trainer<float>::Progress::none});
  auto keeper = std::make_shared<descent::nn::EarlyStopping>(
      descent::nn::EarlyStopping::Options{.patience = 100});
  noisy.add_callback(keeper);
  const auto h = noisy.fit(net, train, &validation);
  double best = 1e300;
  for (const auto& e : h.epochs) best = std::min(best, e.val_loss);
  CHECK(noisy.evaluate(net, validation).loss == Approx(best).epsilon(1e-5));
}

TEST_CASE("Schedules and reduce-on-plateau set the learning rate the trainer uses", "[trainer]") {
  const auto train = spirals<float>(64, 7);
  auto net = descent::nn::make_network<float>(spiral_spec(), 0);
  Trainer<float> trainer({.optimizer = "momentum", .learning_rate = 0.1, .batch_size = 32,
                          .epochs = 4, .progress = Trainer<float>::Progress::none});
  trainer.add_callback(std::make_shared<descent::nn::LearningRateSchedule>(
      descent::schedule::StepDecay(0.1, 1, 0.5), /*per_epoch=*/true));
  const auto h = trainer.fit(net, train);
  REQUIRE(h.epochs.size() == 4);
  CHECK(h.epochs[0].learning_rate == Approx(0.1));
  CHECK(h.epochs[3].learning_rate == Approx(0.0125));

  // At 1e-4 the loss never improves by the 50% threshold: with patience 1 the rate is halved
  // after epoch 3 (epoch 1 sets the best).
  Trainer<float> plateau({.optimizer = "sgd", .learning_rate = 1e-4, .batch_size = 128,
                          .epochs = 5, .progress = Trainer<float>::Progress::none});
  plateau.add_callback(std::make_shared<descent::nn::ReduceLearningRateOnPlateau>(
      descent::schedule::ReduceOnPlateau::Options{.factor = 0.5, .patience = 1, .threshold = 0.5}));
  const auto p = plateau.fit(net, train);
  CHECK(p.epochs[2].learning_rate == Approx(1e-4));
  CHECK(p.epochs[3].learning_rate == Approx(5e-5));
}

TEST_CASE("History is written as CSV that reads back exactly", "[trainer]") {
  const auto train = spirals<double>(32, 8);
  auto net = descent::nn::make_network<double>(spiral_spec(), 0);
  Trainer<double> trainer({.learning_rate = 0.01, .batch_size = 16, .epochs = 2,
                           .validation_split = 0.25, .progress = Trainer<double>::Progress::none});
  const auto h = trainer.fit(net, train);
  const auto path = std::filesystem::temp_directory_path() / "descent_history_test.csv";
  h.save_csv(path.string());
  std::ifstream in(path);
  std::string header, line;
  std::getline(in, header);
  CHECK(header == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,skipped");
  std::getline(in, line);
  CHECK(std::stod(line.substr(line.find(',') + 1)) == h.epochs[0].loss);
  CHECK(!std::isnan(h.epochs[0].val_loss));  // the split produced validation figures
  std::filesystem::remove(path);
  // Written atomically: a place that takes no file is an error naming it (/proc, even for root).
  CHECK_THROWS_WITH(h.save_csv("/proc/descent_history.csv"),
                    Contains("History::save_csv") && Contains("/proc/descent_history.csv"));
}

TEST_CASE("The trainer refuses bad settings and mismatched data, naming them", "[trainer]") {
  using T = Trainer<float>;
  CHECK_THROWS_WITH(T({.batch_size = 0}), Contains("batch_size must be >= 1, got 0"));
  CHECK_THROWS_WITH(T({.epochs = -1}), Contains("epochs"));
  CHECK_THROWS_WITH(T({.validation_split = 1.0}), Contains("validation_split"));
  CHECK_THROWS_WITH(T({.learning_rate = -1}), Contains("learning_rate must be finite and >= 0, got -1"));
  CHECK_THROWS_WITH(T({.validation_split = -0.5}), Contains("got -0.5") && !Contains("-0.50"));
  // 1e300 is finite: it is too large for float, which is what the message says (not "inf").
  CHECK_THROWS_WITH(T({.learning_rate = 1e300}),
                    Contains("1e+300 is larger than the largest float") && !Contains("inf"));
  CHECK_THROWS_WITH(T({.optimizer = "adamx"}), Contains("unknown optimizer 'adamx'"));
  CHECK_THROWS_WITH(T({.optimizer_options = "beta3=1"}), Contains("unknown option 'beta3'"));
  auto net = descent::nn::make_network<float>(spiral_spec(), 0);
  T trainer({.progress = T::Progress::none});
  Data<float> wrong{Eigen::MatrixXf::Zero(3, 10), Eigen::MatrixXf::Zero(1, 10)};
  CHECK_THROWS_WITH(trainer.fit(net, wrong), Contains("3 features, the network takes 2"));
  Data<float> bad_labels{Eigen::MatrixXf::Zero(2, 10), Eigen::MatrixXf::Constant(1, 10, 5)};
  CHECK_THROWS_WITH(trainer.fit(net, bad_labels), Contains("labels outside 0..1"));
  Data<float> short_y{Eigen::MatrixXf::Zero(2, 10), Eigen::MatrixXf::Zero(1, 9)};
  CHECK_THROWS_WITH(trainer.fit(net, short_y), Contains("10 samples but 9 targets"));
}

TEST_CASE("Two threads train the same network as one", "[trainer]") {
  const auto train = spirals<double>(200, 9);
  const auto run = [&](int threads) {
    auto net = descent::nn::make_network<double>(
        {.inputs = 2, .outputs = 2, .hidden = {64, 32}, .dropout = 0.1}, 3);
    Trainer<double> trainer({.learning_rate = 0.01, .batch_size = 100, .epochs = 3,
                             .progress = Trainer<double>::Progress::none, .threads = threads});
    trainer.fit(net, train);
    return descent::Buffer<double>(net.parameters());
  };
  const auto one = run(1), two = run(2);
  // The products are split by columns and rows; only summation blocking can differ.
  CHECK((one - two).abs().maxCoeff() < 1e-10);
  CHECK_THROWS_WITH(Trainer<double>({.threads = 0}), Contains("threads must be >= 1"));
}

TEST_CASE("The learning rate has one home: Options::learning_rate", "[trainer]") {
  CHECK_THROWS_WITH(Trainer<float>({.optimizer_options = "beta2=0.99,learning_rate=0.1"}),
                    Contains("Options::learning_rate"));
}

TEST_CASE("An EarlyStopping reused for a second fit starts afresh", "[trainer]") {
  const auto train = spirals<float>(64, 10), validation = spirals<float>(64, 11);
  auto stopper = std::make_shared<descent::nn::EarlyStopping>(
      descent::nn::EarlyStopping::Options{.patience = 1, .restore_best = false});
  Trainer<float> frozen({.optimizer = "sgd", .learning_rate = 0, .batch_size = 32, .epochs = 20,
                         .progress = Trainer<float>::Progress::none});
  frozen.add_callback(stopper);
  for (int run = 0; run < 2; ++run) {
    auto net = descent::nn::make_network<float>(spiral_spec(), 0);
    const auto h = frozen.fit(net, train, &validation);
    CHECK(h.epochs.size() == 3);  // epoch 1 is the best; two more without improvement
    CHECK(stopper->best_epoch() == 1);
  }
}

TEST_CASE("A learning rate a callback sets when training begins reaches the optimizer",
          "[trainer]") {
  struct Freeze : descent::nn::Callback {
    void on_train_begin(descent::nn::TrainingState& state) override { state.learning_rate = 0; }
  };
  const auto train = spirals<float>(64, 12);
  auto net = descent::nn::make_network<float>(spiral_spec(), 0);
  const descent::Buffer<float> before = net.parameters();
  Trainer<float> trainer({.optimizer = "sgd", .learning_rate = 0.1, .batch_size = 32, .epochs = 2,
                          .progress = Trainer<float>::Progress::none});
  trainer.add_callback(std::make_shared<Freeze>());
  const auto h = trainer.fit(net, train);
  CHECK(h.epochs.back().learning_rate == 0);
  CHECK((net.parameters() == before).all());  // no step moved a weight
}

TEST_CASE("Validation data with a NaN or an infinity is refused, naming its place", "[trainer]") {
  using T = Trainer<float>;
  const auto train = spirals<float>(20, 1);
  auto net = descent::nn::make_network<float>(spiral_spec(), 0);
  T trainer({.epochs = 1, .progress = T::Progress::none});
  auto validation = spirals<float>(10, 2);
  validation.x(1, 7) = std::nanf("");
  CHECK_THROWS_WITH(trainer.fit(net, train, &validation),
                    Contains("validation data has nan in feature 1 of sample 7"));
  validation.x(1, 7) = 0;
  validation.x(0, 3) = -std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(trainer.fit(net, train, &validation),
                    Contains("validation data has -inf in feature 0 of sample 3"));

  // A validation split takes its samples from the training data: they are checked the same way.
  auto poisoned = train;
  poisoned.x.row(0).setConstant(std::nanf(""));
  T split({.epochs = 1, .validation_split = 0.25, .progress = T::Progress::none});
  CHECK_THROWS_WITH(split.fit(net, poisoned), Contains("the validation split has nan in feature 0"));
}

TEST_CASE("Callbacks that watch a loss watch val_loss when there is validation data, NaN or not",
          "[trainer]") {
  descent::nn::EarlyStopping stopping({.patience = 0, .restore_best = false});
  descent::nn::EpochLog log;
  log.loss = 0.5;
  log.val_loss = std::nan("");
  descent::nn::TrainingState state;
  state.last = &log;
  state.validating = true;
  stopping.on_train_begin(state);
  state.epoch = 1;
  stopping.on_epoch_end(state);
  CHECK(stopping.best_epoch() == 0);  // a NaN val_loss is no improvement; the loss is not used
  state.epoch = 2;
  stopping.on_epoch_end(state);
  CHECK(state.stop);

  descent::nn::TrainingState without;  // no validation data: the training loss
  without.last = &log;
  without.epoch = 1;
  stopping.on_train_begin(without);
  stopping.on_epoch_end(without);
  CHECK(stopping.best_epoch() == 1);
  CHECK(stopping.best() == 0.5);
}

TEST_CASE("A callback's learning rate must be one the optimizer takes; the error says where",
          "[trainer]") {
  using T = Trainer<float>;
  const auto train = spirals<float>(20, 1);
  auto net = descent::nn::make_network<float>(spiral_spec(), 0);
  T trainer({.batch_size = 10, .epochs = 3, .progress = T::Progress::none});
  trainer.add_callback(std::make_shared<descent::nn::EarlyStopping>());
  trainer.add_callback(std::make_shared<descent::nn::LearningRateSchedule>(
      [](std::int64_t step) { return step < 5 ? 0.01 : std::nan(""); }));
  CHECK_THROWS_WITH(trainer.fit(net, train),
                    Contains("callback 2 of 2 (on_batch_begin, epoch 2, step 5)") &&
                        Contains("must be finite and >= 0, got nan"));
}

TEST_CASE("A validation_split and the batch order are data's: train_validation_split and Batches "
          "with the trainer's seed give the same samples, and a loop over them the same weights",
          "[trainer][data]") {
  // Sample j has feature 0 = j, so a subset's first row says which samples it holds.
  const Eigen::Index n = 40, batch = 8;
  const std::uint64_t seed = 11;
  descent::data::Dataset<double> d;
  d.x.resize(2, n);
  d.y.resize(1, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    d.x(0, j) = double(j);
    d.x(1, j) = std::sin(double(j));
    d.y(0, j) = double(j % 3 == 0);
  }
  const auto make_net = [] {
    return descent::nn::make_network<double>({.inputs = 2, .outputs = 2, .hidden = {4}}, 3);
  };
  auto net = make_net();
  Trainer<double> trainer({.optimizer = "sgd", .learning_rate = 1e-3, .batch_size = batch,
                           .epochs = 3, .seed = seed, .validation_split = 0.25,
                           .progress = Trainer<double>::Progress::none});
  std::vector<std::vector<std::int64_t>> orders;  // each epoch's samples, as fit() visited them
  trainer.set_epoch_hook([&](const auto&, const auto& position) {
    orders.push_back(position.order);
  });
  const auto history = trainer.fit(net, d);
  REQUIRE(orders.size() == 3);

  // The data path: the same split, then Batches over the training part, epoch 0 first.
  const auto [training, validation] = descent::data::train_validation_split(d, 0.25, seed);
  REQUIRE(training.size() == 30);
  auto by_hand = make_net();
  auto sgd = descent::make_optimizer<double>("sgd", "");
  sgd.set_learning_rate(1e-3);
  sgd.add_param_group({descent::Parameter<double>{by_hand.parameters().data(),
                                                  by_hand.gradients().data(),
                                                  by_hand.parameter_count(), "network"}});
  by_hand.set_training(true);
  descent::data::Batches batches(training.size(), batch, seed);
  Eigen::MatrixXd xb(2, batch), yb(1, batch), grad(2, batch);
  for (std::size_t epoch = 0; epoch < orders.size(); ++epoch, batches.next_epoch()) {
    std::vector<std::int64_t> visited;
    for (Eigen::Index b = 0; b < batches.count(); ++b) {
      const auto indices = batches.batch(b);
      const auto k = static_cast<Eigen::Index>(indices.size());
      for (const Eigen::Index i : indices) visited.push_back(std::int64_t(training.x(0, i)));
      descent::data::gather(training, indices, xb.leftCols(k), yb.leftCols(k));
      const auto out = by_hand.forward(xb.leftCols(k));
      descent::nn::loss_and_gradient(descent::nn::Loss::cross_entropy, out, yb.leftCols(k),
                                     grad.leftCols(k));
      by_hand.backward(grad.leftCols(k));
      by_hand.step(sgd);
    }
    CAPTURE(epoch);
    CHECK(visited == orders[epoch]);
  }
  CHECK(by_hand.parameters().isApprox(net.parameters(), 0));  // bit for bit
  CHECK(history.epochs.back().val_loss == trainer.evaluate(net, validation).loss);

  // One sample cannot be split; a split that would leave none to train on leaves one.
  CHECK_THROWS_WITH(trainer.fit(net, descent::data::subset(d, 1)),
                    Contains("validation_split needs at least 2 samples"));
  Trainer<double> most({.batch_size = batch, .epochs = 1, .validation_split = 0.9,
                        .progress = Trainer<double>::Progress::none});
  std::size_t trained_on = 0;
  most.set_epoch_hook([&](const auto&, const auto& p) { trained_on = p.order.size(); });
  most.fit(net, descent::data::subset(d, 3));  // round(2.7) = 3 held out would leave none
  CHECK(trained_on == 1);
}
