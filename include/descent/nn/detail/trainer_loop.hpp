#pragma once
// Trainer's loop: fit() over the epochs and batches, and evaluation, on the DataRef every Data
// type comes down to. Out of the class and not inline: the compiled mode (descent::compiled)
// instantiates them once for float and double.

#include <descent/nn/trainer.hpp>

namespace descent::nn {

template <class Scalar>
History Trainer<Scalar>::fit_data(Sequential<Scalar>& net, const DataRef& train,
                                  const DataRef* validation) {
  check_data(net, train.x, train.y, "training data");
  if (validation) check_data(net, validation->x, validation->y, "validation data");

  // Which columns train and which validate: the split data::train_validation_split makes.
  std::vector<Eigen::Index> train_idx, val_idx;
  if (!validation && m_options.validation_split > 0) {
    if (train.x.cols() < 2) {
      fail("validation_split needs at least 2 samples to split, the training data has 1");
    }
    auto split = descent::data::validation_split_indices(train.x.cols(), m_options.validation_split,
                                                         m_options.seed);
    train_idx = std::move(split.train);
    val_idx = std::move(split.validation);
  } else {
    train_idx.resize(static_cast<std::size_t>(train.x.cols()));
    std::iota(train_idx.begin(), train_idx.end(), Eigen::Index{0});
  }
  // A NaN in validation data would make every val_loss NaN and callbacks blind: refused now.
  if (validation) {
    detail::check_finite<Eigen::Ref<const Matrix>>(validation->x, validation->y, {},
                                                   "validation data");
  }
  if (!val_idx.empty()) {
    detail::check_finite<Eigen::Ref<const Matrix>>(train.x, train.y, val_idx,
                                                   "the validation split");
  }

  const Eigen::Index n = static_cast<Eigen::Index>(train_idx.size());
  const Eigen::Index batch = std::min(m_options.batch_size, n);
  // Batches of positions in train_idx; fit()'s epoch e (from 1) is Batches epoch e - 1.
  descent::data::Batches batches(n, batch, m_options.seed);
  std::vector<Eigen::Index> batch_idx(static_cast<std::size_t>(batch));  // one batch's samples
  auto optimizer = make_optimizer();
  optimizer.add_param_group({descent::Parameter<Scalar>{
      net.parameters().data(), net.gradients().data(), net.parameter_count(), "network"}});
  net.set_threads(m_options.threads);
  net.reserve(batch);
  Matrix xb(net.inputs(), batch), yb(train.y.rows(), batch), grad(net.outputs(), batch);

  History history;
  Buffer<Scalar> best_weights;
  TrainingState state;
  state.learning_rate = m_options.learning_rate;
  state.validating = validation || !val_idx.empty();
  state.save_weights = [&] { best_weights = net.parameters(); };
  state.restore_weights = [&] {
    if (best_weights.size() == net.parameter_count()) net.parameters() = best_weights;
  };
  // A position is used up only once everything in it has been taken: a fit() that refuses
  // it (other data) leaves it for the next fit().
  const FitPosition<Scalar>* resume = m_resume ? &*m_resume : nullptr;
  if (resume) restore(*resume, net, train_idx, optimizer, state, history, best_weights);
  // What the optimizer has now; a rate a callback sets from on_train_begin on is applied before
  // the next step.
  double applied_lr = state.learning_rate;
  run_callbacks(&Callback::on_train_begin, state);
  for (std::size_t i = 0; resume && i < m_callbacks.size(); ++i) {
    m_callbacks[i]->load_state(resume->callbacks[i]);
  }
  m_resume.reset();

  const bool bar = m_options.progress == Progress::bar ||
                   (m_options.progress == Progress::automatic && detail::stdout_is_terminal());
  detail::ProgressDisplay display(bar, m_options.progress != Progress::none, m_options.epochs);
  for (int epoch = state.epoch + 1; epoch <= m_options.epochs && !state.stop; ++epoch) {
    state.epoch = epoch;
    run_callbacks(&Callback::on_epoch_begin, state);
    batches.set_epoch(static_cast<std::uint64_t>(epoch - 1));
    net.set_training(true);
    const auto start = Clock::now();
    display.begin_epoch();
    double loss_sum = 0, correct = 0, counted = 0, samples = 0;
    std::int64_t skipped = 0;
    Eigen::Index seen = 0;
    for (Eigen::Index b = 0; b < batches.count(); ++b) {
      run_callbacks(&Callback::on_batch_begin, state);
      if (state.learning_rate != applied_lr) {  // a callback changed it
        optimizer.set_learning_rate(static_cast<Scalar>(state.learning_rate));
        applied_lr = state.learning_rate;
      }
      const auto positions = batches.batch(b);
      const auto size = static_cast<Eigen::Index>(positions.size());
      for (std::size_t k = 0; k < positions.size(); ++k) {
        batch_idx[k] = train_idx[static_cast<std::size_t>(positions[k])];
      }
      const std::span<const Eigen::Index> samples_of_batch(batch_idx.data(), positions.size());
      descent::data::gather(train, samples_of_batch, xb.leftCols(size), yb.leftCols(size));
      const auto out = net.forward(xb.leftCols(size));
      const double loss =
          loss_and_gradient(m_options.loss, out, yb.leftCols(size), grad.leftCols(size));
      // One NaN step would poison the weights and every moment for good, so the loss and the
      // whole gradient arena are checked before the step (one pass, cheap next to the step).
      // A finite loss does not imply a finite gradient: relu(NaN) = 0 hides a NaN input.
      bool finite = std::isfinite(loss);
      if (finite) {
        net.backward(grad.leftCols(size));
        finite = net.gradients().allFinite();
      }
      if (!finite && m_options.on_non_finite == NonFinite::stop) {
        detail::non_finite(net, loss, epoch, b, state.step);
      }
      if (finite) {
        accumulate_accuracy(out, yb.leftCols(size), correct, counted);
        net.step(optimizer);  // on the network's threads
        ++state.step;
        loss_sum += loss * double(size);
        samples += double(size);
      } else {
        ++skipped;
      }
      seen += size;
      display.batch_done(epoch, b + 1, batches.count(), seen, loss_sum / samples);
    }
    EpochLog log;
    log.epoch = epoch;
    log.loss = loss_sum / samples;  // NaN if every batch was skipped
    log.skipped = skipped;
    log.accuracy = counted > 0 ? correct / counted : std::numeric_limits<double>::quiet_NaN();
    log.learning_rate = state.learning_rate;
    log.seconds = seconds_since(start);
    if (validation) {
      const auto e = evaluate_data(net, *validation);
      log.val_loss = e.loss;
      log.val_accuracy = e.accuracy;
    } else if (!val_idx.empty()) {
      const auto e = evaluate_columns(net, train, val_idx);
      log.val_loss = e.loss;
      log.val_accuracy = e.accuracy;
    }
    history.epochs.push_back(log);
    state.last = &history.epochs.back();
    display.epoch_done(log);
    run_callbacks(&Callback::on_epoch_end, state);
    if (m_epoch_hook) {
      std::vector<Eigen::Index> order(train_idx.size());  // the samples, in this epoch's order
      for (std::size_t k = 0; k < order.size(); ++k) {
        order[k] = train_idx[static_cast<std::size_t>(batches.order()[k])];
      }
      m_epoch_hook(net, detail::take_position<Scalar>({state, m_options.seed, order, optimizer,
                                                       m_callbacks, history, best_weights},
                                                      run_options()));
    }
  }
  history.stopped_early = state.stop;
  for (auto& c : m_callbacks) c->on_train_end(state);  // a rate set now is never used
  net.set_training(false);
  return history;
}

template <class Scalar>
Evaluation Trainer<Scalar>::evaluate_data(Sequential<Scalar>& net, const DataRef& data) const {
  check_data(net, data.x, data.y, "evaluation data");
  std::vector<Eigen::Index> all(static_cast<std::size_t>(data.x.cols()));
  std::iota(all.begin(), all.end(), 0);
  return evaluate_columns(net, data, all);
}

template <class Scalar>
Evaluation Trainer<Scalar>::evaluate_columns(Sequential<Scalar>& net, const DataRef& data,
                                             std::span<const Eigen::Index> idx) const {
  const bool was_training = net.training();
  net.set_training(false);
  const Eigen::Index batch = std::max<Eigen::Index>(m_options.batch_size, 256);
  const Eigen::Index n = static_cast<Eigen::Index>(idx.size());
  Matrix xb(net.inputs(), std::min(batch, n)), yb(data.y.rows(), std::min(batch, n));
  Matrix grad(net.outputs(), std::min(batch, n));
  double loss_sum = 0, correct = 0, counted = 0;
  for (Eigen::Index first = 0; first < n; first += batch) {
    const Eigen::Index size = std::min(batch, n - first);
    descent::data::gather(
        data, idx.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(size)),
        xb.leftCols(size), yb.leftCols(size));
    const auto out = net.forward(xb.leftCols(size));
    loss_sum += double(size) *
                loss_and_gradient(m_options.loss, out, yb.leftCols(size), grad.leftCols(size));
    accumulate_accuracy(out, yb.leftCols(size), correct, counted);
  }
  net.set_training(was_training);
  Evaluation e;
  e.loss = loss_sum / double(n);
  if (counted > 0) e.accuracy = correct / counted;
  return e;
}

}  // namespace descent::nn
