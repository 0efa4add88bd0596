/* failover.c - SIGKILL of the leader while a write prober runs through the RW port.
 *
 * Runbook: find the leader and its sync standby; open a session to the leader through RW;
 * start the prober (100 ms); kill -9 the leader; watch the old session close, REST name a new
 * leader, HAProxy route to it, writes come back; stop the prober; read the ledger back; restart
 * the old leader and watch it rejoin as a streaming replica on the new timeline. The first
 * check does the fault; the others judge what it recorded. */
#include "cluster.h"
#include "deadline.h"
#include "fault.h"
#include "probe.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	int done; /* the fault happened and writes came back */
	int old_leader, sync_standby, new_leader;
	int old_timeline;
	long outage_ms;
	long session_closed_ms; /* -1: still hung */
	struct pgc_probe *probe;
} fo;

static void require_failover_claim(struct pgc_topology *t)
{
	if (!t->d.automatic_failover.set || !t->d.automatic_failover.value)
		PGC_SKIP("the descriptor does not claim automatic failover");
	if (!t->d.failover_budget_ms.set)
		PGC_SKIP("the descriptor states no failover_budget_ms");
}

/* Sends a query on a session and waits up to ms: returns ms until it failed, or -1 if it
 * neither failed nor succeeded in time (hung), or -2 if it succeeded. */
static long session_fate(PGconn *c, int ms)
{
	int64_t t0 = pgc_now_us(), limit = t0 + (int64_t)ms * 1000;
	PGresult *r;
	int ok = 0, any = 0;

	if (!PQsendQuery(c, "SELECT 1"))
		return 0;
	while (PQisBusy(c)) {
		struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
		int64_t left = (limit - pgc_now_us()) / 1000;

		if (left <= 0)
			return -1;
		poll(&p, 1, (int)left);
		if (!PQconsumeInput(c))
			return (pgc_now_us() - t0) / 1000;
	}
	while ((r = PQgetResult(c)) != NULL) {
		any = 1;
		ok |= PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
	}
	return any && ok ? -2 : (pgc_now_us() - t0) / 1000;
}

/* Broken variants: failover budget below the ttl-bound minimum; nofailover tags on every
 * replica (no new leader at all). */
static void test_sigkill_leader_failover(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	long budget, limit;
	char err[1024], rec[8];
	int64_t t0;
	PGconn *old;
	int counts[4];

	memset(&fo, 0, sizeof(fo));
	fo.new_leader = -1;
	require_failover_claim(t);
	PGC_REQUIRE_DESTRUCTIVE(t);
	budget = t->d.failover_budget_ms.value;
	/* waits end at a safety limit, not at the budget: the outage is judged at the end */
	limit = budget * 2 > 90000 ? budget * 2 : 90000;
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("before the fault: %s", err);
	fo.old_leader = pt_leader(t);
	fo.sync_standby = pt_sync_standby(t, fo.old_leader);
	fo.old_timeline = pt_timeline(t, fo.old_leader);
	PGC_ASSERT(fo.old_leader >= 0, "there is no single leader before the fault");
	old = pgc_safe_connect(t, "RW port", &t->d.rw, NULL);
	pgc_safe_query(old, "RW port", "SELECT pg_is_in_recovery()", rec, sizeof(rec));
	if (pgc_probe_start(t, &t->d.rw, 100, 1000, &fo.probe, err, sizeof(err)))
		PGC_FAIL("starting the write prober: %s", err);
	if (pt_wait_acks(fo.probe, 10, 10000, err, sizeof(err)))
		PGC_FAIL("before the fault: %s", err);

	t0 = pgc_now_us();
	if (pgc_fault_inject(t, PGC_FAULT_KILL, t->d.nodes[fo.old_leader].container, err,
			     sizeof(err)))
		PGC_FAIL("SIGKILL of leader %s: %s", t->d.nodes[fo.old_leader].name, err);

	fo.session_closed_ms = session_fate(old, 10000);
	PQfinish(old);
	fo.new_leader = pt_wait_new_leader(t, fo.old_leader, limit, err, sizeof(err));
	if (fo.new_leader < 0)
		PGC_FAIL("after SIGKILL of leader %s: %s", t->d.nodes[fo.old_leader].name, err);
	pgc_rec_metric("rest_new_leader_ms", (pgc_now_us() - t0) / 1000.0, "ms");
	if (pt_wait_rw_routes_to(t, fo.new_leader, limit, err, sizeof(err)))
		PGC_FAIL("after SIGKILL of leader %s: %s", t->d.nodes[fo.old_leader].name, err);
	pgc_rec_metric("haproxy_routed_ms", (pgc_now_us() - t0) / 1000.0, "ms");
	if (pt_wait_writes_restored(fo.probe, t0, limit, err, sizeof(err)))
		PGC_FAIL("after SIGKILL of leader %s: %s", t->d.nodes[fo.old_leader].name, err);
	pt_wait_acks(fo.probe, 10, 10000, err, sizeof(err));
	pgc_probe_stop(fo.probe);

	fo.outage_ms = pgc_probe_outage_ms(fo.probe, t0);
	pgc_probe_counts(fo.probe, counts);
	pgc_rec_metric("outage_ms", fo.outage_ms, "ms");
	pgc_rec_metric("probe_period_ms", pgc_probe_mean_period_ms(fo.probe), "ms");
	pgc_rec_metric("acked", counts[PGC_ACKED], "writes");
	pgc_rec_metric("acked_with_warning", counts[PGC_ACKED_WARNING], "writes");
	pgc_rec_metric("failed", counts[PGC_REFUSED], "writes");
	pgc_rec_metric("indeterminate", counts[PGC_INDETERMINATE], "writes");
	fo.done = 1;
	PGC_ASSERT(fo.outage_ms <= budget,
		   "write outage after SIGKILL of leader %s was %ld ms, budget %ld ms",
		   t->d.nodes[fo.old_leader].name, fo.outage_ms, budget);
}

