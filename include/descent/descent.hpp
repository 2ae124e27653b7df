#pragma once
// Everything descent offers. Users include this, or a module umbrella such as <descent/optim.hpp>.

#include <descent/data.hpp>
#include <descent/io.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
