/* switchover.c - a planned switchover through the REST API (POST /switchover) while the
 * prober writes: downtime within the budget, the named candidate leads, nothing acknowledged is
 * lost. */
#include "cluster.h"
#include "deadline.h"
#include "patroni.h"
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Broken variant: a switchover budget below what Patroni needs. */
static void test_switchover_within_budget(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_probe *probe = NULL;
	char err[1024], body[256], *resp = NULL;
	int leader, candidate, lost = 0, durable = 0, counts[4];
	long status = 0, downtime, budget;
	int64_t t0;

	if (!t->d.automatic_failover.set || !t->d.automatic_failover.value)
		PGC_SKIP("the descriptor does not claim a Patroni-managed failover");
	if (!t->d.switchover_budget_ms.set)
		PGC_SKIP("the descriptor states no switchover_budget_ms");
	PGC_REQUIRE_DESTRUCTIVE(t);
	budget = t->d.switchover_budget_ms.value;
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("before the switchover: %s", err);
	leader = pt_leader(t);
	candidate = pt_sync_standby(t, leader);
	if (candidate < 0)
		candidate = (leader + 1) % t->d.nnodes;
	if (pgc_probe_start(t, &t->d.rw, 100, 1000, &probe, err, sizeof(err)))
		PGC_FAIL("starting the write prober: %s", err);
	if (pt_wait_acks(probe, 10, 10000, err, sizeof(err))) {
		pgc_probe_free(probe);
		PGC_FAIL("before the switchover: %s", err);
	}
	pgc_fmt(body, sizeof(body), "{\"leader\": \"%s\", \"candidate\": \"%s\"}",
		t->d.nodes[leader].name, t->d.nodes[candidate].name);
	t0 = pgc_now_us();
	if (pgc_patroni_rest(t, &t->d.nodes[leader], "POST", "/switchover", body, 30000, &status,
			     &resp, err, sizeof(err))) {
		pgc_probe_free(probe);
		PGC_FAIL("POST /switchover to %s: %s", t->d.nodes[leader].name, err);
	}
	free(resp);
	if (status != 200) {
		pgc_probe_free(probe);
		PGC_FAIL("POST /switchover to %s answered HTTP %ld", t->d.nodes[leader].name,
			 status);
	}
	if (pt_wait_rw_routes_to(t, candidate, (budget * 3 > 60000 ? budget * 3 : 60000), err,
				 sizeof(err)) ||
	    pt_wait_writes_restored(probe, t0, (budget * 3 > 60000 ? budget * 3 : 60000), err,
				    sizeof(err))) {
		pgc_probe_free(probe);
		PGC_FAIL("after the switchover to %s: %s", t->d.nodes[candidate].name, err);
	}
	pt_wait_acks(probe, 10, 10000, err, sizeof(err));
	pgc_probe_stop(probe);
	downtime = pgc_probe_outage_ms(probe, t0);
	pgc_probe_counts(probe, counts);
	if (pgc_probe_verify(probe, &t->d.rw, &lost, &durable, err, sizeof(err))) {
		pgc_probe_free(probe);
		PGC_FAIL("reading the ledger back: %s", err);
	}
	pgc_probe_free(probe);
	pgc_rec_metric("downtime_ms", downtime, "ms");
	pgc_rec_metric("lost_acked", lost, "writes");
	pgc_rec_metric("indeterminate", counts[PGC_INDETERMINATE], "writes");
	PGC_ASSERT(pt_leader(t) == candidate, "after the switchover the leader is not %s",
		   t->d.nodes[candidate].name);
	PGC_ASSERT(downtime <= budget, "switchover to %s: write downtime %ld ms, budget %ld ms",
		   t->d.nodes[candidate].name, downtime, budget);
	if (t->d.max_acked_loss.set)
		PGC_ASSERT(lost <= t->d.max_acked_loss.value,
			   "switchover: %d of %d acknowledged writes missing", lost, durable);
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("after the switchover: %s", err);
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_switchover_within_budget),
};

const struct pgc_suite pgc_suite_switchover = {
    .name = "switchover",
    .kinds = 1 << PGC_PATRONI,
    .destructive = 1,
    .summary = "REST switchover: downtime within budget, candidate leads, no acked loss",
    .tests = PGC_TESTS(tests),
};
