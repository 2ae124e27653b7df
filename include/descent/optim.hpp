#pragma once
// descent's optimizers: the thirteen classes behind one step interface, the runtime layer that
// picks them by name, learning-rate schedules and gradient clipping.

#include <descent/optim/adadelta.hpp>
#include <descent/optim/adagrad.hpp>
#include <descent/optim/adam.hpp>
#include <descent/optim/adamax.hpp>
#include <descent/optim/asgd.hpp>
#include <descent/optim/clip.hpp>
#include <descent/optim/momentum.hpp>
#include <descent/optim/nadam.hpp>
#include <descent/optim/nesterov.hpp>
#include <descent/optim/optimizer.hpp>
#include <descent/optim/radam.hpp>
#include <descent/optim/rmsprop.hpp>
#include <descent/optim/rprop.hpp>
#include <descent/optim/schedule.hpp>
#include <descent/optim/sgd.hpp>
