/* partition.c - split-brain freedom: the leader is cut from its peers and the DCS (network
 * partition, still observable) or frozen (pause); while a prober writes through RW, every node
 * is sampled with a direct write. At no sample may two nodes acknowledge writes, the old leader
 * may not acknowledge one after the new leader did, and every acknowledged probe write must
 * survive. */
#include "cluster.h"
#include "deadline.h"
#include "fault.h"
#include "probe.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_TIMEOUT_MS 700

struct fence {
	int rounds, split_rounds;
	int64_t first_ack_us[PGC_MAX_NODES], last_ack_us[PGC_MAX_NODES];
	int acks[PGC_MAX_NODES];
};

/* One direct write on node i, bounded client-side: 1 acknowledged, 0 not. */
static int node_acks_write(struct pgc_topology *t, int i)
{
	char ci[2048], st[6], err[256];
	int64_t limit = pgc_now_us() + SAMPLE_TIMEOUT_MS * 1000;
	PGconn *c;
	PGresult *r;
	int ok = 0;

	pgc_topology_conninfo(t, &t->d.nodes[i].postgres, NULL, ci, sizeof(ci));
	c = pgc_pg_connect(ci, SAMPLE_TIMEOUT_MS, st, err, sizeof(err));
	if (!c)
		return 0;
	if (!PQsendQuery(c,
			 "INSERT INTO pgc_fence (node) VALUES (current_setting('cluster_name'))"))
		goto out;
	while (PQisBusy(c)) {
		struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
		int64_t left = (limit - pgc_now_us()) / 1000;

		if (left <= 0 || poll(&p, 1, (int)left) < 0 || !PQconsumeInput(c))
			goto out;
	}
	while ((r = PQgetResult(c)) != NULL) {
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
	}
out:
	PQfinish(c);
	return ok;
}

static void sample(struct pgc_topology *t, struct fence *f)
{
	int acked = 0;

	for (int i = 0; i < t->d.nnodes; i++)
		if (node_acks_write(t, i)) {
			int64_t now = pgc_now_us();

			if (!f->acks[i]++)
				f->first_ack_us[i] = now;
			f->last_ack_us[i] = now;
			acked++;
		}
	f->rounds++;
	if (acked > 1)
		f->split_rounds++;
}

struct watch {
	struct pgc_topology *t;
	struct fence *f;
	struct pgc_probe *probe;
	int old;
	int64_t since;
	int phase; /* 0: until a new leader takes writes; 1: until the old one is a replica */
};

static int watch_step(void *arg, char *obs, size_t len)
{
	struct watch *w = arg;
	int l;

	sample(w->t, w->f);
	if (w->phase == 0) {
		l = pt_leader(w->t);
		pgc_fmt(obs, len, "leader %s, %d samples",
			l >= 0 ? w->t->d.nodes[l].name : "(none)", w->f->rounds);
		return l >= 0 && l != w->old && pgc_probe_outage_ms(w->probe, w->since) > 0;
	}
	{
		char ci[2048], out[16], st[6], err[256];

		pgc_topology_conninfo(w->t, &w->t->d.nodes[w->old].postgres, NULL, ci, sizeof(ci));
		if (pgc_pg_query_once(ci, 1000, "SELECT pg_is_in_recovery()", out, sizeof(out), st,
				      err, sizeof(err)))
			pgc_fmt(out, sizeof(out), "?");
		pgc_fmt(obs, len, "old leader %s: pg_is_in_recovery() = %s",
			w->t->d.nodes[w->old].name, out);
		return !strcmp(out, "t");
	}
}

