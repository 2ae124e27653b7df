#pragma once
// Pruners stop unpromising trials early, from the values trials report per step (epochs, for a
// network). A pruner sees the trial that asks and every trial of the study as stored now. One
// header each under pruners/, all of them here:
//
//   NopPruner                never prunes (pruners/pruner.hpp, with the Pruner interface)
//   MedianPruner             behind the completed trials' median at the same step
//   SuccessiveHalvingPruner  asynchronous successive halving (ASHA): the top 1/eta of each rung
//   HyperbandPruner          successive halving in several brackets, from eager to patient
//   ThresholdPruner          the latest value outside fixed bounds, or NaN
//   PatientPruner            another pruner's verdict, only once the trial stopped improving

#include <descent/tune/pruners/hyperband.hpp>
#include <descent/tune/pruners/median.hpp>
#include <descent/tune/pruners/patient.hpp>
#include <descent/tune/pruners/pruner.hpp>
#include <descent/tune/pruners/successive_halving.hpp>
#include <descent/tune/pruners/threshold.hpp>
