/* replication.c - asynchronous streaming replication behind pgpool: every standby streams async
 * within the lag budget, and DDL and CRUD written through pgpool reach every standby. */
#include "deadline.h"
#include "pool.h"

#include <stdlib.h>
#include <string.h>

static void require_async_claim(struct pgc_topology *t)
{
	if (!t->d.replication_set || t->d.replication != PGC_REPL_ASYNC)
		PGC_SKIP("the descriptor does not claim asynchronous replication");
}

/* pg_stat_replication on the primary lists every standby streaming with sync_state async; lag
 * in bytes within max_replica_lag_bytes (replay lag time recorded). Broken variants:
 * synchronous_standby_names set (sync_state sync/quorum/potential); a standby not streaming (a
 * row missing); a standby stuck replaying (lag over budget). */
static void test_standbys_async_within_lag(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	int primary = pp_primary(t), rows;
	double worst_bytes = 0, worst_s = 0;
	PGresult *r;
	PGconn *c;

	require_async_claim(t);
	PGC_ASSERT(primary >= 0, "expected exactly one node not in recovery");
	c = pgc_safe_connect(t, t->d.nodes[primary].name, &t->d.nodes[primary].postgres, NULL);
	r = PQexec(c, "SELECT application_name, state, sync_state, "
		      "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), -1), "
		      "coalesce(extract(epoch FROM replay_lag), 0) FROM pg_stat_replication "
		      "ORDER BY application_name");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PGC_FAIL("primary %s: reading pg_stat_replication: %s", t->d.nodes[primary].name,
			 PQerrorMessage(c));
	}
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		const char *app = PQgetvalue(r, i, 0), *st = PQgetvalue(r, i, 1),
			   *sync = PQgetvalue(r, i, 2);
		double bytes = atof(PQgetvalue(r, i, 3)), secs = atof(PQgetvalue(r, i, 4));
		char m[96];

		pgc_fmt(m, sizeof(m), "lag_bytes_%s", app);
		pgc_rec_metric(m, bytes, "B");
		pgc_fmt(m, sizeof(m), "replay_lag_%s", app);
		pgc_rec_metric(m, secs * 1000, "ms");
		if (bytes > worst_bytes)
			worst_bytes = bytes;
		if (secs > worst_s)
			worst_s = secs;
		PGC_ASSERT(!strcmp(st, "streaming"),
			   "primary %s: standby %s is in state %s, expected streaming",
			   t->d.nodes[primary].name, app, st);
		PGC_ASSERT(!strcmp(sync, "async"),
			   "primary %s: standby %s has sync_state %s, expected async",
			   t->d.nodes[primary].name, app, sync);
		PGC_ASSERT(bytes >= 0, "primary %s: standby %s has replayed nothing yet",
			   t->d.nodes[primary].name, app);
		PGC_ASSERT(!t->d.max_replica_lag_bytes.set ||
			       bytes <= t->d.max_replica_lag_bytes.value,
			   "primary %s: standby %s lags %.0f bytes, budget %ld",
			   t->d.nodes[primary].name, app, bytes, t->d.max_replica_lag_bytes.value);
	}
	PQclear(r);
	PQfinish(c);
	pgc_rec_metric("lag_bytes_max", worst_bytes, "B");
	pgc_rec_metric("replay_lag_max", worst_s * 1000, "ms");
	PGC_ASSERT(rows == t->d.nnodes - 1,
		   "primary %s: pg_stat_replication lists %d standbys, expected %d",
		   t->d.nodes[primary].name, rows, t->d.nnodes - 1);
}

struct replayed {
	struct pgc_topology *t;
	int node;
	const char *lsn;
};

static int replayed_step(void *arg, char *obs, size_t len)
{
	struct replayed *w = arg;
	const struct pgc_node *n = &w->t->d.nodes[w->node];
	const char *params[1] = {w->lsn};
	char ci[2048], out[64], st[6], err[512];
	PGconn *c;

	pgc_topology_conninfo(w->t, &n->postgres, NULL, ci, sizeof(ci));
	c = pgc_pg_connect(ci, 2000, st, err, sizeof(err));
	if (!c) {
		pgc_fmt(obs, len, "%s: %s", n->name, err);
		return 0;
	}
	if (pgc_pg_query_params(
		c,
		"SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)::text"
		" || ' ' || coalesce(pg_last_wal_replay_lsn()::text, 'none')",
		1, params, out, sizeof(out), st, err, sizeof(err))) {
		PQfinish(c);
		pgc_fmt(obs, len, "%s: %s", n->name, err);
		return 0;
	}
	PQfinish(c);
	pgc_fmt(obs, len, "%s replayed up to %s, waiting for %s", n->name,
		strchr(out, ' ') ? strchr(out, ' ') + 1 : out, w->lsn);
	return !strncmp(out, "true", 4);
}

