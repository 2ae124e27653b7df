#pragma once
// descent's data module: IDX (MNIST) and CSV readers, Dataset (samples as columns), loaders,
// scalers, a seeded train/validation split, shuffled mini-batches and an allocation-free gather.

#include <descent/data/csv.hpp>
#include <descent/data/dataset.hpp>
#include <descent/data/error.hpp>
#include <descent/data/idx.hpp>
