/* primary_loss.c - SIGKILL of the primary under the claim "no automatic failover": writes stop,
 * reads go on on the standbys, no standby promotes itself, and the acknowledged writes the
 * standbys never received are counted (asynchronous replication may lose some).
 *
 * Runbook: a write prober runs through RW (5100 -> pgpool) every 100 ms; kill -9 the primary;
 * sample for OBSERVE_MS every 500 ms: a read through RO (5101), a read through pgpool, each
 * standby's pg_is_in_recovery(), pgpool's SHOW POOL_NODES; stop the prober; let each standby
 * replay what it received and read the ledger there; start the primary and bring pgpool back to
 * healthy. A check's teardown heals its faults, so the first check runs the whole runbook and
 * records; the others judge what it recorded. */
#include "deadline.h"
#include "docker.h"
#include "fault.h"
#include "pool.h"
#include "probe.h"

#include <stdlib.h>
#include <string.h>

/* The claim's observation period: "no standby promotes itself" is checked over this window
 * after the kill (pgpool's failover would act within health_check + search_primary_node_timeout,
 * a few seconds here; a self-promoting standby manager within its own ttl, typically 30 s). */
#define OBSERVE_MS 30000
#define SAMPLE_MS  500
#define MAX_GAP_MS                                                                                 \
	5000 /* the resolution: a stalled pgpool call (1 s connect + its query) sits between two   \
		looks; a promotion persists, so a gap cannot hide one */
/* An attempt that started this long after the kill cannot have committed on the killed primary
 * (the prober's client timeout is 1000 ms; an attempt in flight at the kill may still be acked
 * if its COMMIT reached the server before it died). */
#define GRACE_MS 1000

static struct {
	int done;
	int primary;
	struct pgc_probe *probe;
	int64_t kill_us;
	/* writes */
	int acked_after_grace, failed_after_kill;
	long last_ack_to_kill_ms;
	/* reads */
	int ro_ok, ro_err, pool_ok, pool_err, pool_err_after_resume;
	long pool_resumed_ms; /* -1: never */
	char ro_first_err[512], pool_first_err[512];
	/* promotion */
	int samples, promoted_samples, pool_primary_samples;
	long max_gap_ms; /* longest time between two looks at the standbys */
	int64_t last_look_us;
	char promoted_what[256];
	/* loss */
	int verified, lost_max, lost_min, durable;
	char verify_err[512];
	/* recovery */
	int healthy, pgpool_restarted;
	char heal_err[1024];
} pl;

static void require_claim(struct pgc_topology *t)
{
	if (!t->d.automatic_failover.set || t->d.automatic_failover.value)
		PGC_SKIP("the descriptor does not claim \"no automatic failover\" "
			 "(automatic_failover: false)");
	PGC_REQUIRE_DESTRUCTIVE(t);
}

struct acks {
	struct pgc_probe *p;
	int want;
};

static int acks_step(void *arg, char *obs, size_t len)
{
	struct acks *w = arg;
	int c[4];

	pgc_probe_counts(w->p, c);
	pgc_fmt(obs, len, "%d acked, %d failed, %d indeterminate", c[PGC_ACKED], c[PGC_REFUSED],
		c[PGC_INDETERMINATE]);
	return c[PGC_ACKED] >= w->want;
}

/* Each standby's pg_is_in_recovery(), directly (fast: the standbys are untouched). */
static void look_at_standbys(struct pgc_topology *t)
{
	int64_t now = pgc_now_us();
	char err[512];

	if (pl.last_look_us && (now - pl.last_look_us) / 1000 > pl.max_gap_ms)
		pl.max_gap_ms = (now - pl.last_look_us) / 1000;
	pl.last_look_us = now;
	pl.samples++;
	for (int i = 0; i < t->d.nnodes; i++)
		if (i != pl.primary && pp_in_recovery(t, i, err, sizeof(err)) == 0 &&
		    !pl.promoted_samples++)
			pgc_fmt(pl.promoted_what, sizeof(pl.promoted_what),
				"standby %s left recovery %lld ms after the kill",
				t->d.nodes[i].name, (long long)(now - pl.kill_us) / 1000);
}

