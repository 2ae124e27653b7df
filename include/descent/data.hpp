#pragma once
// descent's data module: IDX (MNIST) and CSV readers, Dataset (samples as columns), loaders,
// scalers, a seeded train/validation split, shuffled mini-batches and an allocation-free gather.

#include <descent/data/batches.hpp>
#include <descent/data/csv.hpp>
#include <descent/data/dataset.hpp>
#include <descent/data/error.hpp>
#include <descent/data/idx.hpp>
#include <descent/data/loaders.hpp>
#include <descent/data/scaling.hpp>
#include <descent/data/validation_split.hpp>
