/* junit.h - a run as JUnit XML (the Jenkins/Ant dialect; tests/junit.xsd describes it) for CI
 * test-result viewers. */
#ifndef PGC_REPORTS_JUNIT_H
#define PGC_REPORTS_JUNIT_H
#include <stddef.h>

struct pgc_run;

/* Writes path (atomically: temp file + rename): <testsuites> with one <testsuite> per
 * "topology.suite" in order of first appearance, one <testcase classname="topology.suite"> per
 * check, <failure type="assertion">, <skipped>, metrics as testcase <properties> ("value unit"),
 * evidence as <system-out> on failures. Text is redacted (secret.h), made valid UTF-8 without
 * control characters, and escaped. Returns 0, or -1 with err naming path and cause. */
int pgc_junit_write(const struct pgc_run *r, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