/* One sample of the window. Sessions through pgpool may hang while it detaches the primary, so
 * they get 1 s each; the standbys are looked at before and after them. */
static void sample(struct pgc_topology *t, const char *db)
{
	struct pgc_pool_node p[PGC_MAX_NODES];
	int idx[PGC_MAX_NODES], n;
	char ci[2048], v[128], st[6], err[512];

	look_at_standbys(t);
	if (t->d.ro.port) {
		pgc_topology_conninfo(t, &t->d.ro, NULL, ci, sizeof(ci));
		if (pgc_pg_query_once(ci, 1000, "SELECT pg_is_in_recovery()", v, sizeof(v), st, err,
				      sizeof(err)) == 0 &&
		    !strcmp(v, "t"))
			pl.ro_ok++;
		else if (!pl.ro_err++)
			pgc_fmt(pl.ro_first_err, sizeof(pl.ro_first_err), "%s %s", st,
				st[0] || err[0] ? err : "reached a node not in recovery");
	}
	pgc_topology_conninfo(t, &t->d.pooler, db, ci, sizeof(ci));
	if (pgc_pg_query_once(ci, 1000, "SELECT 1", v, sizeof(v), st, err, sizeof(err)) == 0) {
		pl.pool_ok++;
		if (pl.pool_resumed_ms < 0)
			pl.pool_resumed_ms = (pgc_now_us() - pl.kill_us) / 1000;
	} else {
		if (!pl.pool_err++)
			pgc_fmt(pl.pool_first_err, sizeof(pl.pool_first_err), "%s %s", st, err);
		pl.pool_err_after_resume += pl.pool_resumed_ms >= 0;
	}
	look_at_standbys(t);
	n = pp_pool_nodes(t, p, idx, 1000, err, sizeof(err));
	for (int i = 0; i < n; i++)
		if (idx[i] != pl.primary && !strcmp(p[i].role, "primary") &&
		    strcmp(p[i].status, "down")) {
			if (!pl.pool_primary_samples++ && !pl.promoted_what[0])
				pgc_fmt(pl.promoted_what, sizeof(pl.promoted_what),
					"pgpool lists %s as primary %lld ms after the kill",
					p[i].host, (long long)(pgc_now_us() - pl.kill_us) / 1000);
			break;
		}
	/* between every pgpool call, so a stalled pgpool cannot hide the standbys */
	look_at_standbys(t);
}

struct caught_up {
	struct pgc_topology *t;
	int node;
};

/* A standby cut from its primary has replayed everything it received. */
static int caught_up_step(void *arg, char *obs, size_t len)
{
	struct caught_up *w = arg;
	char ci[2048], v[128], st[6], err[512];

	pgc_topology_conninfo(w->t, &w->t->d.nodes[w->node].postgres, NULL, ci, sizeof(ci));
	if (pgc_pg_query_once(
		ci, 2000,
		"SELECT (pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn())::text "
		"|| ' replay ' || pg_last_wal_replay_lsn() || ' receive ' || "
		"pg_last_wal_receive_lsn()",
		v, sizeof(v), st, err, sizeof(err))) {
		pgc_fmt(obs, len, "%s: %s", w->t->d.nodes[w->node].name, err);
		return 0;
	}
	pgc_fmt(obs, len, "%s: %s", w->t->d.nodes[w->node].name, v);
	return !strncmp(v, "true", 4);
}

static void count_loss(struct pgc_topology *t)
{
	char err[1024];

	pl.lost_min = -1;
	for (int i = 0; i < t->d.nnodes; i++) {
		struct caught_up w = {t, i};
		int lost, durable;

		if (i == pl.primary)
			continue;
		if (pgc_wait_for("a standby to replay all it received", 30000, 100, caught_up_step,
				 &w, err, sizeof(err)) ||
		    pgc_probe_verify(pl.probe, &t->d.nodes[i].postgres, &lost, &durable, err,
				     sizeof(err))) {
			pgc_fmt(pl.verify_err, sizeof(pl.verify_err), "standby %s: %s",
				t->d.nodes[i].name, err);
			return;
		}
		if (lost > pl.lost_max)
			pl.lost_max = lost;
		if (pl.lost_min < 0 || lost < pl.lost_min)
			pl.lost_min = lost;
		pl.durable = durable;
	}
	pl.verified = 1;
}