static void require_done(struct pgc_topology *t)
{
	require_failover_claim(t);
	PGC_REQUIRE_DESTRUCTIVE(t);
	if (!fo.done)
		PGC_FAIL("the failover did not complete (see test_sigkill_leader_failover)");
}

/* Broken variant: asynchronous replication claimed as synchronous (any replica may win). */
static void test_new_leader_was_sync_standby(void **state)
{
	struct pgc_topology *t = pgc_topo(state);

	require_done(t);
	PGC_ASSERT(fo.sync_standby >= 0, "there was no sync standby before the fault");
	PGC_ASSERT(fo.new_leader == fo.sync_standby,
		   "new leader %s was not the sync standby %s of the killed leader",
		   t->d.nodes[fo.new_leader].name, t->d.nodes[fo.sync_standby].name);
}

/* Every write acknowledged without warning is on the new leader. Broken variant:
 * asynchronous replication. */
static void test_no_acknowledged_write_lost(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	int lost = 0, durable = 0, counts[4];
	char err[1024];

	require_done(t);
	if (!t->d.max_acked_loss.set)
		PGC_SKIP("the descriptor states no max_acked_loss");
	if (pgc_probe_verify(fo.probe, &t->d.rw, &lost, &durable, err, sizeof(err)))
		PGC_FAIL("reading the ledger back through RW: %s", err);
	pgc_probe_counts(fo.probe, counts);
	pgc_rec_metric("durable_acks", durable, "writes");
	pgc_rec_metric("lost_acked", lost, "writes");
	pgc_rec_metric("acked_with_warning", counts[PGC_ACKED_WARNING], "writes");
	pgc_rec_metric("indeterminate", counts[PGC_INDETERMINATE], "writes");
	PGC_ASSERT(durable > 0, "the prober had no durable acknowledgement to verify");
	PGC_ASSERT(lost <= t->d.max_acked_loss.value,
		   "%d of %d acknowledged writes are missing on new leader %s (allowed %ld)", lost,
		   durable, t->d.nodes[fo.new_leader].name, t->d.max_acked_loss.value);
}

/* A session to the old leader through RW is closed, not left hanging. Broken variant: HAProxy
 * without on-marked-down shutdown-sessions. */
static void test_old_session_closed(void **state)
{
	struct pgc_topology *t = pgc_topo(state);

	require_done(t);
	pgc_rec_metric("old_session_closed_ms", fo.session_closed_ms, "ms");
	PGC_ASSERT(fo.session_closed_ms != -2,
		   "a session opened to old leader %s through RW still answered after the kill",
		   t->d.nodes[fo.old_leader].name);
	PGC_ASSERT(fo.session_closed_ms >= 0,
		   "a session opened to old leader %s through RW hung for 10 s after the kill",
		   t->d.nodes[fo.old_leader].name);
}

/* The old leader, restarted, streams from the new leader on the new timeline. */
static void test_old_leader_rejoins(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	long budget = t->d.rejoin_budget_ms.set ? t->d.rejoin_budget_ms.value : 60000;
	char err[1024];
	int64_t t0;

	require_done(t);
	t0 = pgc_now_us();
	if (pgc_fault_heal(t, t->d.nodes[fo.old_leader].container, err, sizeof(err)))
		PGC_FAIL("restarting old leader %s: %s", t->d.nodes[fo.old_leader].name, err);
	if (pt_wait_streaming(t, fo.old_leader, fo.old_timeline + 1, budget, err, sizeof(err)))
		PGC_FAIL("old leader %s did not rejoin within %ld ms: %s",
			 t->d.nodes[fo.old_leader].name, budget, err);
	pgc_rec_metric("rejoin_ms", (pgc_now_us() - t0) / 1000.0, "ms");
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("after the rejoin: %s", err);
}

static int teardown_group(void **state)
{
	(void)state;
	pgc_probe_free(fo.probe);
	fo.probe = NULL;
	return 0;
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_sigkill_leader_failover),
    PGC_CHECK_TEST(test_new_leader_was_sync_standby),
    PGC_CHECK_TEST(test_no_acknowledged_write_lost),
    PGC_CHECK_TEST(test_old_session_closed),
    PGC_CHECK_TEST(test_old_leader_rejoins),
};

const struct pgc_suite pgc_suite_failover = {
    .name = "failover",
    .kinds = 1 << PGC_PATRONI,
    .destructive = 1,
    .summary = "SIGKILL of the leader: outage within budget, sync standby wins, zero acked "
	       "loss, old session closed, old leader rejoins",
    .tests = PGC_TESTS(tests),
    .group_teardown = teardown_group,
};
