/* roles.c - Patroni roles and health: one leader; REST /primary, /replica and /health on every
 * node agree with SQL; replicas stream on the leader's timeline. */
#include "patroni.h"
#include "suite.h"

#include <stdlib.h>
#include <string.h>

static void member_or_fail(struct pgc_topology *t, int i, struct pgc_patroni_member *m)
{
	if (pgc_patroni_member(t, &t->d.nodes[i], m))
		PGC_FAIL("node %s: REST /patroni did not answer: %s", t->d.nodes[i].name, m->error);
}

/* Broken variant that fails it: a second cluster scope on one node (two leaders). */
static void test_exactly_one_leader(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	char leaders[256] = "";
	int n = 0;

	for (int i = 0; i < t->d.nnodes; i++) {
		struct pgc_patroni_member m;

		member_or_fail(t, i, &m);
		if (!strcmp(m.role, "primary")) {
			n++;
			strncat(leaders, m.name, sizeof(leaders) - strlen(leaders) - 2);
			strcat(leaders, " ");
		}
	}
	PGC_ASSERT(n == 1, "expected exactly one node with role primary, found %d (%s)", n,
		   leaders);
}

/* Broken variant that fails it: HAProxy checks against a node whose REST API lies (nofailover
 * tags do not change these codes, but a node with a wrong role does). */
static void test_rest_codes_agree_with_sql(void **state)
{
	struct pgc_topology *t = pgc_topo(state);

	for (int i = 0; i < t->d.nnodes; i++) {
		const struct pgc_node *n = &t->d.nodes[i];
		PGconn *c = pgc_safe_connect(t, n->name, &n->postgres, NULL);
		char rec[8], err[512];
		long primary = 0, replica = 0, health = 0;
		int is_primary;

		pgc_safe_query(c, n->name, "SELECT pg_is_in_recovery()", rec, sizeof(rec));
		PQfinish(c);
		is_primary = !strcmp(rec, "f");
		if (pgc_patroni_rest(t, n, "GET", "/primary", NULL, 2000, &primary, NULL, err,
				     sizeof(err)) ||
		    pgc_patroni_rest(t, n, "GET", "/replica", NULL, 2000, &replica, NULL, err,
				     sizeof(err)) ||
		    pgc_patroni_rest(t, n, "GET", "/health", NULL, 2000, &health, NULL, err,
				     sizeof(err)))
			PGC_FAIL("node %s: REST API: %s", n->name, err);
		PGC_ASSERT(primary == (is_primary ? 200 : 503),
			   "node %s: pg_is_in_recovery() = %s but GET /primary answers %ld",
			   n->name, rec, primary);
		PGC_ASSERT(replica == (is_primary ? 503 : 200),
			   "node %s: pg_is_in_recovery() = %s but GET /replica answers %ld",
			   n->name, rec, replica);
		PGC_ASSERT(health == 200, "node %s: PostgreSQL runs but GET /health answers %ld",
			   n->name, health);
	}
}

/* Broken variant that fails it: a replica whose primary_conninfo points nowhere. */
static void test_replicas_stream_on_leader_timeline(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_patroni_member m[PGC_MAX_NODES];
	int leader = -1;

	for (int i = 0; i < t->d.nnodes; i++) {
		member_or_fail(t, i, &m[i]);
		if (!strcmp(m[i].role, "primary"))
			leader = i;
	}
	PGC_ASSERT(leader >= 0, "no node reports role primary");
	for (int i = 0; i < t->d.nnodes; i++) {
		const struct pgc_node *n = &t->d.nodes[i];
		char st[32];
		PGconn *c;

		if (i == leader)
			continue;
		PGC_ASSERT(m[i].timeline == m[leader].timeline,
			   "replica %s is on timeline %d, leader %s on %d", n->name, m[i].timeline,
			   m[leader].name, m[leader].timeline);
		c = pgc_safe_connect(t, n->name, &n->postgres, NULL);
		pgc_safe_query(c, n->name,
			       "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')",
			       st, sizeof(st));
		PQfinish(c);
		PGC_ASSERT(!strcmp(st, "streaming"),
			   "replica %s: expected its WAL receiver streaming, it is %s", n->name,
			   st);
	}
	pgc_rec_metric("timeline", m[leader].timeline, "");
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_exactly_one_leader),
    PGC_CHECK_TEST(test_rest_codes_agree_with_sql),
    PGC_CHECK_TEST(test_replicas_stream_on_leader_timeline),
};

const struct pgc_suite pgc_suite_roles = {
    .name = "roles",
    .kinds = 1 << PGC_PATRONI,
    .summary = "one leader; REST role endpoints agree with SQL; replicas stream on its "
	       "timeline",
    .tests = PGC_TESTS(tests),
};