static void split_brain_runbook(struct pgc_topology *t, enum pgc_fault_kind kind)
{
	struct fence f;
	struct watch w;
	struct pgc_probe *probe = NULL;
	char err[1024];
	long budget;
	int old, lost = 0, durable = 0, late = 0;

	if (!t->d.automatic_failover.set || !t->d.automatic_failover.value ||
	    !t->d.failover_budget_ms.set)
		PGC_SKIP("the descriptor does not claim automatic failover with a budget");
	PGC_REQUIRE_DESTRUCTIVE(t);
	if (kind == PGC_FAULT_PARTITION && !t->d.cluster_network[0])
		PGC_SKIP("the descriptor names no cluster network to partition");
	budget = t->d.failover_budget_ms.value;
	memset(&f, 0, sizeof(f));
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("before the fault: %s", err);
	old = pt_leader(t);
	{
		PGconn *c = pgc_safe_connect(t, "RW port", &t->d.rw, NULL);

		pgc_safe_query(c, "RW port",
			       "CREATE TABLE IF NOT EXISTS pgc_fence (node text, at timestamptz "
			       "DEFAULT clock_timestamp())",
			       NULL, 0);
		PQfinish(c);
	}
	if (pgc_probe_start(t, &t->d.rw, 100, 1000, &probe, err, sizeof(err)))
		PGC_FAIL("starting the write prober: %s", err);
	if (pt_wait_acks(probe, 10, 10000, err, sizeof(err)))
		goto fail_probe;
	w = (struct watch){t, &f, probe, old, pgc_now_us(), 0};
	if (pgc_fault_inject(t, kind, t->d.nodes[old].container, err, sizeof(err)))
		goto fail_probe;
	if (pgc_wait_for("a new leader to take writes", budget * 2 > 90000 ? budget * 2 : 90000,
			 100, watch_step, &w, err, sizeof(err)))
		goto fail_probe;
	pgc_rec_metric("outage_ms", pgc_probe_outage_ms(probe, w.since), "ms");
	if (pgc_fault_heal(t, t->d.nodes[old].container, err, sizeof(err)))
		goto fail_probe;
	w.phase = 1;
	if (pgc_wait_for("the old leader to demote after the heal", 90000, 100, watch_step, &w, err,
			 sizeof(err)))
		goto fail_probe;
	pgc_probe_stop(probe);
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		goto fail_probe;
	if (pgc_probe_verify(probe, &t->d.rw, &lost, &durable, err, sizeof(err)))
		goto fail_probe;
	pgc_probe_free(probe);
	for (int i = 0; i < t->d.nnodes; i++)
		if (i != old && f.acks[i] && f.acks[old] && f.last_ack_us[old] > f.first_ack_us[i])
			late++;
	pgc_rec_metric("samples", f.rounds, "rounds");
	pgc_rec_metric("split_brain_samples", f.split_rounds, "rounds");
	pgc_rec_metric("lost_acked", lost, "writes");
	PGC_ASSERT(f.split_rounds == 0,
		   "%s of leader %s: in %d of %d samples two nodes acknowledged writes",
		   pgc_fault_name(kind), t->d.nodes[old].name, f.split_rounds, f.rounds);
	PGC_ASSERT(late == 0,
		   "%s of leader %s: it acknowledged a write after the new leader had taken one",
		   pgc_fault_name(kind), t->d.nodes[old].name);
	PGC_ASSERT(durable > 0 && lost == 0, "%s of leader %s: %d of %d acknowledged writes lost",
		   pgc_fault_name(kind), t->d.nodes[old].name, lost, durable);
	return;
fail_probe:
	pgc_probe_free(probe);
	PGC_FAIL("%s of leader %s: %s", pgc_fault_name(kind), t->d.nodes[old].name, err);
}

/* Broken variant: asynchronous replication claimed synchronous (the isolated leader keeps
 * acknowledging writes that the new timeline loses). */
static void test_partitioned_leader_no_split_brain(void **state)
{
	split_brain_runbook(pgc_topo(state), PGC_FAULT_PARTITION);
}

static void test_paused_leader_no_split_brain(void **state)
{
	split_brain_runbook(pgc_topo(state), PGC_FAULT_PAUSE);
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_partitioned_leader_no_split_brain),
    PGC_CHECK_TEST(test_paused_leader_no_split_brain),
};

const struct pgc_suite pgc_suite_partition = {
    .name = "split-brain",
    .kinds = 1 << PGC_PATRONI,
    .destructive = 1,
    .summary = "partition and pause of the leader: never two writers; acked writes survive",
    .tests = PGC_TESTS(tests),
};
