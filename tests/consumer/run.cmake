# Installs descent into a temporary prefix, then builds and runs every README/docs snippet as an
# outside project that only knows `find_package(descent CONFIG)`.
# Inputs: BINARY_DIR (descent's build tree), WORK_DIR, EXTRACT (extract_snippets), MARKDOWN (list).

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
if(NOT EXISTS ${prefix}/share/cmake/descent/descentConfig.cmake)
  message(FATAL_ERROR "install did not write share/cmake/descent/descentConfig.cmake")
endif()

string(REPLACE "|" ";" markdown "${MARKDOWN}")
run(${EXTRACT} ${WORK_DIR}/snippets ${markdown})
message(STATUS "extracted ${last_output}")

run(${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR} -B ${WORK_DIR}/build
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} -DSNIPPET_DIR=${WORK_DIR}/snippets)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)

file(GLOB snippets ${WORK_DIR}/snippets/*.cpp)
foreach(src ${snippets})
  get_filename_component(name ${src} NAME_WE)
  run(${WORK_DIR}/build/${name})
  message(STATUS "${name} ran")
endforeach()
