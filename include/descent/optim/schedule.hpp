#pragma once
// Learning-rate schedules: plain functions of the step (0-based) that return the learning rate,
// one for every torch.optim.lr_scheduler class of PyTorch 1.13, plus ReduceOnPlateau, which is
// fed a metric. Use them with any optimizer:
//
//   descent::schedule::WarmupCosine lr(1e-3, /*warmup_steps=*/500, /*total_steps=*/10000);
//   for (std::int64_t t = 0; t < 10000; ++t) { opt.set_learning_rate(float(lr(t))); ... }
//
// One header per family, each with its formulas:
//   schedule/function.hpp   Schedule, Lambda (LambdaLR), Multiplicative (MultiplicativeLR)
//   schedule/step.hpp       Constant, StepDecay (StepLR), MultiStepDecay (MultiStepLR),
//                           Exponential (ExponentialLR)
//   schedule/ramp.hpp       ConstantFactor (ConstantLR), LinearFactor (LinearLR),
//                           Polynomial (PolynomialLR)
//   schedule/cosine.hpp     CosineAnnealing (CosineAnnealingLR), CosineWarmRestarts
//                           (CosineAnnealingWarmRestarts), WarmupCosine
//   schedule/cyclic.hpp     Cyclic (CyclicLR)
//   schedule/one_cycle.hpp  OneCycle (OneCycleLR)
//   schedule/compose.hpp    Sequence (SequentialLR), Chained (ChainedScheduler)
//   schedule/plateau.hpp    ReduceOnPlateau (ReduceLROnPlateau)
//
// All of them check their arguments when constructed and throw std::invalid_argument
// (descent::InvalidArgument) naming the one that is wrong. docs/schedules.md has the table.

#include <descent/optim/schedule/compose.hpp>
#include <descent/optim/schedule/cosine.hpp>
#include <descent/optim/schedule/cyclic.hpp>
#include <descent/optim/schedule/function.hpp>
#include <descent/optim/schedule/one_cycle.hpp>
#include <descent/optim/schedule/plateau.hpp>
#include <descent/optim/schedule/ramp.hpp>
#include <descent/optim/schedule/step.hpp>

/// Learning-rate schedules: functions of the 0-based step, and ReduceOnPlateau.
namespace descent::schedule {}