/* DDL, INSERT, UPDATE and DELETE through pgpool (RW port), then the primary's WAL position; once
 * each standby has replayed up to it, the rows there are exactly the primary's. Broken variants:
 * a standby replaying from another primary or not at all (never catches up); a write that
 * bypassed replication (an unlogged table: rows missing on standbys). */
static void test_writes_through_pgpool_replicate(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	int primary = pp_primary(t);
	char lsn[64], v[128], err[1024];
	const char *expect = "1=one,3=three-updated|extra";
	int64_t t0;
	PGconn *c;

	require_async_claim(t);
	PGC_ASSERT(primary >= 0, "expected exactly one node not in recovery");
	c = pgc_safe_connect(t, "RW port", &t->d.rw, NULL);
	pgc_safe_query(c, "RW port", "DROP TABLE IF EXISTS pgc_repl", NULL, 0);
	pgc_safe_query(c, "RW port", "CREATE TABLE pgc_repl (id int PRIMARY KEY, v text)", NULL, 0);
	pgc_safe_query(c, "RW port", "ALTER TABLE pgc_repl ADD COLUMN extra text DEFAULT 'extra'",
		       NULL, 0);
	pgc_safe_query(c, "RW port",
		       "INSERT INTO pgc_repl (id, v) VALUES (1, 'one'), (2, 'two'), (3, 'three')",
		       NULL, 0);
	pgc_safe_query(c, "RW port", "UPDATE pgc_repl SET v = 'three-updated' WHERE id = 3", NULL,
		       0);
	pgc_safe_query(c, "RW port", "DELETE FROM pgc_repl WHERE id = 2", NULL, 0);
	PQfinish(c);
	c = pgc_safe_connect(t, t->d.nodes[primary].name, &t->d.nodes[primary].postgres, NULL);
	pgc_safe_query(c, t->d.nodes[primary].name, "SELECT pg_current_wal_lsn()", lsn,
		       sizeof(lsn));
	PQfinish(c);

	t0 = pgc_now_us();
	for (int i = 0; i < t->d.nnodes; i++) {
		const struct pgc_node *n = &t->d.nodes[i];
		struct replayed w = {t, i, lsn};
		char what[128], m[96];

		if (i == primary)
			continue;
		pgc_fmt(what, sizeof(what), "standby %s to replay up to %s", n->name, lsn);
		if (pgc_wait_for(what, 10000, 50, replayed_step, &w, err, sizeof(err)))
			PGC_FAIL("%s", err);
		pgc_fmt(m, sizeof(m), "catch_up_ms_%s", n->name);
		pgc_rec_metric(m, (pgc_now_us() - t0) / 1000.0, "ms");
		c = pgc_safe_connect(t, n->name, &n->postgres, NULL);
		pgc_safe_query(c, n->name,
			       "SELECT string_agg(id || '=' || v, ',' ORDER BY id) || '|' || "
			       "min(extra) FROM pgc_repl",
			       v, sizeof(v));
		PQfinish(c);
		PGC_ASSERT(!strcmp(v, expect),
			   "standby %s: after replaying to %s expected rows \"%s\", read \"%s\"",
			   n->name, lsn, expect, v);
	}
	c = pgc_safe_connect(t, "RW port", &t->d.rw, NULL);
	pgc_safe_query(c, "RW port", "DROP TABLE pgc_repl", NULL, 0);
	PQfinish(c);
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_standbys_async_within_lag),
    PGC_CHECK_TEST(test_writes_through_pgpool_replicate),
};

const struct pgc_suite pgc_suite_pool_replication = {
    .name = "async-replication",
    .kinds = 1 << PGC_PGPOOL,
    .summary = "every standby streams async within the lag budget; DDL and CRUD through pgpool "
	       "reach every standby (waited by LSN)",
    .tests = PGC_TESTS(tests),
};
