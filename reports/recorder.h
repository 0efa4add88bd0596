/* recorder.h - the thin API a suite uses to record the current check's outcome, metrics and
 * evidence. Not thread-safe: call from the suite's thread only. */
#ifndef PGC_RECORDER_H
#define PGC_RECORDER_H

struct pgc_run;

/* Where finished checks go. NULL: nowhere (checks are still printed). */
void pgc_rec_attach(struct pgc_run *run);

/* Starts a check; the clock (CLOCK_MONOTONIC) starts here. */
void pgc_rec_begin(const char *topology, const char *suite, const char *check);

/* A metric of the current check (name unique per check; later values replace earlier ones). */
void pgc_rec_metric(const char *name, double value, const char *unit);

/* Marks the current check failed; only the first message is kept. */
void pgc_rec_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Marks the current check skipped with the reason. */
void pgc_rec_skip(const char *reason);

/* Evidence shown on failure (container log tails, last observations); appended. */
void pgc_rec_evidence(const char *text);

/* Ends the current check: status passed unless failed/skipped; adds it to the attached run and
 * prints one line "  PASS|FAIL|SKIP suite/check (1.23 s) message". Returns the status
 * (0 passed, 1 failed, 2 skipped). */
int pgc_rec_end(void);

/* Whether the current check has failed so far. */
int pgc_rec_failed(void);

/* Added: non-zero stops pgc_rec_end() from printing its line (checks are still recorded). */
void pgc_rec_set_quiet(int quiet);

#endif
