# Unit tests (Check): one executable per tests/test_*.c, label "unit".
file(GLOB PGC_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/test_*.c)
foreach(src ${PGC_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE pgcsuites pgcfixtures pgcreports PkgConfig::CHECK)
  add_test(NAME unit:${name} COMMAND ${name})
  set_tests_properties(unit:${name} PROPERTIES LABELS unit
    ENVIRONMENT "PGC_SOURCE_DIR=${CMAKE_SOURCE_DIR};PGC_BINARY_DIR=${CMAKE_BINARY_DIR};CK_DEFAULT_TIMEOUT=60")
endforeach()

# System tests: each topology is a ctest fixture (brought up once by `pgconform up`, torn down
# by `pgconform down`); each suite is one test that attaches to it. `ctest -L patroni` alone
# brings Patroni up, runs its suites and tears it down.
set(PGC_RESULTS ${CMAKE_BINARY_DIR}/results)

# pgc_topology_tests(NAME KIND MAJOR SUITE[:destructive]...)
function(pgc_topology_tests name kind major)
  add_test(NAME setup:${name} COMMAND pgconform -q up ${name})
  set_tests_properties(setup:${name} PROPERTIES FIXTURES_SETUP ${name}
    LABELS "${kind};pg${major};${name}" RESOURCE_LOCK docker-ports TIMEOUT 900)
  # one topology at a time: they publish fixed ports on 127.0.0.1
  get_property(prev GLOBAL PROPERTY PGC_LAST_CLEANUP)
  if(prev)
    set_tests_properties(setup:${name} PROPERTIES DEPENDS ${prev})
  endif()
  set_property(GLOBAL PROPERTY PGC_LAST_CLEANUP cleanup:${name})
  add_test(NAME cleanup:${name} COMMAND pgconform -q down ${name})
  set_tests_properties(cleanup:${name} PROPERTIES FIXTURES_CLEANUP ${name}
    LABELS "${kind};pg${major};${name}" RESOURCE_LOCK docker-ports TIMEOUT 300)
  foreach(entry ${ARGN})
    string(REPLACE ":" ";" parts ${entry})
    list(GET parts 0 suite)
    set(labels "${kind};pg${major};${name}")
    list(LENGTH parts n)
    if(n GREATER 1)
      list(APPEND labels destructive)
    endif()
    add_test(NAME ${name}:${suite}
      COMMAND pgconform run --attach --allow-destructive ${name} --suite ${suite}
              --results ${PGC_RESULTS}/${name}-${suite})
    set_tests_properties(${name}:${suite} PROPERTIES FIXTURES_REQUIRED ${name}
      RESOURCE_LOCK ${name} LABELS "${labels}" TIMEOUT 1200)
  endforeach()
endfunction()

set(PGC_COMMON_SUITES connect tls crud:destructive)
foreach(major 15 16 17)
  pgc_topology_tests(standalone-${major} standalone ${major} ${PGC_COMMON_SUITES})
endforeach()
include(${CMAKE_SOURCE_DIR}/ctest/topologies.cmake OPTIONAL)

# No leaks under any exit (signals during up and run, SIGKILL then reap, a failing compose).
add_executable(system_leaks ${CMAKE_SOURCE_DIR}/tests/system_leaks.c)
target_link_libraries(system_leaks PRIVATE pgcfixtures PkgConfig::CHECK)
add_test(NAME leaks:signals COMMAND system_leaks)
set_tests_properties(leaks:signals PROPERTIES LABELS "leaks;standalone" TIMEOUT 900
  RESOURCE_LOCK docker-ports
  ENVIRONMENT "PGC_SOURCE_DIR=${CMAKE_SOURCE_DIR};PGC_BINARY_DIR=${CMAKE_BINARY_DIR}")
get_property(prev GLOBAL PROPERTY PGC_LAST_CLEANUP)
if(prev)
  set_tests_properties(leaks:signals PROPERTIES DEPENDS ${prev})
endif()
set_property(GLOBAL PROPERTY PGC_LAST_CLEANUP leaks:signals)

# Flake run: the fastest topology, healthy, its suites three times; pass rates and spread.
add_test(NAME flake:standalone-17
  COMMAND pgconform run standalone-17 --repeat 3 --results ${PGC_RESULTS}/flake)
set_tests_properties(flake:standalone-17 PROPERTIES LABELS "flake;standalone;pg17"
  RESOURCE_LOCK docker-ports TIMEOUT 900 DEPENDS leaks:signals)
set_property(GLOBAL PROPERTY PGC_LAST_CLEANUP flake:standalone-17)

# Negative variants: each deliberately broken topology must be caught by exactly the checks it
# targets (`pgconform variant`); a variant that is not caught fails the build.
file(GLOB PGC_VARIANTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/variants/*.json)
foreach(variant ${PGC_VARIANTS})
  get_filename_component(vname ${variant} NAME_WE)
  string(REGEX MATCH "^[a-z]+" vkind ${vname})
  add_test(NAME negative:${vname}
    COMMAND pgconform -q variant --results ${PGC_RESULTS}/negative ${variant})
  get_property(prev GLOBAL PROPERTY PGC_LAST_CLEANUP)
  set_tests_properties(negative:${vname} PROPERTIES LABELS "negative;${vkind}"
    RESOURCE_LOCK docker-ports TIMEOUT 1200)
  if(prev)
    set_tests_properties(negative:${vname} PROPERTIES DEPENDS ${prev})
  endif()
  set_property(GLOBAL PROPERTY PGC_LAST_CLEANUP negative:${vname})
endforeach()


# Style: clang-format is part of the tests.
add_test(NAME lint:clang-format COMMAND make -C ${CMAKE_SOURCE_DIR} lint)
set_tests_properties(lint:clang-format PROPERTIES LABELS "unit;lint")

