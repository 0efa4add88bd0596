/* recorder.c - the current check of the suite's thread: clock, status, metrics, evidence. */
#include "recorder.h"
#include "results.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* At most this many metrics are shown on a PASS/FAIL line; the rest as "+N". */
#define LINE_METRICS 4

static struct pgc_run *attached;
static int quiet;
static int active;
static struct pgc_check cur;
static struct timespec t0;

void pgc_rec_attach(struct pgc_run *run)
{
	attached = run;
}

void pgc_rec_set_quiet(int q)
{
	quiet = q;
}

static void reset(void)
{
	free(cur.metrics);
	free(cur.evidence);
	memset(&cur, 0, sizeof(cur));
	active = 0;
}

void pgc_rec_begin(const char *topology, const char *suite, const char *check)
{
	if (active)
		pgc_rec_end(); /* an unfinished check is recorded, not lost */
	reset();
	snprintf(cur.topology, sizeof(cur.topology), "%s", topology ? topology : "");
	snprintf(cur.suite, sizeof(cur.suite), "%s", suite ? suite : "");
	snprintf(cur.name, sizeof(cur.name), "%s", check ? check : "");
	active = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
}

void pgc_rec_metric(const char *name, double value, const char *unit)
{
	struct pgc_metric *m = NULL, *bigger;

	if (!name || !name[0])
		return;
	for (int i = 0; i < cur.nmetrics; i++)
		if (strncmp(cur.metrics[i].name, name, sizeof(m->name) - 1) == 0)
			m = &cur.metrics[i];
	if (!m) {
		bigger = realloc(cur.metrics, (cur.nmetrics + 1) * sizeof(*bigger));
		if (!bigger)
			return;
		cur.metrics = bigger;
		m = &cur.metrics[cur.nmetrics++];
		snprintf(m->name, sizeof(m->name), "%s", name);
	}
	m->value = value;
	snprintf(m->unit, sizeof(m->unit), "%s", unit ? unit : "");
}

void pgc_rec_fail(const char *fmt, ...)
{
	va_list ap;

	if (cur.status == PGC_FAILED)
		return;
	cur.status = PGC_FAILED;
	va_start(ap, fmt);
	vsnprintf(cur.message, sizeof(cur.message), fmt, ap);
	va_end(ap);
}

void pgc_rec_skip(const char *reason)
{
	if (cur.status == PGC_FAILED)
		return;
	cur.status = PGC_SKIPPED;
	snprintf(cur.message, sizeof(cur.message), "%s", reason ? reason : "");
}

void pgc_rec_evidence(const char *text)
{
	size_t have = cur.evidence ? strlen(cur.evidence) : 0, add;
	char *bigger;

	if (!text || !text[0])
		return;
	add = strlen(text);
	bigger = realloc(cur.evidence, have + add + 2);
	if (!bigger)
		return;
	cur.evidence = bigger;
	memcpy(cur.evidence + have, text, add + 1);
	if (text[add - 1] != '\n') {
		cur.evidence[have + add] = '\n';
		cur.evidence[have + add + 1] = '\0';
	}
}

int pgc_rec_failed(void)
{
	return cur.status == PGC_FAILED;
}

/* Short form of a value: integers (and everything >= 100) without decimals, else 3 digits. */
static void short_value(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
	else if (fabs(v) >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
}

/* " [a=1 b=2.5 +3]" or "" */
static void metric_list(char *buf, size_t len)
{
	int shown = cur.nmetrics < LINE_METRICS ? cur.nmetrics : LINE_METRICS;
	size_t off = 0;

	buf[0] = '\0';
	if (!shown)
		return;
	for (int i = 0; i < shown && off < len; i++) {
		char v[32];

		short_value(v, sizeof(v), cur.metrics[i].value);
		off += snprintf(buf + off, len - off, "%s%s=%s", i ? " " : " [",
				cur.metrics[i].name, v);
	}
	if (cur.nmetrics > shown && off < len)
		off += snprintf(buf + off, len - off, " +%d", cur.nmetrics - shown);
	if (off < len)
		snprintf(buf + off, len - off, "]");
}

static void print_line(void)
{
	char metrics[400], line[1800], *red;
	const char *word = cur.status == PGC_PASSED   ? "PASS"
			   : cur.status == PGC_FAILED ? "FAIL"
						      : "SKIP";

	if (cur.status == PGC_SKIPPED) {
		snprintf(line, sizeof(line), "  SKIP %s/%s: %s", cur.suite, cur.name, cur.message);
	} else {
		metric_list(metrics, sizeof(metrics));
		snprintf(line, sizeof(line), "  %s %s/%s (%.2f s)%s%s%s", word, cur.suite, cur.name,
			 cur.duration_s, metrics, cur.status == PGC_FAILED ? ": " : "",
			 cur.status == PGC_FAILED ? cur.message : "");
	}
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	red = pgc_report_redact(line);
	printf("%s\n", red ? red : "  (out of memory)");
	fflush(stdout);
	free(red);
}

int pgc_rec_end(void)
{
	struct timespec t1;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	cur.duration_s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!active)
		cur.duration_s = 0;
	status = cur.status;
	if (!quiet)
		print_line();
	if (attached)
		pgc_run_add_check(attached, &cur);
	reset();
	return status;
}
