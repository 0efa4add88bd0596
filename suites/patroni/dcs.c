/* dcs.c - the DCS (etcd): one member of three down changes nothing; two down leave no writable
 * primary; the cluster recovers when they return. */
#include "cluster.h"
#include "deadline.h"
#include "fault.h"
#include "probe.h"

#include <stdio.h>
#include <string.h>

static void require_dcs(struct pgc_topology *t)
{
	if (t->d.ndcs < 3)
		PGC_SKIP("the descriptor lists fewer than 3 DCS members");
	PGC_REQUIRE_DESTRUCTIVE(t);
}

/* Broken variant: a single-member etcd (losing it stops writes). */
static void test_one_dcs_member_down_changes_nothing(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_probe *probe = NULL;
	char err[1024];
	int leader, counts[4];

	require_dcs(t);
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("before the fault: %s", err);
	leader = pt_leader(t);
	if (pgc_probe_start(t, &t->d.rw, 100, 1000, &probe, err, sizeof(err)))
		PGC_FAIL("starting the write prober: %s", err);
	if (pgc_fault_inject(t, PGC_FAULT_STOP, t->d.dcs[t->d.ndcs - 1].container, err,
			     sizeof(err))) {
		pgc_probe_free(probe);
		PGC_FAIL("stopping %s: %s", t->d.dcs[t->d.ndcs - 1].name, err);
	}
	/* a full ttl of writes with one member gone: 200 acknowledged writes at 100 ms */
	if (pt_wait_acks(probe, 200, 60000, err, sizeof(err))) {
		pgc_probe_free(probe);
		PGC_FAIL("with %s down: %s", t->d.dcs[t->d.ndcs - 1].name, err);
	}
	pgc_probe_stop(probe);
	pgc_probe_counts(probe, counts);
	pgc_probe_free(probe);
	pgc_rec_metric("failed_writes", counts[PGC_REFUSED] + counts[PGC_INDETERMINATE], "writes");
	PGC_ASSERT(counts[PGC_REFUSED] + counts[PGC_INDETERMINATE] == 0,
		   "with DCS member %s down, %d writes failed and %d had unknown outcome",
		   t->d.dcs[t->d.ndcs - 1].name, counts[PGC_REFUSED], counts[PGC_INDETERMINATE]);
	PGC_ASSERT(pt_leader(t) == leader, "with one DCS member down the leader changed");
	if (pgc_fault_heal(t, t->d.dcs[t->d.ndcs - 1].container, err, sizeof(err)))
		PGC_FAIL("restarting %s: %s", t->d.dcs[t->d.ndcs - 1].name, err);
}

struct no_writer {
	struct pgc_topology *t;
};

/* Done when no node accepts a write. */
static int no_writer_step(void *arg, char *obs, size_t len)
{
	struct no_writer *w = arg;

	for (int i = 0; i < w->t->d.nnodes; i++) {
		char ci[2048], out[16], st[6], err[256];

		pgc_topology_conninfo(w->t, &w->t->d.nodes[i].postgres, NULL, ci, sizeof(ci));
		if (pgc_pg_query_once(ci, 1000, "SELECT pg_is_in_recovery()", out, sizeof(out), st,
				      err, sizeof(err)) == 0 &&
		    !strcmp(out, "f")) {
			pgc_fmt(obs, len, "%s is still a primary", w->t->d.nodes[i].name);
			return 0;
		}
	}
	pgc_fmt(obs, len, "no node is a writable primary");
	return 1;
}

/* Broken variant: Patroni failsafe_mode on keeps the primary (then this check documents it). */
static void test_dcs_quorum_lost_no_writable_primary(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct no_writer w = {t};
	char err[1024];
	int64_t t0;

	require_dcs(t);
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("before the fault: %s", err);
	for (int i = t->d.ndcs - 2; i < t->d.ndcs; i++)
		if (pgc_fault_inject(t, PGC_FAULT_STOP, t->d.dcs[i].container, err, sizeof(err)))
			PGC_FAIL("stopping %s: %s", t->d.dcs[i].name, err);
	t0 = pgc_now_us();
	/* the leader must demote once it cannot renew its key: within ttl (+ a loop) */
	if (pgc_wait_for("the leader to demote without DCS quorum", 60000, 250, no_writer_step, &w,
			 err, sizeof(err)))
		PGC_FAIL("with 2 of 3 DCS members down: %s", err);
	pgc_rec_metric("demoted_after_ms", (pgc_now_us() - t0) / 1000.0, "ms");
	for (int i = t->d.ndcs - 2; i < t->d.ndcs; i++)
		if (pgc_fault_heal(t, t->d.dcs[i].container, err, sizeof(err)))
			PGC_FAIL("restarting %s: %s", t->d.dcs[i].name, err);
	t0 = pgc_now_us();
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("after the DCS returned: %s", err);
	pgc_rec_metric("recovered_after_ms", (pgc_now_us() - t0) / 1000.0, "ms");
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_one_dcs_member_down_changes_nothing),
    PGC_CHECK_TEST(test_dcs_quorum_lost_no_writable_primary),
};

const struct pgc_suite pgc_suite_dcs = {
    .name = "dcs",
    .kinds = 1 << PGC_PATRONI,
    .destructive = 1,
    .summary = "1 of 3 etcd down changes nothing; 2 of 3 down: no writable primary; recovery",
    .tests = PGC_TESTS(tests),
};
