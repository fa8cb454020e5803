# resmeter_library(NAME DIR DEPS...): a static library of every .cc in DIR
# (main.cc excluded) that links DEPS publicly. Its include root is a folder
# in the build tree holding one symlink, DIR -> the source folder, so its
# users write `#include "DIR/file.h"` and nothing above or beside DIR is
# reachable through it: an include of a library not among the (transitive)
# dependencies fails to compile.
set(RESMETER_LAYERS "" CACHE INTERNAL "")
function(resmeter_library name dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.cc)
  list(FILTER srcs EXCLUDE REGEX "/main\\.cc$")
  set(root ${CMAKE_BINARY_DIR}/include_roots/${name})
  get_filename_component(parent ${root}/${dir} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  if(NOT EXISTS ${root}/${dir})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${dir} ${root}/${dir} SYMBOLIC)
  endif()
  if(srcs)
    add_library(${name} STATIC ${srcs})
    target_include_directories(${name} PUBLIC ${root})
    target_link_libraries(${name} PUBLIC ${ARGN})
  else()  # headers only
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${root})
    target_link_libraries(${name} INTERFACE ${ARGN})
  endif()
  # For scripts/check_layering.py: "name dir dep dep ..." (resmeter_* deps only).
  set(deps "")
  foreach(d ${ARGN})
    if(d MATCHES "^resmeter_")
      list(APPEND deps ${d})
    endif()
  endforeach()
  list(JOIN deps " " deps_text)
  set(RESMETER_LAYERS "${RESMETER_LAYERS}${name} ${dir} ${deps_text}\n" CACHE INTERNAL "")
endfunction()

# Writes the declared libraries to <build>/layers.txt for the layering check.
function(resmeter_write_layers)
  file(WRITE ${CMAKE_BINARY_DIR}/layers.txt "${RESMETER_LAYERS}")
  set(RESMETER_LAYERS "" CACHE INTERNAL "")
endfunction()