static void judge_writes(void)
{
	struct pgc_attempt *a;
	int n = pgc_probe_snapshot(pl.probe, &a);
	int64_t last_ack = 0;

	for (int i = 0; i < n; i++) {
		int acked = a[i].outcome == PGC_ACKED || a[i].outcome == PGC_ACKED_WARNING;

		if (acked && a[i].end_us <= pl.kill_us && a[i].end_us > last_ack)
			last_ack = a[i].end_us;
		if (acked && a[i].start_us > pl.kill_us + GRACE_MS * 1000)
			pl.acked_after_grace++;
		if (!acked && a[i].start_us >= pl.kill_us)
			pl.failed_after_kill++;
	}
	pl.last_ack_to_kill_ms = last_ack ? (pl.kill_us - last_ack) / 1000 : -1;
	free(a);
}

/* The restarted primary streams to every standby again. */
static int streaming_step(void *arg, char *obs, size_t len)
{
	struct pgc_topology *t = arg;
	char ci[2048], v[32], st[6], err[512];

	pgc_topology_conninfo(t, &t->d.nodes[pl.primary].postgres, NULL, ci, sizeof(ci));
	if (pgc_pg_query_once(ci, 2000,
			      "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
			      v, sizeof(v), st, err, sizeof(err))) {
		pgc_fmt(obs, len, "primary %s: %s", t->d.nodes[pl.primary].name, err);
		return 0;
	}
	pgc_fmt(obs, len, "primary %s streams to %s standbys", t->d.nodes[pl.primary].name, v);
	return atoi(v) >= t->d.nnodes - 1;
}

/* Brings the cluster back: start the primary; pgpool never re-attaches a primary it detached
 * (no PCP user here), so when it stays down the operator's step is a pgpool restart (-D
 * discards the saved status). */
static void heal(struct pgc_topology *t)
{
	char err[1024];

	if (pgc_fault_heal(t, t->d.nodes[pl.primary].container, err, sizeof(err))) {
		pgc_fmt(pl.heal_err, sizeof(pl.heal_err), "starting the primary: %s", err);
		return;
	}
	if (pgc_wait_for("the standbys to stream from the restarted primary", 60000, 250,
			 streaming_step, t, err, sizeof(err))) {
		pgc_fmt(pl.heal_err, sizeof(pl.heal_err), "%s", err);
		return;
	}
	/* auto_failback acts within a few seconds for a standby; give pgpool 10 s */
	if (pgc_topology_wait_healthy(t, 10000, err, sizeof(err)) == 0) {
		pl.healthy = 1;
		return;
	}
	if (!t->d.pooler_container[0]) {
		pgc_fmt(pl.heal_err, sizeof(pl.heal_err), "%s", err);
		return;
	}
	pl.pgpool_restarted = 1;
	if (pgc_docker_stop(t->docker, t->d.pooler_container, 10, err, sizeof(err)) ||
	    pgc_docker_start(t->docker, t->d.pooler_container, err, sizeof(err)) ||
	    pgc_topology_wait_healthy(t, 120000, err, sizeof(err))) {
		pgc_fmt(pl.heal_err, sizeof(pl.heal_err), "after restarting pgpool: %s", err);
		return;
	}
	pl.healthy = 1;
}

/* Kill the primary: the prober sees writes fail and none acknowledged after the grace.
 * Broken variant: a failover_command that promotes a standby (writes come back through
 * pgpool: acked_after_grace > 0). */
