/* cmd_bench.c - pgconform bench: the speed goals, measured (not timed tests).
 *
 * Per topology: image build with nothing changed, time from `up` to healthy, idle memory of its
 * containers, the write prober's achieved period. With --full: wall time of `run all` and the
 * suites' own overhead against their inherent waits. Each measurement is a check "bench/<name>"
 * in bench/results.json and bench/junit.xml, passed when within its target; a miss says by how
 * much. Exit 1 when a target is missed. */
#include "deadline.h"
#include "docker.h"
#include "junit.h"
#include "log.h"
#include "probe.h"
#include "results.h"
#include "runner.h"
#include "secret.h"
#include "state.h"
#include "topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int missed;

/* Records one measurement against a target (lower is better). */
static void measure(struct pgc_run *run, const char *topology, const char *name, double value,
		    const char *unit, double target)
{
	struct pgc_check c;
	struct pgc_metric m[2];

	memset(&c, 0, sizeof(c));
	pgc_fmt(c.topology, sizeof(c.topology), "%s", topology);
	pgc_fmt(c.suite, sizeof(c.suite), "bench");
	pgc_fmt(c.name, sizeof(c.name), "%s", name);
	pgc_fmt(m[0].name, sizeof(m[0].name), "%s", name);
	m[0].value = value;
	pgc_fmt(m[0].unit, sizeof(m[0].unit), "%s", unit);
	pgc_fmt(m[1].name, sizeof(m[1].name), "target");
	m[1].value = target;
	pgc_fmt(m[1].unit, sizeof(m[1].unit), "%s", unit);
	c.metrics = m;
	c.nmetrics = 2;
	if (value > target) {
		c.status = PGC_FAILED;
		pgc_fmt(c.message, sizeof(c.message),
			"%s %.1f %s misses the target %.1f %s by %.1f %s", name, value, unit,
			target, unit, value - target, unit);
		missed++;
	}
	pgc_run_add_check(run, &c);
	printf("  %-14s %-22s %10.1f %-4s target %8.1f %s\n", topology, name, value, unit, target,
	       value > target ? "MISSED" : "ok");
}

static double memory_mib(struct pgc_topology *t)
{
	char label[128], err[256];
	cJSON *list = NULL, *c;
	double sum = 0;

	pgc_fmt(label, sizeof(label), "io.pgconform.project=%s", t->d.project);
	if (pgc_docker_list(t->docker, "containers", label, &list, err, sizeof(err)))
		return -1;
	cJSON_ArrayForEach(c, list)
	{
		const cJSON *id = cJSON_GetObjectItem(c, "Id");
		uint64_t bytes = 0;

		if (cJSON_IsString(id) &&
		    pgc_docker_memory(t->docker, id->valuestring, &bytes, err, sizeof(err)) == 0)
			sum += bytes / 1048576.0;
	}
	cJSON_Delete(list);
	return sum;
}

static double healthy_target(const struct pgc_topology *t)
{
	return t->d.kind == PGC_PATRONI ? 20000 : t->d.kind == PGC_PGPOOL ? 10000 : 5000;
}

static int bench_topology(struct pgc_run *run, const char *name, double *memory)
{
	struct pgc_topology *t = NULL;
	char path[1024], err[2048];
	int64_t t0;
	int r;

	if (pgc_resolve_topology(name, path, sizeof(path), err, sizeof(err)) ||
	    pgc_topology_open(path, &t, err, sizeof(err))) {
		fprintf(stderr, "pgconform: %s.\n", err);
		return PGC_EXIT_USAGE;
	}
	pgc_secret_foreach(pgc_report_secret);
	r = pgc_topology_up(t, err, sizeof(err));
	if (r) {
		fprintf(stderr, "pgconform: %s: %s.\n", name, err);
		pgc_topology_free(t);
		missed++;
		return r == -2 ? PGC_EXIT_USAGE : PGC_EXIT_FAILED;
	}
	measure(run, name, "time_to_healthy_ms", t->healthy_ms, "ms", healthy_target(t));
	/* a second build with nothing changed */
	t0 = pgc_now_us();
	if (pgc_topology_build(t, err, sizeof(err)) == 0)
		measure(run, name, "warm_build_s", (pgc_now_us() - t0) / 1e6, "s", 10);
	*memory = memory_mib(t);
	measure(run, name, "idle_memory_mib", *memory, "MiB", 1024);
	{
		struct pgc_probe *p = NULL;
		const struct pgc_hostport *ep = t->d.rw.port ? &t->d.rw : &t->d.front;

		if (pgc_probe_start(t, ep, 100, 1000, &p, err, sizeof(err)) == 0) {
			int64_t until = pgc_now_us() + 5000000;

			while (pgc_now_us() < until && !pgc_interrupted)
				pgc_pause_ms(100);
			pgc_probe_stop(p);
			measure(run, name, "probe_period_ms", pgc_probe_mean_period_ms(p), "ms",
				100.5);
			pgc_probe_free(p);
		}
	}
	pgc_topology_down(t, err, sizeof(err));
	pgc_topology_free(t);
	return 0;
}

