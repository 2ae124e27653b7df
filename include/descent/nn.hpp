#pragma once
// descent's network module: layers, activations, dropout, losses, Sequential and the Trainer.

#include <descent/nn/activation.hpp>
#include <descent/nn/callbacks.hpp>
#include <descent/nn/history.hpp>
#include <descent/nn/layers.hpp>
#include <descent/nn/loss.hpp>
#include <descent/nn/network.hpp>
#include <descent/nn/sequential.hpp>
#include <descent/nn/trainer.hpp>
