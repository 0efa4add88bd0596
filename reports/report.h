/* report.h - the regression report over a history of results JSON files: what changed since the
 * previous run (newly failing and fixed checks, component versions) and metric trends with
 * regressions flagged. */
#ifndef PGC_REPORTS_REPORT_H
#define PGC_REPORTS_REPORT_H
#include <stddef.h>

/* Reads every *.json in history_dir (results of schema pgconform-results/1; unreadable files are
 * listed in the report and on stderr, not fatal), orders the runs by "started", and writes
 * out_dir/report.html (self-contained: inline CSS and SVG, no scripts, works offline) and
 * out_dir/summary.md (for $GITHUB_STEP_SUMMARY). out_dir is created if missing.
 * A metric is a REGRESSION when its latest value > threshold x the median of its values in the
 * previous `window` runs that have it (larger is worse; medians <= 0 never flag).
 * Returns 0, or -1 with err naming the folder or file and the cause (also when no run is
 * readable). Blocks on file I/O only. */
int pgc_report_write(const char *history_dir, const char *out_dir, double threshold, int window,
		     char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
