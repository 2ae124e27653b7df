# What each optional part of descent needs beyond Eigen and Threads, in one place: read by
# descent's own CMakeLists.txt and by the installed package config, so a user's
# find_package(descent COMPONENTS ...) looks for a part's packages the same way descent's build
# does, and the installed targets carry no path of the machine descent was installed from.
#
#   data  <descent/data.hpp> (gzip-compressed IDX and CSV files) and the umbrella
#         <descent/descent.hpp>: zlib (Debian zlib1g-dev)
#   tune  <descent/tune.hpp>: SQLite 3 (libsqlite3-dev); PostgreSQL storage where libpq is found
#   compiled  descent::compiled, the static library of common instantiations: nothing more, but
#         only where descent was built and installed with -DDESCENT_COMPILED=ON

set(descent_all_components data tune)  # those with packages of their own

# Looks for what component <comp> needs; extra arguments (QUIET) go to find_package. Sets
# descent_<comp>_FOUND, and descent_<comp>_NEEDS to what is missing when it is false.
macro(descent_find_component_dependencies comp)
  if("${comp}" STREQUAL "data")
    find_package(ZLIB ${ARGN})
    set(descent_data_FOUND ${ZLIB_FOUND})
    set(descent_data_NEEDS "zlib (sudo apt-get install zlib1g-dev)")
  elseif("${comp}" STREQUAL "tune")
    find_package(SQLite3 ${ARGN})
    set(descent_tune_FOUND ${SQLite3_FOUND})
    set(descent_tune_NEEDS "SQLite 3 (sudo apt-get install libsqlite3-dev)")
    if(SQLite3_FOUND)
      descent_find_libpq()
    endif()
  endif()
endmacro()

# libpq for tune's PostgreSQL storage, found by hand: CMake's FindPostgreSQL also wants the
# server's headers. Defines the imported target descent::libpq (headers, library and
# DESCENT_TUNE_POSTGRESQL=1, which turns the storage on) when both are there.
macro(descent_find_libpq)
  find_path(DESCENT_LIBPQ_INCLUDE_DIR libpq-fe.h PATH_SUFFIXES postgresql)
  find_library(DESCENT_LIBPQ_LIBRARY pq)
  if(DESCENT_LIBPQ_INCLUDE_DIR AND DESCENT_LIBPQ_LIBRARY AND NOT TARGET descent::libpq)
    add_library(descent::libpq INTERFACE IMPORTED)
    set_target_properties(descent::libpq PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${DESCENT_LIBPQ_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${DESCENT_LIBPQ_LIBRARY}"
      INTERFACE_COMPILE_DEFINITIONS DESCENT_TUNE_POSTGRESQL=1)
  endif()
endmacro()
