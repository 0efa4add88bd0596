/* run.c - pgconform run: bring topologies up (in parallel where their ports allow), run their
 * suites, tear them down, write results JSON and JUnit XML. */
#include "deadline.h"
#include "engine.h"
#include "junit.h"
#include "kinds.h"
#include "log.h"
#include "results.h"
#include "runner.h"
#include "secret.h"
#include "state.h"
#include "suite.h"
#include "topology.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TOPOLOGIES 16

struct opts {
	const char *suite;
	const char *check;
	const char *results;
	const char *descriptor;
	int keep, attach, allow_destructive, repeat;
	int n;
	char paths[MAX_TOPOLOGIES][1024];
	struct pgc_descriptor d[MAX_TOPOLOGIES];
};

static void iso_now(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void add_component(void *arg, const char *name, const char *version)
{
	pgc_topology_add_component(arg, name, version);
}

/* A check outside any suite (bring-up), recorded like the others. */
static void record_setup(struct pgc_run *part, const char *topology, int ok, const char *msg,
			 long healthy_ms)
{
	struct pgc_check c;
	struct pgc_metric m;

	memset(&c, 0, sizeof(c));
	pgc_fmt(c.topology, sizeof(c.topology), "%s", topology);
	pgc_fmt(c.suite, sizeof(c.suite), "setup");
	pgc_fmt(c.name, sizeof(c.name), "bring_up");
	c.status = ok ? PGC_PASSED : PGC_FAILED;
	c.duration_s = healthy_ms / 1000.0;
	pgc_fmt(c.message, sizeof(c.message), "%s", msg ? msg : "");
	pgc_redact(c.message);
	if (ok && healthy_ms >= 0) {
		pgc_fmt(m.name, sizeof(m.name), "time_to_healthy_ms");
		m.value = healthy_ms;
		pgc_fmt(m.unit, sizeof(m.unit), "ms");
		c.metrics = &m;
		c.nmetrics = 1;
	}
	pgc_run_add_check(part, &c);
	printf("  %s %s setup/bring_up%s%s\n", ok ? "PASS" : "FAIL", topology, ok ? "" : ": ",
	       ok ? "" : c.message);
}

/* Runs one topology: up (or attach), suites (repeat times), down. Returns 0, 1 (a check
 * failed), 2 (setup error). */
static int run_topology(struct opts *o, int k, struct pgc_run *part, const char *xml_dir)
{
	struct pgc_topology *t = NULL;
	struct pgc_topology_result *tr;
	char err[2048];
	int rc = 0, r;

	if (pgc_topology_open(o->paths[k], &t, err, sizeof(err))) {
		fprintf(stderr, "pgconform: %s.\n", err);
		return PGC_EXIT_USAGE;
	}
	/* what fixtures know to be secret, reports must not write */
	pgc_secret_foreach(pgc_report_secret);
	tr = pgc_run_topology(part, t->d.name, pgc_kind_name(t->d.kind));
	printf("== %s (%s, PostgreSQL %d)\n", t->d.name, pgc_kind_name(t->d.kind),
	       t->d.postgres_major);
	fflush(stdout);
	if (o->attach) {
		t->attached = 1;
		t->destructive_ok = o->allow_destructive;
		r = pgc_topology_wait_healthy(t, 30000, err, sizeof(err));
		pgc_fmt(tr->status, sizeof(tr->status), "attached");
		record_setup(part, t->d.name, r == 0, r ? err : NULL, -1);
		if (r) {
			pgc_fmt(tr->message, sizeof(tr->message), "%s", err);
			rc = PGC_EXIT_FAILED;
			goto out;
		}
	} else {
		pgc_state_claim(t->d.project, 0);
		r = pgc_topology_up(t, err, sizeof(err));
		if (r == -2) {
			fprintf(stderr, "pgconform: %s: %s.\n", t->d.name, err);
			pgc_fmt(tr->status, sizeof(tr->status), "failed to start");
			pgc_fmt(tr->message, sizeof(tr->message), "%s", err);
			rc = PGC_EXIT_USAGE;
			goto out;
		}
		pgc_fmt(tr->status, sizeof(tr->status), r ? "failed to start" : "up");
		record_setup(part, t->d.name, r == 0, r ? err : NULL, t->healthy_ms);
		if (r) {
			pgc_fmt(tr->message, sizeof(tr->message), "%s", err);
			pgc_redact(tr->message);
			rc = PGC_EXIT_FAILED;
			goto out;
		}
		t->destructive_ok = !t->attached || o->allow_destructive;
	}
	pgc_topology_versions(t, add_component, tr);
	for (int it = 0; it < o->repeat && !pgc_interrupted; it++) {
		if (o->repeat > 1)
			printf("-- %s: iteration %d of %d\n", t->d.name, it + 1, o->repeat);
		for (int i = 0; pgc_all_suites[i] && !pgc_interrupted; i++) {
			const struct pgc_suite *s = pgc_all_suites[i];
			char dir[1200];

			if (!(s->kinds & (1 << t->d.kind)))
				continue;
			if (o->suite && strcmp(o->suite, s->name))
				continue;
			pgc_fmt(dir, sizeof(dir), "%s/%d", xml_dir, it + 1);
			mkdir(dir, 0755);
			pgc_rec_attach(part);
			if (pgc_suite_run(s, t, o->check, dir))
				rc = PGC_EXIT_FAILED;
			pgc_rec_attach(NULL);
			fflush(stdout);
		}
	}
out:
	if (!o->attach && !o->keep && !t->attached) {
		if (pgc_topology_down(t, err, sizeof(err)))
			fprintf(stderr, "pgconform: %s: tearing down: %s.\n", t->d.name, err);
	} else if (o->keep && !o->attach) {
		pgc_state_claim(t->d.project, 1);
		printf("%s kept running (--keep); `pgconform down %s` removes it\n", t->d.name,
		       t->d.name);
	}
	pgc_topology_free(t);
	return rc;
}

/* Two topologies conflict when they publish the same loopback port. */
static int conflict(const struct pgc_descriptor *a, const struct pgc_descriptor *b)
{
	const struct pgc_hostport *pa[5 + PGC_MAX_NODES], *pb[5 + PGC_MAX_NODES];
	int na = 0, nb = 0;

	if (!strcmp(a->project, b->project))
		return 1;
	pa[na++] = &a->rw, pa[na++] = &a->ro, pa[na++] = &a->front, pa[na++] = &a->pooler,
	pa[na++] = &a->stats;
	pb[nb++] = &b->rw, pb[nb++] = &b->ro, pb[nb++] = &b->front, pb[nb++] = &b->pooler,
	pb[nb++] = &b->stats;
	for (int i = 0; i < a->nnodes; i++)
		pa[na++] = &a->nodes[i].postgres;
	for (int i = 0; i < b->nnodes; i++)
		pb[nb++] = &b->nodes[i].postgres;
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			if (pa[i]->port && pa[i]->port == pb[j]->port &&
			    !strcmp(pa[i]->host, pb[j]->host))
				return 1;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {{"suite", required_argument, NULL, 's'},
					      {"check", required_argument, NULL, 'c'},
					      {"results", required_argument, NULL, 'r'},
					      {"descriptor", required_argument, NULL, 'd'},
					      {"repeat", required_argument, NULL, 'n'},
					      {"keep", no_argument, NULL, 'k'},
					      {"attach", no_argument, NULL, 'a'},
					      {"allow-destructive", no_argument, NULL, 'x'},
					      {NULL, 0, NULL, 0}};
	char err[1024];
	int ch;

	memset(o, 0, sizeof(*o));
	o->repeat = 1;
	o->results = "results";
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->suite = optarg;
			break;
		case 'c':
			o->check = optarg;
			break;
		case 'r':
			o->results = optarg;
			break;
		case 'd':
			o->descriptor = optarg;
			break;
		case 'n': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 1000) {
				fprintf(stderr,
					"pgconform: --repeat needs a count from 1 to 1000, "
					"not \"%s\".\n",
					optarg);
				return -1;
			}
			o->repeat = (int)v;
			break;
		}
		case 'k':
			o->keep = 1;
			break;
		case 'a':
			o->attach = 1;
			break;
		case 'x':
			o->allow_destructive = 1;
			break;
		default:
			fprintf(stderr,
				"pgconform: run: unknown or incomplete option \"%s\" (see "
				"pgconform --help).\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (o->descriptor) {
		if (!o->attach) {
			fprintf(stderr, "pgconform: --descriptor is for --attach; to bring a "
					"descriptor up, name its file as the topology.\n");
			return -1;
		}
		pgc_fmt(o->paths[o->n++], 1024, "%s", o->descriptor);
	}
	for (int i = optind; i < argc; i++) {
		const char *const *names = (const char *const[]){argv[i], NULL};

		if (!strcmp(argv[i], "all"))
			names = pgc_all_topologies;
		for (; *names; names++) {
			if (o->n >= MAX_TOPOLOGIES) {
				fprintf(stderr, "pgconform: too many topologies.\n");
				return -1;
			}
			if (pgc_resolve_topology(*names, o->paths[o->n], 1024, err, sizeof(err))) {
				fprintf(stderr, "pgconform: %s.\n", err);
				return -1;
			}
			o->n++;
		}
	}
	if (o->n == 0) {
		fprintf(stderr, "pgconform: run needs a topology, \"all\" or --attach --descriptor "
				"FILE.\n");
		return -1;
	}
	if (o->suite) {
		int found = 0;

		for (int i = 0; pgc_all_suites[i]; i++)
			found |= !strcmp(pgc_all_suites[i]->name, o->suite);
		if (!found) {
			fprintf(stderr, "pgconform: unknown suite \"%s\" (see pgconform list).\n",
				o->suite);
			return -1;
		}
	}
	/* every descriptor is validated before anything starts */
	for (int i = 0; i < o->n; i++)
		if (pgc_descriptor_load(o->paths[i], &o->d[i], err, sizeof(err))) {
			fprintf(stderr, "pgconform: %s.\n", err);
			return -1;
		}
	return 0;
}

