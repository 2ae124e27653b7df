#pragma once
// What Trainer::fit() prints while it trains (Trainer::Options::progress): on a terminal a bar
// redrawn in place at most ten times a second, with samples per second, the time left in the
// epoch and the running loss; and at the end of every epoch one line of its metrics.

#include <descent/nn/history.hpp>

#include <Eigen/Core>

#include <chrono>
#include <cmath>
#include <cstdio>

namespace descent::nn::detail {

/// fit()'s display: `bar` draws the bar during an epoch, `lines` prints each epoch's line (which
/// replaces the bar when there is one). Writes to standard output.
class ProgressDisplay {
 public:
  ProgressDisplay(bool bar, bool lines, int epochs)
      : m_bar(bar), m_lines(lines), m_epochs(epochs) {}

  /// Starts the clock of a new epoch.
  void begin_epoch() { m_start = m_last_print = Clock::now(); }

  /// After batch `done` of `batches` (samples so far, their mean loss): redraws the bar, unless
  /// it was drawn less than 100 ms ago and this is not the epoch's last batch.
  void batch_done(int epoch, Eigen::Index done, Eigen::Index batches, Eigen::Index samples,
                  double loss) {
    const auto now = Clock::now();
    if (!m_bar || (now - m_last_print <= std::chrono::milliseconds(100) && done != batches)) {
      return;
    }
    m_last_print = now;
    constexpr int width = 24;
    const double seconds = std::chrono::duration<double>(now - m_start).count();
    const int filled = static_cast<int>(width * done / batches);
    const double rate = seconds > 0 ? double(samples) / seconds : 0;
    const double eta = rate > 0 ? seconds / double(done) * double(batches - done) : 0;
    std::printf("\repoch %d/%d [%.*s%*s] %lld/%lld  %.0f samples/s  ETA %.0fs  loss %.4f ", epoch,
                m_epochs, filled, "========================", width - filled, "",
                static_cast<long long>(done), static_cast<long long>(batches), rate, eta, loss);
    std::fflush(stdout);
  }

  /// At the end of an epoch: its line of metrics, in place of the bar.
  void epoch_done(const EpochLog& e) const {
    if (!m_lines) return;
    if (m_bar) std::printf("\r\033[K");
    std::printf("epoch %d/%d  loss %.4f", e.epoch, m_epochs, e.loss);
    if (!std::isnan(e.accuracy)) std::printf("  accuracy %.4f", e.accuracy);
    if (!std::isnan(e.val_loss)) std::printf("  val_loss %.4f", e.val_loss);
    if (!std::isnan(e.val_accuracy)) std::printf("  val_accuracy %.4f", e.val_accuracy);
    std::printf("  lr %.3g  %.1fs\n", e.learning_rate, e.seconds);
    std::fflush(stdout);
  }

 private:
  using Clock = std::chrono::steady_clock;

  bool m_bar, m_lines;
  int m_epochs;
  Clock::time_point m_start{}, m_last_print{};
};

}  // namespace descent::nn::detail
