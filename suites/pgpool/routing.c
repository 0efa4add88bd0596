/* routing.c - the HAProxy ports in front of pgpool: every write through RW (5100) runs on the
 * primary, standbys refuse writes, RO (5101) never reaches the primary and reaches every standby.
 */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

#define N_WRITES 50
#define N_RO     40

/* N_WRITES writes through RW, each on a new session (pgpool picks a load-balance node per
 * session, so a session whose reads would go to a standby is as likely as not), each returning
 * the identity of the server that executed it: all are the primary.
 * Broken variants: HAProxy RW pointing at a standby or round-robin over the nodes (the INSERT
 * fails with 25006, or returns a standby's identity); pgpool with backend0 a standby. */
static void test_writes_on_primary(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pp_ids ids;
	int primary = pp_primary(t), on_primary = 0;
	char v[128];
	PGconn *c;

	PGC_ASSERT(primary >= 0, "expected exactly one node not in recovery");
	PGC_ASSERT(pp_node_ids(t, &ids) == t->d.nnodes, "not every node answered directly");
	c = pgc_safe_connect(t, "RW port", &t->d.rw, NULL);
	pgc_safe_query(c, "RW port",
		       "CREATE TABLE IF NOT EXISTS pgc_route (n int, at text, "
		       "ts timestamptz DEFAULT now())",
		       NULL, 0);
	pgc_safe_query(c, "RW port", "TRUNCATE pgc_route", NULL, 0);
	PQfinish(c);
	for (int i = 0; i < N_WRITES; i++) {
		char sql[256], what[64];
		int at;

		pgc_fmt(what, sizeof(what), "RW port, write %d", i + 1);
		c = pgc_safe_connect(t, what, &t->d.rw, NULL);
		pgc_fmt(sql, sizeof(sql),
			"INSERT INTO pgc_route (n, at) VALUES (%d, " PP_ID_SQL ") RETURNING at", i);
		pgc_safe_query(c, what, sql, v, sizeof(v));
		PQfinish(c);
		at = pp_which(t, &ids, v);
		PGC_ASSERT(at == primary,
			   "%s: expected it to run on primary %s, it ran on %s (\"%s\")", what,
			   t->d.nodes[primary].name,
			   at >= 0 ? t->d.nodes[at].name : "an unknown node", v);
		on_primary++;
	}
	c = pgc_safe_connect(t, "RW port", &t->d.rw, NULL);
	pgc_safe_query(c, "RW port", "SELECT count(*) FROM pgc_route", v, sizeof(v));
	PQfinish(c);
	PGC_ASSERT(atoi(v) == N_WRITES, "RW port: %d writes acknowledged, %s rows in pgc_route",
		   N_WRITES, v);
	pgc_rec_metric("writes_on_primary", on_primary, "writes");
}

/* A write sent directly to each standby fails with SQLSTATE 25006 (read_only_sql_transaction).
 * Broken variant: a standby that was promoted or never configured as one (the CREATE succeeds),
 * and the seed's "any failure passes" (a missing table, 42P01, would now fail the check). */
static void test_standby_refuses_writes(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	int primary = pp_primary(t), standbys = 0;

	PGC_ASSERT(primary >= 0, "expected exactly one node not in recovery");
	for (int i = 0; i < t->d.nnodes; i++) {
		const struct pgc_node *n = &t->d.nodes[i];
		char st[6], err[1024];
		PGconn *c;
		int rc;

		if (i == primary)
			continue;
		c = pgc_safe_connect(t, n->name, &n->postgres, NULL);
		rc = pgc_pg_query(c, "CREATE TABLE pgc_standby_write (x int)", NULL, 0, st, err,
				  sizeof(err));
		PQfinish(c);
		PGC_ASSERT(rc != 0, "standby %s: expected a write to fail, CREATE TABLE succeeded",
			   n->name);
		PGC_ASSERT(
		    !strcmp(st, "25006"),
		    "standby %s: expected the write to fail with SQLSTATE 25006, got %s (%s)",
		    n->name, st[0] ? st : "none", err);
		standbys++;
	}
	PGC_ASSERT(standbys > 0, "the topology has no standby");
}

/* N_RO sessions through RO: every one is on a standby (pg_is_in_recovery() = t), and every
 * standby is reached. Bound: with round-robin (or uniform random) over 2 standbys, the chance
 * that one of them is never chosen in 40 sessions is 2 * 0.5^40 ~ 1.8e-12.
 * Broken variants: the primary in HAProxy's RO backend (a session lands on it); one standby
 * marked backup (the seed's bug: the other is never reached). */
static void test_ro_port_standbys_only(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pp_ids ids;
	int hits[PGC_MAX_NODES] = {0}, primary;

	if (!t->d.ro.port)
		PGC_SKIP("the descriptor names no RO endpoint");
	primary = pp_primary(t);
	PGC_ASSERT(primary >= 0, "expected exactly one node not in recovery");
	PGC_ASSERT(pp_node_ids(t, &ids) == t->d.nnodes, "not every node answered directly");
	for (int i = 0; i < N_RO; i++) {
		char what[64], v[128], rec[8];
		PGconn *c;
		int at;

		pgc_fmt(what, sizeof(what), "RO port, session %d", i + 1);
		c = pgc_safe_connect(t, what, &t->d.ro, NULL);
		pgc_safe_query(c, what, "SELECT pg_is_in_recovery()", rec, sizeof(rec));
		pgc_safe_query(c, what, "SELECT " PP_ID_SQL, v, sizeof(v));
		PQfinish(c);
		at = pp_which(t, &ids, v);
		PGC_ASSERT(!strcmp(rec, "t") && at != primary,
			   "%s: expected a standby, reached %s (pg_is_in_recovery() = %s)", what,
			   at >= 0 ? t->d.nodes[at].name : v, rec);
		PGC_ASSERT(at >= 0, "%s: reached a server that is no descriptor node (\"%s\")",
			   what, v);
		hits[at]++;
	}
	for (int i = 0; i < t->d.nnodes; i++) {
		char name[96];

		if (i == primary)
			continue;
		pgc_fmt(name, sizeof(name), "ro_sessions_%s", t->d.nodes[i].name);
		pgc_rec_metric(name, hits[i], "sessions");
		PGC_ASSERT(hits[i] > 0, "RO port: standby %s was never reached in %d sessions",
			   t->d.nodes[i].name, N_RO);
	}
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_writes_on_primary),
    PGC_CHECK_TEST(test_standby_refuses_writes),
    PGC_CHECK_TEST(test_ro_port_standbys_only),
};

const struct pgc_suite pgc_suite_pool_routing = {
    .name = "pool-routing",
    .kinds = 1 << PGC_PGPOOL,
    .summary = "writes through RW on the primary (per statement); standbys refuse writes "
	       "(25006); RO reaches every standby and never the primary",
    .tests = PGC_TESTS(tests),
};
