#pragma once
// descent's io module: checkpoints (a network, its optimizer's state and a Trainer's position in
// one checked, atomically written file), an optimizer's state on its own, and NumPy .npy export
// of the weights.

#include <descent/io/checkpoint.hpp>
#include <descent/io/error.hpp>
#include <descent/io/file.hpp>
#include <descent/io/npy.hpp>
#include <descent/io/optimizer_state.hpp>
