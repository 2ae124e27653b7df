// descent::compiled, the optimizers: the registry of float and double with the thirteen built-in
// classes, whose runtime groups (the fused kernels of every class) are the heaviest templates
// a program that calls make_optimizer instantiates. The headers declare these `extern template`
// when DESCENT_COMPILED_LIB is defined (linking descent::compiled defines it).
#include <descent/optim/registry.hpp>

template class descent::detail::OptimizerRegistry<float>;
template class descent::detail::OptimizerRegistry<double>;