static int prepare_dir(const char *dir, char *err, size_t errlen)
{
	char sub[1200];

	if (pgc_mkdirs(dir)) {
		pgc_fmt(err, errlen, "cannot create results folder %s: %s", dir, strerror(errno));
		return -1;
	}
	pgc_fmt(sub, sizeof(sub), "%s/cmocka", dir);
	pgc_remove_tree(sub);
	mkdir(sub, 0755);
	pgc_fmt(sub, sizeof(sub), "%s/parts", dir);
	pgc_remove_tree(sub);
	mkdir(sub, 0755);
	return 0;
}

/* Runs a lane (topologies in sequence) and writes its part file; returns the worst status. */
static int run_lane(struct opts *o, const int *members, int n, const char *part_path)
{
	struct pgc_run *part = pgc_run_new("part");
	char xml[1200], err[1024];
	int worst = 0;

	for (int i = 0; i < n && !pgc_interrupted; i++) {
		int r;

		pgc_fmt(xml, sizeof(xml), "%s/cmocka/%s", o->results, o->d[members[i]].name);
		mkdir(xml, 0755);
		r = run_topology(o, members[i], part, xml);
		if (r == PGC_EXIT_USAGE || (r && worst != PGC_EXIT_USAGE))
			worst = r;
	}
	if (pgc_run_write(part, part_path, err, sizeof(err)))
		fprintf(stderr, "pgconform: %s.\n", err);
	pgc_run_free(part);
	return pgc_interrupted ? PGC_EXIT_INTERRUPTED : worst;
}

