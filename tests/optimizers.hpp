#pragma once
// Test helper: run a check once per optimizer class, with options that switch on its options'
// less travelled paths (weight decay, amsgrad, centered + momentum, ...).

#include <descent/optim.hpp>

#include <tuple>

namespace descent_test {

/// Calls f(opt) for one configured instance of every optimizer class, and a few variants.
template <class S, class F>
void for_each_optimizer(F&& f) {
  f(descent::SGD<S>({.learning_rate = S(0.1), .weight_decay = S(0.01)}));
  f(descent::Momentum<S>({.learning_rate = S(0.05), .dampening = S(0.1), .weight_decay = S(0.01)}));
  f(descent::Nesterov<S>({.learning_rate = S(0.05), .weight_decay = S(0.01)}));
  f(descent::AdaGrad<S>({.learning_rate = S(0.1), .lr_decay = S(0.01), .initial_accumulator = S(0.1)}));
  f(descent::RMSProp<S>({.learning_rate = S(0.01)}));
  f(descent::RMSProp<S>({.learning_rate = S(0.01), .momentum = S(0.9), .centered = true,
                         .weight_decay = S(0.01)}));
  f(descent::Adadelta<S>({.weight_decay = S(0.01)}));
  f(descent::Adam<S>({.learning_rate = S(0.01)}));
  f(descent::Adam<S>({.learning_rate = S(0.01), .weight_decay = S(0.1), .amsgrad = true}));
  f(descent::AdamW<S>({.learning_rate = S(0.01)}));
  f(descent::Nadam<S>({.learning_rate = S(0.01), .weight_decay = S(0.01)}));
  f(descent::Nadam<S>({.learning_rate = S(0.01), .weight_decay = S(0.01),
                       .decoupled_weight_decay = true}));
  f(descent::RAdam<S>({.learning_rate = S(0.01), .weight_decay = S(0.01)}));
  f(descent::Adamax<S>({.learning_rate = S(0.01), .weight_decay = S(0.01)}));
  f(descent::Rprop<S>({.learning_rate = S(0.01)}));
  f(descent::ASGD<S>({.learning_rate = S(0.05), .t0 = S(5), .weight_decay = S(0.01)}));
}

}  // namespace descent_test
