/* lifecycle.c - list, up, down, status, reap. */
#include "deadline.h"
#include "engine.h"
#include "log.h"
#include "runner.h"
#include "state.h"
#include "suite.h"
#include "topology.h"

#include <stdio.h>
#include <string.h>

static int open_named(const char *name, struct pgc_topology **t)
{
	char path[1024], err[1024];

	if (pgc_resolve_topology(name, path, sizeof(path), err, sizeof(err)) ||
	    pgc_topology_open(path, t, err, sizeof(err))) {
		fprintf(stderr, "pgconform: %s.\n", err);
		return -1;
	}
	return 0;
}

static void print_claims(const struct pgc_descriptor *d)
{
	printf("  %-16s %-10s PostgreSQL %d; failover %s, pooling %s, load balancing %s, "
	       "replication %s, tls %s\n",
	       d->name, pgc_kind_name(d->kind), d->postgres_major,
	       !d->automatic_failover.set    ? "-"
	       : d->automatic_failover.value ? "yes"
					     : "no",
	       !d->pooling.set    ? "-"
	       : d->pooling.value ? "yes"
				  : "no",
	       !d->load_balancing.set    ? "-"
	       : d->load_balancing.value ? "yes"
					 : "no",
	       d->replication_set ? pgc_replication_name(d->replication) : "-",
	       d->tls_set ? pgc_tls_name(d->tls) : "-");
}

int cmd_list(int argc, char **argv)
{
	static const char *const names[] = {"standalone-15", "standalone-16",  "standalone-17",
					    "patroni",       "patroni-strict", "pgpool"};

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "pgconform: list takes no arguments.\n");
		return PGC_EXIT_USAGE;
	}
	printf("Topologies (claims; - = not claimed):\n");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[1024], err[1024];
		struct pgc_descriptor d;

		if (pgc_resolve_topology(names[i], path, sizeof(path), err, sizeof(err)) ||
		    pgc_descriptor_load(path, &d, err, sizeof(err)))
			printf("  %-16s (unavailable: %s)\n", names[i], err);
		else
			print_claims(&d);
	}
	printf("\nSuites:\n");
	for (int i = 0; pgc_all_suites[i]; i++) {
		const struct pgc_suite *s = pgc_all_suites[i];
		char kinds[64] = "";

		if (s->kinds == PGC_ALL_KINDS)
			pgc_fmt(kinds, sizeof(kinds), "all");
		else
			pgc_fmt(kinds, sizeof(kinds), "%s%s%s",
				s->kinds & (1 << PGC_STANDALONE) ? "standalone " : "",
				s->kinds & (1 << PGC_PATRONI) ? "patroni " : "",
				s->kinds & (1 << PGC_PGPOOL) ? "pgpool" : "");
		printf("  %-12s [%s]%s %s\n", s->name, kinds, s->destructive ? " destructive" : "",
		       s->summary);
		for (size_t k = 0; k < s->ntests; k++)
			printf("      %s\n", s->tests[k].name);
	}
	return 0;
}

int cmd_up(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "pgconform: up needs a topology (see pgconform list).\n");
		return PGC_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		struct pgc_topology *t = NULL;
		char err[2048];
		int r;

		if (open_named(argv[i], &t))
			return PGC_EXIT_USAGE;
		r = pgc_topology_up(t, err, sizeof(err));
		if (r) {
			fprintf(stderr, "pgconform: %s: %s.\n", t->d.name, err);
			pgc_topology_free(t);
			if (pgc_interrupted)
				return PGC_EXIT_INTERRUPTED;
			return r == -2 ? PGC_EXIT_USAGE : PGC_EXIT_FAILED;
		}
		pgc_state_claim(t->d.project, 1);
		printf("%s is up and healthy (%.1f s)\n", t->d.name, t->healthy_ms / 1000.0);
		pgc_topology_free(t);
		if (pgc_interrupted)
			return PGC_EXIT_INTERRUPTED;
	}
	return rc;
}

int cmd_down(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "pgconform: down needs a topology or \"all\".\n");
		return PGC_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		const char *const *names = (const char *const[]){argv[i], NULL};
		const char *const with_strict[] = {"standalone-15",
						   "standalone-16",
						   "standalone-17",
						   "patroni",
						   "patroni-strict",
						   "pgpool",
						   NULL};

		if (!strcmp(argv[i], "all"))
			names = with_strict;
		for (; *names; names++) {
			struct pgc_topology *t = NULL;
			char err[2048];
			int started = 0;

			if (open_named(*names, &t))
				return PGC_EXIT_USAGE;
			if (pgc_engine_ensure(&started, err, sizeof(err))) {
				fprintf(stderr, "pgconform: %s.\n", err);
				pgc_topology_free(t);
				return PGC_EXIT_USAGE;
			}
			if (pgc_topology_down(t, err, sizeof(err))) {
				fprintf(stderr, "pgconform: %s: %s.\n", t->d.name, err);
				rc = PGC_EXIT_FAILED;
			} else if (!pgc_quiet) {
				printf("%s is down\n", t->d.name);
			}
			pgc_topology_free(t);
		}
	}
	pgc_engine_release();
	return rc;
}

int cmd_status(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "pgconform: status needs a topology.\n");
		return PGC_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		struct pgc_topology *t = NULL;
		char obs[1024] = "";
		int ok;

		if (open_named(argv[i], &t))
			return PGC_EXIT_USAGE;
		ok = pgc_topology_healthy_step(t, obs, sizeof(obs)) == 1;
		printf("%s: %s: %s\n", t->d.name, ok ? "healthy" : "not healthy", obs);
		if (!ok)
			rc = PGC_EXIT_FAILED;
		pgc_topology_free(t);
	}
	return rc;
}

int cmd_reap(int argc, char **argv)
{
	struct pgc_docker *d = NULL;
	char err[1024];
	int all = argc > 1 && !strcmp(argv[1], "--all"), started = 0, n;

	if (argc > 2 || (argc == 2 && !all)) {
		fprintf(stderr, "pgconform: reap takes only --all.\n");
		return PGC_EXIT_USAGE;
	}
	if (pgc_engine_ensure(&started, err, sizeof(err)) ||
	    pgc_docker_open(&d, err, sizeof(err))) {
		fprintf(stderr, "pgconform: %s.\n", err);
		return PGC_EXIT_USAGE;
	}
	n = pgc_reap(d, all);
	printf("reaper: removed %d resource(s)\n", n);
	pgc_docker_close(d);
	pgc_engine_release();
	return 0;
}