static void test_primary_kill_stops_writes(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct acks w;
	char err[1024], db[128];
	int c[4];

	pgc_probe_free(pl.probe);
	memset(&pl, 0, sizeof(pl));
	pl.pool_resumed_ms = -1;
	require_claim(t);
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("before the fault: %s", err);
	pl.primary = pp_primary(t);
	PGC_ASSERT(pl.primary >= 0, "expected exactly one node not in recovery");
	PGC_ASSERT(t->d.nodes[pl.primary].container[0], "primary %s has no container to kill",
		   t->d.nodes[pl.primary].name);
	if (pgc_probe_start(t, &t->d.rw, 100, 1000, &pl.probe, err, sizeof(err)))
		PGC_FAIL("starting the write prober through RW: %s", err);
	w.p = pl.probe;
	pgc_probe_counts(pl.probe, c);
	w.want = c[PGC_ACKED] + 10;
	if (pgc_wait_for("10 acknowledged probe writes", 10000, 100, acks_step, &w, err,
			 sizeof(err)))
		PGC_FAIL("before the fault: %s", err);

	pl.kill_us = pgc_now_us();
	if (pgc_fault_inject(t, PGC_FAULT_KILL, t->d.nodes[pl.primary].container, err, sizeof(err)))
		PGC_FAIL("SIGKILL of primary %s: %s", t->d.nodes[pl.primary].name, err);
	pgc_fmt(db, sizeof(db), "dbname=%s",
		t->d.pooled_database[0] ? t->d.pooled_database : t->d.database);
	while (pgc_now_us() - pl.kill_us < (int64_t)OBSERVE_MS * 1000 && !pgc_interrupted) {
		int64_t s0 = pgc_now_us();

		sample(t, db);
		if ((pgc_now_us() - s0) / 1000 < SAMPLE_MS)
			pgc_pause_ms(SAMPLE_MS - (pgc_now_us() - s0) / 1000);
	}
	pgc_probe_stop(pl.probe);
	judge_writes();
	count_loss(t);
	heal(t);
	pl.done = 1;

	pgc_probe_counts(pl.probe, c);
	pgc_rec_metric("probe_acked", c[PGC_ACKED], "writes");
	pgc_rec_metric("probe_failed", c[PGC_REFUSED], "writes");
	pgc_rec_metric("probe_indeterminate", c[PGC_INDETERMINATE], "writes");
	pgc_rec_metric("failed_after_kill", pl.failed_after_kill, "writes");
	pgc_rec_metric("acked_after_grace", pl.acked_after_grace, "writes");
	PGC_ASSERT(pl.failed_after_kill > 0,
		   "after SIGKILL of primary %s the prober saw no failed write",
		   t->d.nodes[pl.primary].name);
	PGC_ASSERT(pl.acked_after_grace == 0,
		   "after SIGKILL of primary %s, %d writes started more than %d ms later were "
		   "acknowledged: something accepted writes (a promotion?)",
		   t->d.nodes[pl.primary].name, pl.acked_after_grace, GRACE_MS);
}

static void require_done(struct pgc_topology *t)
{
	require_claim(t);
	if (!pl.done)
		PGC_FAIL("the primary-loss runbook did not complete (see "
			 "test_primary_kill_stops_writes)");
}

/* Reads through RO never fail (its backends, the standbys, are untouched); reads through pgpool
 * resume within standby_detach_budget_ms (pgpool must first detach the dead primary; 30 s when
 * no budget is stated) and do not fail after that. Broken variants: the primary in HAProxy's RO
 * backend (RO reads fail); pgpool that refuses sessions while it has no primary. */
static void test_reads_continue(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	long budget =
	    t->d.standby_detach_budget_ms.set ? t->d.standby_detach_budget_ms.value : 30000;

	require_done(t);
	pgc_rec_metric("ro_reads_ok", pl.ro_ok, "reads");
	pgc_rec_metric("ro_reads_failed", pl.ro_err, "reads");
	pgc_rec_metric("pgpool_reads_ok", pl.pool_ok, "reads");
	pgc_rec_metric("pgpool_reads_failed", pl.pool_err, "reads");
	pgc_rec_metric("pgpool_reads_resumed_ms", pl.pool_resumed_ms, "ms");
	pgc_rec_metric("pgpool_reads_failed_after_resume", pl.pool_err_after_resume, "reads");
	PGC_ASSERT(pl.ro_err == 0,
		   "RO port: %d of %d reads failed after the primary was killed; "
		   "first: %s",
		   pl.ro_err, pl.ro_err + pl.ro_ok, pl.ro_first_err);
	PGC_ASSERT(pl.pool_resumed_ms >= 0 && pl.pool_resumed_ms <= budget,
		   "pgpool: reads resumed %ld ms after the primary was killed (-1: never), budget "
		   "%ld ms; first error: %s",
		   pl.pool_resumed_ms, budget, pl.pool_first_err);
	PGC_ASSERT(pl.pool_err_after_resume == 0,
		   "pgpool: %d reads failed after reads had resumed; first error: %s",
		   pl.pool_err_after_resume, pl.pool_first_err);
}

