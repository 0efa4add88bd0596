/* nodes.c - pgpool's view of its backends (SHOW POOL_NODES) agrees with what each node says in
 * SQL: roles, status, versions, streaming standbys. */
#include "deadline.h"
#include "pool.h"

#include <stdlib.h>
#include <string.h>

/* Every descriptor node is listed once, up, with the role SQL gives it.
 * Broken variants that fail it: backend_hostname0 pointing at a standby (pgpool calls a node in
 * recovery "primary" only if it is); a node listed down or missing; a duplicated backend. */
static void test_roles_agree_with_sql(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_pool_node p[PGC_MAX_NODES];
	int idx[PGC_MAX_NODES], seen[PGC_MAX_NODES] = {0}, n, primaries = 0;
	char err[512];

	n = pp_pool_nodes(t, p, idx, 5000, err, sizeof(err));
	PGC_ASSERT(n >= 0, "pgpool (%s:%d): SHOW POOL_NODES: %s", t->d.pooler.host,
		   t->d.pooler.port, err);
	PGC_ASSERT(n == t->d.nnodes, "SHOW POOL_NODES lists %d backends, the descriptor %d nodes",
		   n, t->d.nnodes);
	for (int i = 0; i < n; i++) {
		int rec;

		PGC_ASSERT(idx[i] >= 0,
			   "SHOW POOL_NODES lists host %s, which no descriptor node is", p[i].host);
		PGC_ASSERT(!seen[idx[i]], "SHOW POOL_NODES lists node %s twice",
			   t->d.nodes[idx[i]].name);
		seen[idx[i]] = 1;
		PGC_ASSERT(!strcmp(p[i].status, "up") || !strcmp(p[i].status, "waiting"),
			   "node %s: expected pgpool status up, SHOW POOL_NODES says %s",
			   t->d.nodes[idx[i]].name, p[i].status);
		rec = pp_in_recovery(t, idx[i], err, sizeof(err));
		PGC_ASSERT(rec >= 0, "node %s: pg_is_in_recovery(): %s", t->d.nodes[idx[i]].name,
			   err);
		PGC_ASSERT(!strcmp(p[i].role, rec ? "standby" : "primary"),
			   "node %s: pg_is_in_recovery() = %s but SHOW POOL_NODES role is %s",
			   t->d.nodes[idx[i]].name, rec ? "t" : "f", p[i].role);
		primaries += !rec;
	}
	PGC_ASSERT(primaries == 1, "expected exactly one primary by SQL, found %d", primaries);
}

/* Every node runs the claimed major version, and the same full version.
 * Broken variant: one node built from another major (PG_MAJOR=16 on a standby cannot stream
 * from 17, so also a minor drift: an image rebuilt on one node only). */
static void test_versions_match_claim(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	char first[16] = "";

	for (int i = 0; i < t->d.nnodes; i++) {
		const struct pgc_node *n = &t->d.nodes[i];
		PGconn *c = pgc_safe_connect(t, n->name, &n->postgres, NULL);
		char v[16];
		long num;

		pgc_safe_query(c, n->name, "SHOW server_version_num", v, sizeof(v));
		PQfinish(c);
		num = atol(v);
		PGC_ASSERT(num / 10000 == t->d.postgres_major,
			   "node %s: expected PostgreSQL %d, server_version_num is %s", n->name,
			   t->d.postgres_major, v);
		if (!first[0])
			pgc_fmt(first, sizeof(first), "%s", v);
		PGC_ASSERT(!strcmp(first, v),
			   "node %s: server_version_num %s differs from node %s's %s", n->name, v,
			   t->d.nodes[0].name, first);
	}
	pgc_rec_metric("server_version_num", atol(first), "");
}

struct streaming {
	struct pgc_topology *t;
	int standbys;
};

static int standbys_streaming_step(void *arg, char *obs, size_t len)
{
	struct streaming *w = arg;
	struct pgc_pool_node p[PGC_MAX_NODES];
	char err[512];
	int n = pp_pool_nodes(w->t, p, NULL, 2000, err, sizeof(err)), ok = 0;

	if (n < 0) {
		pgc_fmt(obs, len, "%s", err);
		return 0;
	}
	obs[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t used = strlen(obs);

		if (!strcmp(p[i].role, "primary"))
			continue;
		pgc_fmt(obs + used, len - used, "%s%s \"%s\"", used ? ", " : "", p[i].host,
			p[i].replication_state);
		ok += !strcmp(p[i].replication_state, "streaming");
	}
	w->standbys = ok;
	return ok == w->t->d.nnodes - 1;
}

/* pgpool's streaming-replication check sees both standbys streaming (it lags by sr_check_period,
 * so poll up to 15 s). Broken variants: primary_conninfo without application_name (pgpool cannot
 * match the standby in pg_stat_replication and leaves replication_state empty); sr_check_period
 * = 0; a standby that does not stream. */
static void test_standbys_streaming(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct streaming w = {t, 0};
	char err[1024];
	int64_t t0 = pgc_now_us();

	if (pgc_wait_for("SHOW POOL_NODES to list every standby streaming", 15000, 500,
			 standbys_streaming_step, &w, err, sizeof(err)))
		PGC_FAIL("expected %d standbys with replication_state streaming: %s",
			 t->d.nnodes - 1, err);
	pgc_rec_metric("streaming_seen_ms", (pgc_now_us() - t0) / 1000.0, "ms");
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_roles_agree_with_sql),
    PGC_CHECK_TEST(test_versions_match_claim),
    PGC_CHECK_TEST(test_standbys_streaming),
};

const struct pgc_suite pgc_suite_pool_nodes = {
    .name = "pool-nodes",
    .kinds = 1 << PGC_PGPOOL,
    .summary = "SHOW POOL_NODES roles/status agree with SQL; claimed major everywhere; standbys "
	       "streaming",
    .tests = PGC_TESTS(tests),
};