/* Per-check pass rate and metric spread over the repeats. */
static void print_flake_table(const struct pgc_run *r, int repeat)
{
	printf("\nFlake run: %d repeats; per-check pass rate and metric spread\n", repeat);
	for (int i = 0; i < r->nchecks; i++) {
		const struct pgc_check *c = &r->checks[i];
		int seen = 0, pass = 0, skipped = 0;

		for (int j = 0; j < i; j++)
			if (!strcmp(r->checks[j].topology, c->topology) &&
			    !strcmp(r->checks[j].suite, c->suite) &&
			    !strcmp(r->checks[j].name, c->name))
				seen = 1;
		if (seen || !strcmp(c->suite, "setup"))
			continue;
		int total = 0;
		for (int j = i; j < r->nchecks; j++) {
			const struct pgc_check *x = &r->checks[j];

			if (strcmp(x->topology, c->topology) || strcmp(x->suite, c->suite) ||
			    strcmp(x->name, c->name))
				continue;
			total++;
			pass += x->status == PGC_PASSED;
			skipped += x->status == PGC_SKIPPED;
		}
		printf("  %-14s %-10s %-42s %3d/%-3d passed%s", c->topology, c->suite, c->name,
		       pass, total - skipped, skipped ? " (skipped)" : "");
		for (int m = 0; m < c->nmetrics; m++) {
			double lo = INFINITY, hi = -INFINITY;

			if (!strcmp(c->metrics[m].name, "waited"))
				continue;
			for (int j = i; j < r->nchecks; j++) {
				const struct pgc_check *x = &r->checks[j];

				if (strcmp(x->topology, c->topology) ||
				    strcmp(x->suite, c->suite) || strcmp(x->name, c->name))
					continue;
				for (int q = 0; q < x->nmetrics; q++)
					if (!strcmp(x->metrics[q].name, c->metrics[m].name)) {
						lo = fmin(lo, x->metrics[q].value);
						hi = fmax(hi, x->metrics[q].value);
					}
			}
			printf(" %s=%g..%g", c->metrics[m].name, lo, hi);
		}
		printf("\n");
	}
}