/* run all in a child, timed; overhead from its results. */
static void bench_full(struct pgc_run *run, const char *dir)
{
	char results[1200], path[1300], err[512];
	struct pgc_run *r = NULL;
	int64_t t0 = pgc_now_us();
	double dur = 0, waited = 0;
	pid_t pid;
	int st = 0;

	pgc_fmt(results, sizeof(results), "%s/full", dir);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "pgconform", "-q", "run", "all", "--results", results,
		      (char *)NULL);
		_exit(127);
	}
	pgc_signal_forward_to(pid);
	waitpid(pid, &st, 0);
	measure(run, "all", "full_run_s", (pgc_now_us() - t0) / 1e6, "s", 300);
	pgc_fmt(path, sizeof(path), "%s/results.json", results);
	if (pgc_run_read(path, &r, err, sizeof(err)))
		return;
	for (int i = 0; i < r->nchecks; i++) {
		dur += r->checks[i].duration_s;
		for (int m = 0; m < r->checks[i].nmetrics; m++)
			if (!strcmp(r->checks[i].metrics[m].name, "waited"))
				waited += r->checks[i].metrics[m].value;
	}
	if (waited > 0)
		measure(run, "all", "suite_overhead_ratio", (dur - waited) / waited, "x", 1.3);
	pgc_run_free(r);
}

int cmd_bench(int argc, char **argv)
{
	const char *dir = "results/bench";
	const char *names[16];
	int n = 0, full = 0, rc = 0;
	double memory_total = 0;
	struct pgc_run *run;
	char path[1200], err[512];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--full"))
			full = 1;
		else if (!strcmp(argv[i], "--results") && i + 1 < argc)
			dir = argv[++i];
		else if (argv[i][0] == '-') {
			fprintf(stderr, "pgconform: bench: unknown option \"%s\".\n", argv[i]);
			return PGC_EXIT_USAGE;
		} else if (n < 15) {
			if (pgc_resolve_topology(argv[i], path, sizeof(path), err, sizeof(err))) {
				fprintf(stderr, "pgconform: %s.\n", err);
				return PGC_EXIT_USAGE;
			}
			names[n++] = argv[i];
		}
	}
	if (n == 0)
		for (; pgc_all_topologies[n]; n++)
			names[n] = pgc_all_topologies[n];
	if (pgc_mkdirs(dir)) {
		fprintf(stderr, "pgconform: cannot create %s.\n", dir);
		return PGC_EXIT_USAGE;
	}
	run = pgc_run_new("bench");
	printf("pgconform bench (targets from the issue; lower is better)\n");
	for (int i = 0; i < n && !pgc_interrupted; i++) {
		double mem = 0;
		int r = bench_topology(run, names[i], &mem);

		if (r == PGC_EXIT_USAGE) {
			rc = r;
			break;
		}
		/* the standalone versions run one at a time; count the largest */
		memory_total += strncmp(names[i], "standalone", 10) ? mem : 0;
	}
	{
		double standalone = 0;

		for (int i = 0; i < run->nchecks; i++)
			if (!strncmp(run->checks[i].topology, "standalone", 10) &&
			    !strcmp(run->checks[i].name, "idle_memory_mib") &&
			    run->checks[i].metrics[0].value > standalone)
				standalone = run->checks[i].metrics[0].value;
		measure(run, "all", "idle_memory_all_mib", memory_total + standalone, "MiB", 1024);
	}
	if (full && !pgc_interrupted)
		bench_full(run, dir);
	pgc_fmt(path, sizeof(path), "%s/results.json", dir);
	if (pgc_run_write(run, path, err, sizeof(err)))
		fprintf(stderr, "pgconform: %s.\n", err);
	pgc_fmt(path, sizeof(path), "%s/junit.xml", dir);
	if (pgc_junit_write(run, path, err, sizeof(err)))
		fprintf(stderr, "pgconform: %s.\n", err);
	pgc_run_free(run);
	printf("bench: %d target(s) missed; results in %s/results.json\n", missed, dir);
	if (rc)
		return rc;
	return pgc_interrupted ? PGC_EXIT_INTERRUPTED : missed ? PGC_EXIT_FAILED : 0;
}
