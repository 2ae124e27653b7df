// descent::compiled, the networks: Sequential (the layers' forward and backward passes) and the
// Trainer (its loop) of float and double. See optim.cpp.
#include <descent/nn/sequential.hpp>
#include <descent/nn/trainer.hpp>

template class descent::nn::Sequential<float>;
template class descent::nn::Sequential<double>;
template class descent::nn::Trainer<float>;
template class descent::nn::Trainer<double>;
