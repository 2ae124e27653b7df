#pragma once
// descent's network module: layers, activations, dropout, losses, Sequential and the Trainer
// (with its callbacks, history, progress display and fit position).

#include <descent/nn/activation.hpp>
#include <descent/nn/callbacks.hpp>
#include <descent/nn/fit_position.hpp>
#include <descent/nn/gradient_check.hpp>
#include <descent/nn/history.hpp>
#include <descent/nn/layers.hpp>
#include <descent/nn/loss.hpp>
#include <descent/nn/module.hpp>
#include <descent/nn/network.hpp>
#include <descent/nn/sequential.hpp>
#include <descent/nn/trainer.hpp>
