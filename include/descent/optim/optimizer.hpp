#pragma once
// The runtime layer: pick an optimizer by name ("adam", "learning_rate=0.01,beta2=0.99") for
// command lines and tuning, and let it own many tensors in parameter groups, like PyTorch's
// torch.optim.Optimizer with its param_groups and state_dict.
//
//   parameter.hpp           Parameter, parameter(): the tensors it updates
//   runtime_optimizer.hpp   Optimizer: groups, step, clipping, state_dict
//   registry.hpp            make_optimizer, register_optimizer, optimizer_names
//   concept.hpp             StepOptimizer: what an optimizer class must provide

#include <descent/optim/concept.hpp>
#include <descent/optim/parameter.hpp>
#include <descent/optim/registry.hpp>
#include <descent/optim/runtime_optimizer.hpp>
