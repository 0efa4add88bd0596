/* results.h - the results of one run: topologies, component versions, checks, metrics.
 * Written as results JSON (schema "pgconform-results/1", see RESULTS.md) and read back for the
 * regression report. */
#ifndef PGC_RESULTS_H
#define PGC_RESULTS_H
#include "secret.h"

#include <cjson/cJSON.h>
#include <stddef.h>

enum pgc_status { PGC_PASSED = 0, PGC_FAILED = 1, PGC_SKIPPED = 2 };

struct pgc_metric {
	char name[64];
	double value;
	char unit[16];
};

struct pgc_check {
	char topology[64];
	char suite[64];
	char name[96];
	enum pgc_status status;
	double duration_s;
	char message[1024]; /* failure message or skip reason */
	struct pgc_metric *metrics;
	int nmetrics;
	char *evidence; /* malloc'd or NULL */
};

struct pgc_component {
	char name[48]; /* "postgresql node1", "patroni node1", "etcd etcd1", "haproxy", "pgpool" */
	char version[128];
};

struct pgc_topology_result {
	char name[64];
	char kind[16];
	char status[16]; /* "up", "failed to start", "attached" */
	char message[512];
	struct pgc_component *components;
	int ncomponents;
};

struct pgc_run {
	char run_id[64];
	char started[32]; /* ISO 8601 UTC */
	char finished[32];
	char commit[64];
	char host[128];
	struct pgc_topology_result *topologies;
	int ntopologies;
	struct pgc_check *checks;
	int nchecks;
};

struct pgc_run *pgc_run_new(const char *run_id);
void pgc_run_free(struct pgc_run *r);
struct pgc_topology_result *pgc_run_topology(struct pgc_run *r, const char *name, const char *kind);
void pgc_topology_add_component(struct pgc_topology_result *t, const char *name,
				const char *version);
/* Copies c (and its metrics/evidence) into r. */
void pgc_run_add_check(struct pgc_run *r, const struct pgc_check *c);
void pgc_run_counts(const struct pgc_run *r, int *passed, int *failed, int *skipped);

cJSON *pgc_run_to_json(const struct pgc_run *r);
int pgc_run_from_json(const cJSON *j, struct pgc_run **out, char *err, size_t errlen);
int pgc_run_write(const struct pgc_run *r, const char *path, char *err, size_t errlen);
int pgc_run_read(const char *path, struct pgc_run **out, char *err, size_t errlen);

/* Added functions (contracts in RESULTS.md terms):
 * pgc_status_name: "passed", "failed" or "skipped" (static string).
 * pgc_run_to_json: every string is redacted (secret.h); non-finite numbers become null.
 * pgc_run_from_json / pgc_run_read: 0 with *out (free with pgc_run_free), or -1 with err naming
 * the key ("checks[2].status: must be passed, failed or skipped"); pgc_run_read prefixes the
 * file. pgc_run_write writes atomically (temp file + rename). */
const char *pgc_status_name(enum pgc_status s);

#endif
