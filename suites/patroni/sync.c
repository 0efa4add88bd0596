/* sync.c - synchronous replication: exactly one sync standby, named in
 * synchronous_standby_names; an acknowledged commit is visible there; strict mode blocks writes
 * with no sync standby left. */
#include "cluster.h"
#include "deadline.h"
#include "fault.h"
#include "patroni.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void require_sync_claim(struct pgc_topology *t)
{
	if (!t->d.replication_set || t->d.replication != PGC_REPL_SYNC)
		PGC_SKIP("the descriptor does not claim synchronous replication");
}

/* Broken variant: synchronous_mode off (no sync standby). */
static void test_exactly_one_sync_standby(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	int leader, sync;
	char names[256], count[16];
	PGconn *c;

	require_sync_claim(t);
	leader = pt_leader(t);
	PGC_ASSERT(leader >= 0, "there is no single leader");
	c = pgc_safe_connect(t, t->d.nodes[leader].name, &t->d.nodes[leader].postgres, NULL);
	pgc_safe_query(c, "leader",
		       "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'", count,
		       sizeof(count));
	pgc_safe_query(c, "leader", "SHOW synchronous_standby_names", names, sizeof(names));
	PQfinish(c);
	PGC_ASSERT(!strcmp(count, "1"),
		   "leader %s: expected exactly one sync standby in pg_stat_replication, found %s",
		   t->d.nodes[leader].name, count);
	sync = pt_sync_standby(t, leader);
	PGC_ASSERT(sync >= 0, "leader %s: the sync standby is not a node of the descriptor",
		   t->d.nodes[leader].name);
	PGC_ASSERT(strstr(names, t->d.nodes[sync].name) != NULL,
		   "leader %s: synchronous_standby_names is \"%s\", which does not name the sync "
		   "standby %s",
		   t->d.nodes[leader].name, names, t->d.nodes[sync].name);
}

/* Broken variant: asynchronous replication (the row is not yet applied on the standby). */
static void test_acked_commit_visible_on_sync_standby(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	const char *params[1];
	char token[64], st[6], err[512], v[16];
	int leader, sync;
	PGconn *c;

	require_sync_claim(t);
	leader = pt_leader(t);
	sync = pt_sync_standby(t, leader);
	PGC_ASSERT(sync >= 0, "there is no sync standby");
	pgc_fmt(token, sizeof(token), "sync-%lld", (long long)pgc_now_us());
	params[0] = token;
	c = pgc_safe_connect(t, "RW port", &t->d.rw, NULL);
	pgc_safe_query(c, "RW port", "CREATE TABLE IF NOT EXISTS pgc_sync (token text PRIMARY KEY)",
		       NULL, 0);
	/* remote_apply: the acknowledgement promises the row is visible on the sync standby */
	pgc_safe_query(c, "RW port", "SET synchronous_commit = remote_apply", NULL, 0);
	if (pgc_pg_query_params(c, "INSERT INTO pgc_sync VALUES ($1)", 1, params, NULL, 0, st, err,
				sizeof(err))) {
		PQfinish(c);
		PGC_FAIL("RW port: INSERT failed with SQLSTATE %s: %s", st, err);
	}
	PQfinish(c);
	c = pgc_safe_connect(t, t->d.nodes[sync].name, &t->d.nodes[sync].postgres, NULL);
	if (pgc_pg_query_params(c, "SELECT count(*) FROM pgc_sync WHERE token = $1", 1, params, v,
				sizeof(v), st, err, sizeof(err))) {
		PQfinish(c);
		PGC_FAIL("sync standby %s: %s", t->d.nodes[sync].name, err);
	}
	PQfinish(c);
	PGC_ASSERT(!strcmp(v, "1"),
		   "sync standby %s: a commit acknowledged with remote_apply is not visible there",
		   t->d.nodes[sync].name);
}

/* Waits up to ms for the query in flight: 1 completed successfully, 0 still waiting, -1 failed. */
static int await_pending(PGconn *c, int ms)
{
	int64_t limit = pgc_now_us() + (int64_t)ms * 1000;
	PGresult *r;
	int ok = 1;

	while (PQisBusy(c)) {
		struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
		int64_t left = (limit - pgc_now_us()) / 1000;

		if (left <= 0)
			return 0;
		poll(&p, 1, (int)(left > 200 ? 200 : left));
		if (!PQconsumeInput(c))
			return -1;
	}
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			ok = -1;
		PQclear(r);
	}
	return ok;
}

/* Strict mode: with both replicas stopped, a write does not complete; it completes once a
 * replica is back. Broken variant: synchronous_mode_strict off while claimed. */
static void test_strict_mode_blocks_without_sync_standby(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	char err[512];
	int leader, done;
	PGconn *c;

	require_sync_claim(t);
	if (!t->d.synchronous_strict.set || !t->d.synchronous_strict.value)
		PGC_SKIP("the descriptor does not claim strict synchronous mode");
	PGC_REQUIRE_DESTRUCTIVE(t);
	leader = pt_leader(t);
	PGC_ASSERT(leader >= 0, "there is no single leader");
	c = pgc_safe_connect(t, "leader", &t->d.nodes[leader].postgres, NULL);
	pgc_safe_query(c, "leader", "CREATE TABLE IF NOT EXISTS pgc_strict (at timestamptz)", NULL,
		       0);
	for (int i = 0; i < t->d.nnodes; i++)
		if (i != leader &&
		    pgc_fault_inject(t, PGC_FAULT_STOP, t->d.nodes[i].container, err, sizeof(err)))
			PGC_FAIL("stopping replica %s: %s", t->d.nodes[i].name, err);
	/* Patroni notices the replicas are gone within a loop; the write must block even so */
	if (!PQsendQuery(c, "INSERT INTO pgc_strict VALUES (now())")) {
		PQfinish(c);
		PGC_FAIL("leader %s: could not send the write", t->d.nodes[leader].name);
	}
	done = await_pending(c, 8000);
	if (done != 0) {
		PQfinish(c);
		PGC_FAIL("leader %s: a write %s with no synchronous standby running",
			 t->d.nodes[leader].name, done > 0 ? "completed" : "failed");
	}
	pgc_rec_metric("blocked_for_ms", 8000, "ms");
	for (int i = 0; i < t->d.nnodes; i++)
		if (i != leader && pgc_fault_heal(t, t->d.nodes[i].container, err, sizeof(err)))
			PGC_FAIL("restarting replica %s: %s", t->d.nodes[i].name, err);
	{
		int64_t t0 = pgc_now_us();

		done = await_pending(c, 90000);
		pgc_rec_metric("unblocked_after_ms", (pgc_now_us() - t0) / 1000.0, "ms");
		if (done != 1) {
			PQfinish(c);
			PGC_FAIL("leader %s: the blocked write did not complete within 90 s after "
				 "the replicas returned",
				 t->d.nodes[leader].name);
		}
	}
	PQfinish(c);
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("after the replicas returned: %s", err);
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_exactly_one_sync_standby),
    PGC_CHECK_TEST(test_acked_commit_visible_on_sync_standby),
    PGC_CHECK_TEST(test_strict_mode_blocks_without_sync_standby),
};

const struct pgc_suite pgc_suite_sync = {
    .name = "sync",
    .kinds = 1 << PGC_PATRONI,
    .summary = "one sync standby, named; acked commits visible there; strict mode blocks",
    .tests = PGC_TESTS(tests),
};
