#pragma once
// What fit() reports: every epoch's training and validation metrics, learning rate and time,
// and History::save_csv to keep them.

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
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
  std::int64_t skipped = 0;  ///< batches skipped for a non-finite loss or gradient (NonFinite::skip)
};

/// What fit() did, epoch by epoch.
struct History {
  std::vector<EpochLog> epochs;  ///< one entry per epoch run
  bool stopped_early = false;    ///< a callback stopped training before Options::epochs

  /// epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,skipped (numbers read back
  /// exactly).
  void save_csv(const std::string& path) const {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("descent::nn::History::save_csv: cannot write " + path);
    out.precision(17);
    out << "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,skipped\n";
    for (const auto& e : epochs) {
      out << e.epoch << ',' << e.loss << ',' << e.accuracy << ',' << e.val_loss << ','
          << e.val_accuracy << ',' << e.learning_rate << ',' << e.seconds << ',' << e.skipped
          << '\n';
    }
    if (!out) throw std::runtime_error("descent::nn::History::save_csv: write failed: " + path);
  }
};

}  // namespace descent::nn
