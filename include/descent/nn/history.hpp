#pragma once
// What fit() reports: every epoch's training and validation metrics, learning rate and time,
// and History::save_csv to keep them.

#include <descent/detail/atomic_write.hpp>
#include <descent/detail/format.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace descent::nn {

/// Loss and accuracy (NaN where accuracy has no meaning, as for regression).
struct Evaluation {
  /// Mean loss over the samples.
  double loss = 0;
  /// Share of predictions that are right (classification losses only).
  double accuracy = std::numeric_limits<double>::quiet_NaN();
};

/// One epoch of fit(): its training and validation metrics, learning rate and time.
struct EpochLog {
  int epoch = 0;  ///< 1-based
  /// Mean training loss over the steps taken (NaN if every batch was skipped).
  double loss = 0, accuracy = 0;  ///< training accuracy (NaN for regression)
  /// Mean loss on the validation data; NaN without validation data.
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  /// Accuracy on the validation data; NaN without validation data or for regression.
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  /// The learning rate at the end of the epoch.
  double learning_rate = 0;
  /// Wall-clock seconds of the epoch's training steps.
  double seconds = 0;
  std::int64_t skipped =
      0;  ///< batches skipped for a non-finite loss or gradient (NonFinite::skip)
};

/// What fit() did, epoch by epoch.
struct History {
  std::vector<EpochLog> epochs;  ///< one entry per epoch run
  bool stopped_early = false;    ///< a callback stopped training before Options::epochs

  /// epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,skipped (numbers read back
  /// exactly), written atomically: a crash leaves the old file or the whole new one. Throws
  /// std::runtime_error naming the file when it cannot be written.
  void save_csv(const std::string& path) const {
    std::string text = "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,skipped\n";
    const auto number = [](double v) { return descent::detail::format_number(v); };
    for (const auto& e : epochs) {
      text += std::to_string(e.epoch) + ',' + number(e.loss) + ',' + number(e.accuracy) + ',' +
              number(e.val_loss) + ',' + number(e.val_accuracy) + ',' + number(e.learning_rate) +
              ',' + number(e.seconds) + ',' + std::to_string(e.skipped) + '\n';
    }
    descent::detail::write_atomically(
        path, {std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size())},
        "descent::nn::History::save_csv");
  }
};

}  // namespace descent::nn
