# Installs descent into a temporary prefix, then builds and runs, as outside projects that only
# know `find_package(descent CONFIG)`: every README/docs snippet (tests/consumer), and an
# optimizer-only program with zlib and SQLite out of reach (tests/consumer/optim_only). Then
# configures docs/getting-started.md's CMakeLists.txt as written.
# Inputs: BINARY_DIR (descent's build tree), WORK_DIR, EXTRACT (extract_snippets), MARKDOWN (list),
# COMPILED (descent was built with -DDESCENT_COMPILED=ON: the snippets link descent::compiled).

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
set(package_dir ${prefix}/share/cmake/descent)
if(NOT EXISTS ${package_dir}/descentConfig.cmake)
  message(FATAL_ERROR "install did not write share/cmake/descent/descentConfig.cmake")
endif()
# Relocatable: the exported targets name their dependencies (found again by descentConfig.cmake
# on the user's machine), never a header or library path of this one.
file(GLOB exports ${package_dir}/descent*-targets.cmake)
foreach(export ${exports})
  file(STRINGS ${export} paths REGEX "/usr/|libpq|postgresql")
  if(paths)
    message(FATAL_ERROR "${export} holds paths of the install machine:\n${paths}")
  endif()
endforeach()

string(REPLACE "|" ";" markdown "${MARKDOWN}")
run(${EXTRACT} ${WORK_DIR}/snippets ${markdown})
message(STATUS "extracted ${last_output}")

run(${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR} -B ${WORK_DIR}/build
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} -DSNIPPET_DIR=${WORK_DIR}/snippets
    -DWITH_COMPILED=${COMPILED})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)

file(GLOB snippets ${WORK_DIR}/snippets/*.cpp)
foreach(src ${snippets})
  get_filename_component(name ${src} NAME_WE)
  run(${WORK_DIR}/build/${name})
  message(STATUS "${name} ran")
  if(EXISTS ${WORK_DIR}/build/${name}_header_only)
    run(${WORK_DIR}/build/${name}_header_only)
    message(STATUS "${name}_header_only ran")
  endif()
endforeach()

# Unoptimized (no build type): it only has to compile, link and take one step.
run(${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/optim_only -B ${WORK_DIR}/optim_only
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_DISABLE_FIND_PACKAGE_ZLIB=ON
    -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/optim_only)
run(${WORK_DIR}/optim_only/optim_only)
message(STATUS "${last_output}")

# docs/getting-started.md's ```cmake block, as written, with no build type given: it finds descent
# and picks Release (configured only: its program is built above as a snippet).
list(FILTER markdown INCLUDE REGEX "getting-started\\.md$")
file(READ "${markdown}" text)
if(NOT text MATCHES "```cmake\n([^`]*)```")
  message(FATAL_ERROR "no ```cmake block in ${markdown}")
endif()
file(WRITE ${WORK_DIR}/getting_started/CMakeLists.txt "${CMAKE_MATCH_1}")
file(WRITE ${WORK_DIR}/getting_started/main.cpp "int main() {}\n")
run(${CMAKE_COMMAND} -S ${WORK_DIR}/getting_started -B ${WORK_DIR}/getting_started/build
    -DCMAKE_PREFIX_PATH=${prefix})
file(STRINGS ${WORK_DIR}/getting_started/build/CMakeCache.txt type REGEX "^CMAKE_BUILD_TYPE:")
if(NOT type MATCHES "=Release$")
  message(FATAL_ERROR "getting-started.md's CMakeLists.txt builds with '${type}', not Release")
endif()
