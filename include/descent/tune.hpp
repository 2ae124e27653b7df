#pragma once
// descent::tune: hyperparameter search with studies, samplers (grid, random, TPE, portfolios),
// pruners (median, ASHA, Hyperband, threshold, patience) and storages (memory, SQLite, and
// PostgreSQL when built with libpq, see open_storage.hpp). Link descent::tune (it brings SQLite);
// descent.hpp does not include it.

#include <descent/tune/distributions.hpp>
#include <descent/tune/frozen_trial.hpp>
#include <descent/tune/open_storage.hpp>
#include <descent/tune/portfolio.hpp>
#include <descent/tune/pruners.hpp>
#include <descent/tune/samplers.hpp>
#include <descent/tune/sqlite_storage.hpp>
#include <descent/tune/storage.hpp>
#include <descent/tune/study.hpp>
#include <descent/tune/tpe.hpp>
