# The API reference: `cmake --build build --target docs` writes build/docs/api/html/index.html
# (scripts/api_docs.sh installs Doxygen and does this). Only the public headers: detail/ folders
# and detail namespaces are internals. Every public name must be documented: an undocumented one
# is a warning, and any warning fails the target (after all of them are listed).
find_package(Doxygen)
if(NOT DOXYGEN_FOUND)
  message(STATUS "Doxygen not found: no 'docs' target (sudo apt-get install doxygen)")
  return()
endif()

set(DOXYGEN_PROJECT_NAME descent)
set(DOXYGEN_PROJECT_BRIEF "${PROJECT_DESCRIPTION}")
set(DOXYGEN_PROJECT_NUMBER ${PROJECT_VERSION})
set(DOXYGEN_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/docs/api)
set(DOXYGEN_FILE_PATTERNS *.hpp)
set(DOXYGEN_RECURSIVE YES)
set(DOXYGEN_EXCLUDE_PATTERNS */detail/*)
set(DOXYGEN_EXCLUDE_SYMBOLS detail *::detail *::detail::*)
set(DOXYGEN_STRIP_FROM_INC_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_JAVADOC_AUTOBRIEF YES)  # "/// First sentence." is the brief description
set(DOXYGEN_EXTRACT_ALL NO)         # so that undocumented names are reported, not hidden
set(DOXYGEN_WARN_IF_UNDOCUMENTED YES)
set(DOXYGEN_WARN_NO_PARAMDOC NO)    # a sentence about the arguments is enough; no @param each
set(DOXYGEN_WARN_AS_ERROR FAIL_ON_WARNINGS)
set(DOXYGEN_PREDEFINED "__has_include(x)=1")  # document the PostgreSQL storage, libpq or not
set(DOXYGEN_HAVE_DOT NO)
set(DOXYGEN_GENERATE_LATEX NO)
set(DOXYGEN_QUIET YES)
doxygen_add_docs(docs ${PROJECT_SOURCE_DIR}/include/descent
                 COMMENT "API reference -> ${PROJECT_BINARY_DIR}/docs/api/html/index.html")