/* No standby leaves recovery and pgpool names no new primary during the OBSERVE_MS window.
 * Broken variant: a failover_command running pg_ctl promote on a standby. */
static void test_no_standby_promoted(void **state)
{
	struct pgc_topology *t = pgc_topo(state);

	require_done(t);
	pgc_rec_metric("samples", pl.samples, "samples");
	pgc_rec_metric("sample_max_gap_ms", pl.max_gap_ms, "ms");
	PGC_ASSERT(pl.promoted_samples == 0 && pl.pool_primary_samples == 0,
		   "no automatic failover is claimed, but %s (%d + %d of %d samples)",
		   pl.promoted_what, pl.promoted_samples, pl.pool_primary_samples, pl.samples);
	PGC_ASSERT(pl.max_gap_ms <= MAX_GAP_MS,
		   "the standbys went unobserved for %ld ms in the window (resolution %d ms)",
		   pl.max_gap_ms, MAX_GAP_MS);
}

/* Acknowledged writes the standbys never received: recorded, not required to be 0 (replication
 * is asynchronous) unless the descriptor states max_acked_loss. Fails when the ledger cannot be
 * read back or the prober had nothing acknowledged to verify. */
static void test_acked_write_loss_window(void **state)
{
	struct pgc_topology *t = pgc_topo(state);

	require_done(t);
	PGC_ASSERT(pl.verified, "reading the ledger back on the standbys: %s", pl.verify_err);
	pgc_rec_metric("durable_acks", pl.durable, "writes");
	pgc_rec_metric("acked_lost", pl.lost_max, "writes");
	pgc_rec_metric("acked_lost_best_standby", pl.lost_min, "writes");
	pgc_rec_metric("last_ack_to_kill_ms", pl.last_ack_to_kill_ms, "ms");
	PGC_ASSERT(pl.durable > 0, "the prober had no acknowledged write to verify");
	PGC_ASSERT(!t->d.max_acked_loss.set || pl.lost_max <= t->d.max_acked_loss.value,
		   "%d of %d acknowledged writes are missing on a standby (allowed %ld)",
		   pl.lost_max, pl.durable, t->d.max_acked_loss.value);
}

/* The primary restarted, pgpool is healthy again (restarted when it would not re-attach the
 * primary on its own; recorded). */
static void test_recovers_after_restart(void **state)
{
	struct pgc_topology *t = pgc_topo(state);

	require_done(t);
	pgc_rec_metric("pgpool_restarted", pl.pgpool_restarted, "");
	PGC_ASSERT(pl.healthy, "after restarting primary %s: %s", t->d.nodes[pl.primary].name,
		   pl.heal_err);
}

static int teardown_group(void **state)
{
	(void)state;
	pgc_probe_free(pl.probe);
	pl.probe = NULL;
	return 0;
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_primary_kill_stops_writes), PGC_CHECK_TEST(test_reads_continue),
    PGC_CHECK_TEST(test_no_standby_promoted),       PGC_CHECK_TEST(test_acked_write_loss_window),
    PGC_CHECK_TEST(test_recovers_after_restart),
};

const struct pgc_suite pgc_suite_pool_primary_loss = {
    .name = "primary-loss",
    .kinds = 1 << PGC_PGPOOL,
    .destructive = 1,
    .summary = "SIGKILL of the primary without automatic failover: writes stop, reads go on, no "
	       "standby promotes itself, acked-write loss recorded; recovery",
    .tests = PGC_TESTS(tests),
    .group_teardown = teardown_group,
};