int cmd_run(int argc, char **argv)
{
	static struct opts o;
	int lane_of[MAX_TOPOLOGIES], nlanes = 0, started = 0, rc = 0;
	int pids[MAX_TOPOLOGIES];
	char err[2048], path[1200];
	struct pgc_run *run;
	int passed, failed, skipped;

	if (parse(argc, argv, &o))
		return PGC_EXIT_USAGE;
	if (pgc_engine_ensure(&started, err, sizeof(err))) {
		fprintf(stderr, "pgconform: %s.\n", err);
		return PGC_EXIT_USAGE;
	}
	if (prepare_dir(o.results, err, sizeof(err))) {
		fprintf(stderr, "pgconform: %s.\n", err);
		return PGC_EXIT_USAGE;
	}
	{
		char id[64], stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		FILE *git;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		pgc_fmt(id, sizeof(id), "%s-%d", stamp, (int)getpid());
		run = pgc_run_new(id);
		gethostname(run->host, sizeof(run->host) - 1);
		pgc_fmt(path, sizeof(path), "git -C '%s' rev-parse HEAD 2>/dev/null",
			pgc_source_dir());
		git = popen(path, "r");
		if (git) {
			if (fgets(run->commit, sizeof(run->commit), git))
				run->commit[strcspn(run->commit, "\n")] = '\0';
			pclose(git);
		}
	}
	iso_now(run->started, sizeof(run->started));
	setenv("PGC_RUN_ID", run->run_id, 1);
	/* lanes: topologies that share a port run one after the other */
	for (int i = 0; i < o.n; i++) {
		lane_of[i] = -1;
		for (int j = 0; j < i && lane_of[i] < 0; j++)
			if (conflict(&o.d[i], &o.d[j]))
				lane_of[i] = lane_of[j];
		if (lane_of[i] < 0)
			lane_of[i] = nlanes++;
	}
	for (int l = 0; l < nlanes; l++) {
		int members[MAX_TOPOLOGIES], n = 0;

		for (int i = 0; i < o.n; i++)
			if (lane_of[i] == l)
				members[n++] = i;
		pgc_fmt(path, sizeof(path), "%s/parts/lane-%d.json", o.results, l);
		if (nlanes == 1) {
			pids[l] = 0;
			rc = run_lane(&o, members, n, path);
			continue;
		}
		fflush(stdout);
		fflush(stderr);
		pids[l] = fork();
		if (pids[l] == 0) {
			/* stdout of lanes interleaves by line */
			setvbuf(stdout, NULL, _IOLBF, 0);
			_exit(run_lane(&o, members, n, path));
		}
		if (pids[l] < 0) {
			fprintf(stderr, "pgconform: cannot fork: %s.\n", strerror(errno));
			return PGC_EXIT_USAGE;
		}
		pgc_signal_forward_to(pids[l]);
	}
	for (int l = 0; l < nlanes; l++) {
		int st = 0, r;

		if (!pids[l])
			continue;
		while (waitpid(pids[l], &st, 0) < 0 && errno == EINTR)
			;
		r = WIFEXITED(st) ? WEXITSTATUS(st) : PGC_EXIT_FAILED;
		if (r == PGC_EXIT_USAGE || r == PGC_EXIT_INTERRUPTED || (r && !rc))
			rc = r;
	}
	/* merge the lanes' parts */
	for (int l = 0; l < nlanes; l++) {
		struct pgc_run *part = NULL;

		pgc_fmt(path, sizeof(path), "%s/parts/lane-%d.json", o.results, l);
		if (pgc_run_read(path, &part, err, sizeof(err))) {
			fprintf(stderr, "pgconform: %s.\n", err);
			rc = rc ? rc : PGC_EXIT_FAILED;
			continue;
		}
		for (int i = 0; i < part->ntopologies; i++) {
			struct pgc_topology_result *src = &part->topologies[i];
			struct pgc_topology_result *dst =
			    pgc_run_topology(run, src->name, src->kind);

			pgc_fmt(dst->status, sizeof(dst->status), "%s", src->status);
			pgc_fmt(dst->message, sizeof(dst->message), "%s", src->message);
			for (int c = 0; c < src->ncomponents; c++)
				pgc_topology_add_component(dst, src->components[c].name,
							   src->components[c].version);
		}
		for (int i = 0; i < part->nchecks; i++)
			pgc_run_add_check(run, &part->checks[i]);
		pgc_run_free(part);
	}
	iso_now(run->finished, sizeof(run->finished));
	pgc_fmt(path, sizeof(path), "%s/results.json", o.results);
	if (pgc_run_write(run, path, err, sizeof(err)))
		fprintf(stderr, "pgconform: %s.\n", err);
	pgc_fmt(path, sizeof(path), "%s/junit.xml", o.results);
	if (pgc_junit_write(run, path, err, sizeof(err)))
		fprintf(stderr, "pgconform: %s.\n", err);
	pgc_run_counts(run, &passed, &failed, &skipped);
	if (o.repeat > 1)
		print_flake_table(run, o.repeat);
	printf("\n%d passed, %d failed, %d skipped; results in %s/results.json and "
	       "%s/junit.xml\n",
	       passed, failed, skipped, o.results, o.results);
	if (failed && !rc)
		rc = PGC_EXIT_FAILED;
	pgc_run_free(run);
	if (started)
		pgc_engine_release();
	if (pgc_interrupted)
		return PGC_EXIT_INTERRUPTED;
	return rc;
}
