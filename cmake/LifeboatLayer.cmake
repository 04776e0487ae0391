# lifeboat_layer(NAME DIR DEPS <targets...> LIBS <external...>)
#
# Declares one layer of the engine as a static library `lifeboat_NAME` built from the
# non-test sources in the calling folder (and its sub-folders), and a unit-test binary
# `NAME_unit_test` from the `*_test.cc` files beside them, registered with CTest under the
# label `unit`. A layer may only name layers below it in DEPS (DESIGN.md section 6).
function(lifeboat_layer name)
  cmake_parse_arguments(ARG "" "" "DEPS;LIBS;TEST_LIBS" ${ARGN})
  file(GLOB_RECURSE all_sources CONFIGURE_DEPENDS
       "${CMAKE_CURRENT_SOURCE_DIR}/*.cc")
  set(sources ${all_sources})
  list(FILTER sources EXCLUDE REGEX "_test\\.cc$")
  set(tests ${all_sources})
  list(FILTER tests INCLUDE REGEX "_test\\.cc$")
  if(sources)
    add_library(lifeboat_${name} STATIC ${sources})
    set(scope PUBLIC)
  else()  # a layer with headers only so far
    add_library(lifeboat_${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  target_include_directories(lifeboat_${name}
    ${scope} ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(lifeboat_${name} ${scope} ${ARG_DEPS} ${ARG_LIBS})
  if(tests)
    add_executable(${name}_unit_test ${tests})
    target_link_libraries(${name}_unit_test PRIVATE lifeboat_${name} ${ARG_TEST_LIBS}
                          GTest::gtest GTest::gmock GTest::gtest_main)
    add_test(NAME ${name}_unit_test COMMAND ${name}_unit_test)
    add_dependencies(unit_tests ${name}_unit_test)
    set_tests_properties(${name}_unit_test PROPERTIES LABELS unit TIMEOUT 300)
  endif()
endfunction()
