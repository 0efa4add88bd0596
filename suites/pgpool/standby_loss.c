/* standby_loss.c - SIGKILL of a standby: pgpool detaches it within the health-check budget,
 * reads through pgpool go on, and the restarted standby is re-attached and streams again.
 *
 * Runbook: pick the last standby; kill -9 it; poll SHOW POOL_NODES every 100 ms until pgpool says
 * down; run reads on new sessions; start the container; poll until pgpool lists it up and
 * streaming. A check's teardown heals its faults, so the first check runs the whole runbook and
 * records; the others judge what it recorded. */
#include "deadline.h"
#include "fault.h"
#include "pool.h"

#include <stdlib.h>
#include <string.h>

#define N_READS         30
#define REATTACH_BUDGET 60000 /* ms: container start + recovery + auto_failback_interval */

static struct {
	int done; /* the standby was killed, detached, read around and restarted */
	int victim;
	long detach_ms;
	int read_errors, reads_on_dead;
	char first_error[512];
	long reattach_ms; /* -1: not re-attached within REATTACH_BUDGET */
	char reattach_err[1024];
} sl;

static void require_budget(struct pgc_topology *t)
{
	if (!t->d.standby_detach_budget_ms.set)
		PGC_SKIP("the descriptor states no standby_detach_budget_ms");
	PGC_REQUIRE_DESTRUCTIVE(t);
}

/* N_READS reads on new pgpool sessions; counts failures and reads on the killed node. */
static void read_around(struct pgc_topology *t)
{
	char db[128], err[512];
	struct pp_ids ids;

	pp_node_ids(t, &ids);
	pgc_fmt(db, sizeof(db), "dbname=%s",
		t->d.pooled_database[0] ? t->d.pooled_database : t->d.database);
	for (int i = 0; i < N_READS; i++) {
		char ci[2048], v[128], st[6];

		pgc_topology_conninfo(t, &t->d.pooler, db, ci, sizeof(ci));
		if (pgc_pg_query_once(ci, 5000, "SELECT " PP_ID_SQL, v, sizeof(v), st, err,
				      sizeof(err))) {
			if (!sl.read_errors++)
				pgc_fmt(sl.first_error, sizeof(sl.first_error), "%s%s%s", st,
					st[0] ? " " : "", err);
			continue;
		}
		sl.reads_on_dead += pp_which(t, &ids, v) == sl.victim;
	}
}

/* Kill a standby: pgpool marks it down within standby_detach_budget_ms (polled every 100 ms;
 * a poll through pgpool may itself take up to its connect timeout while the node hangs).
 * Broken variants: health_check_period = 0 (never detached); health_check_timeout x retries
 * over the budget (detached too late). */
static void test_killed_standby_detached(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	char err[1024];
	long budget;
	int64_t t0;
	int primary;

	memset(&sl, 0, sizeof(sl));
	sl.victim = -1;
	require_budget(t);
	budget = t->d.standby_detach_budget_ms.value;
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("before the fault: %s", err);
	primary = pp_primary(t);
	PGC_ASSERT(primary >= 0, "expected exactly one node not in recovery");
	for (int i = t->d.nnodes - 1; i >= 0 && sl.victim < 0; i--)
		if (i != primary && t->d.nodes[i].container[0])
			sl.victim = i;
	if (sl.victim < 0)
		PGC_SKIP("no standby has a container to kill");

	t0 = pgc_now_us();
	if (pgc_fault_inject(t, PGC_FAULT_KILL, t->d.nodes[sl.victim].container, err, sizeof(err)))
		PGC_FAIL("SIGKILL of standby %s: %s", t->d.nodes[sl.victim].name, err);
	/* a safety limit (twice the budget, at least 60 s), so that a late detach is measured
	 * before it is judged */
	if (pp_wait_pool_status(t, sl.victim, "down", 0, budget * 2 > 60000 ? budget * 2 : 60000,
				100, err, sizeof(err)))
		PGC_FAIL("after SIGKILL of standby %s: %s", t->d.nodes[sl.victim].name, err);
	sl.detach_ms = (pgc_now_us() - t0) / 1000;
	pgc_rec_metric("detach_ms", sl.detach_ms, "ms");

	read_around(t);

	t0 = pgc_now_us();
	if (pgc_fault_heal(t, t->d.nodes[sl.victim].container, err, sizeof(err)))
		PGC_FAIL("restarting standby %s: %s", t->d.nodes[sl.victim].name, err);
	sl.reattach_ms = -1;
	if (pp_wait_pool_status(t, sl.victim, "up", 1, REATTACH_BUDGET, 250, sl.reattach_err,
				sizeof(sl.reattach_err)) == 0)
		sl.reattach_ms = (pgc_now_us() - t0) / 1000;
	sl.done = 1;
	PGC_ASSERT(sl.detach_ms <= budget,
		   "pgpool marked killed standby %s down after %ld ms, budget %ld ms",
		   t->d.nodes[sl.victim].name, sl.detach_ms, budget);
}

static void require_done(struct pgc_topology *t)
{
	require_budget(t);
	if (!sl.done)
		PGC_FAIL("the standby-loss runbook did not complete (see "
			 "test_killed_standby_detached)");
}

/* After the detach, N_READS reads on new pgpool sessions all succeed, none on the dead node.
 * Broken variant: a detach that only shows in SHOW POOL_NODES while sessions still dial the
 * dead backend (they fail); load_balance_mode choosing a down node. */
static void test_reads_continue(void **state)
{
	struct pgc_topology *t = pgc_topo(state);

	require_done(t);
	pgc_rec_metric("read_errors", sl.read_errors, "reads");
	PGC_ASSERT(sl.read_errors == 0,
		   "%d of %d reads through pgpool failed after standby %s was detached; first: %s",
		   sl.read_errors, N_READS, t->d.nodes[sl.victim].name, sl.first_error);
	PGC_ASSERT(sl.reads_on_dead == 0, "%d reads ran on killed standby %s", sl.reads_on_dead,
		   t->d.nodes[sl.victim].name);
}

/* The restarted standby is re-attached (up) and streaming within REATTACH_BUDGET.
 * Broken variant: auto_failback = off (it stays down until an operator attaches it). */
static void test_restarted_standby_reattached(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	char err[1024];

	require_done(t);
	PGC_ASSERT(sl.reattach_ms >= 0, "restarted standby %s was not re-attached within %d ms: %s",
		   t->d.nodes[sl.victim].name, REATTACH_BUDGET, sl.reattach_err);
	pgc_rec_metric("reattach_ms", sl.reattach_ms, "ms");
	if (pgc_topology_wait_healthy(t, 60000, err, sizeof(err)))
		PGC_FAIL("after the re-attach: %s", err);
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_killed_standby_detached),
    PGC_CHECK_TEST(test_reads_continue),
    PGC_CHECK_TEST(test_restarted_standby_reattached),
};

const struct pgc_suite pgc_suite_pool_standby_loss = {
    .name = "standby-loss",
    .kinds = 1 << PGC_PGPOOL,
    .destructive = 1,
    .summary = "SIGKILL of a standby: pgpool detaches it within budget, reads continue, the "
	       "restarted standby is re-attached and streams",
    .tests = PGC_TESTS(tests),
};
