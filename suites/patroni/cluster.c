/* cluster.c - Patroni cluster questions shared by the suites. */
#include "cluster.h"
#include "deadline.h"
#include "patroni.h"

#include <stdlib.h>
#include <string.h>

int pt_leader(struct pgc_topology *t)
{
	char name[64];

	if (pgc_patroni_leader(t, name, sizeof(name)))
		return -1;
	for (int i = 0; i < t->d.nnodes; i++)
		if (!strcmp(t->d.nodes[i].name, name))
			return i;
	return -1;
}

int pt_sync_standby(struct pgc_topology *t, int leader)
{
	char ci[2048], out[256], st[6], err[512];

	if (leader < 0)
		return -1;
	pgc_topology_conninfo(t, &t->d.nodes[leader].postgres, NULL, ci, sizeof(ci));
	if (pgc_pg_query_once(
		ci, 3000,
		"SELECT CASE WHEN count(*) = 1 THEN min(application_name) ELSE '' END "
		"FROM pg_stat_replication WHERE sync_state = 'sync'",
		out, sizeof(out), st, err, sizeof(err)))
		return -1;
	for (int i = 0; i < t->d.nnodes; i++)
		if (!strcmp(t->d.nodes[i].name, out))
			return i;
	return -1;
}

int pt_timeline(struct pgc_topology *t, int i)
{
	struct pgc_patroni_member m;

	return pgc_patroni_member(t, &t->d.nodes[i], &m) ? 0 : m.timeline;
}

struct new_leader {
	struct pgc_topology *t;
	int old, found;
};

static int new_leader_step(void *arg, char *obs, size_t len)
{
	struct new_leader *w = arg;
	int l = pt_leader(w->t);

	if (l >= 0 && l != w->old) {
		w->found = l;
		pgc_fmt(obs, len, "%s is leader", w->t->d.nodes[l].name);
		return 1;
	}
	pgc_fmt(obs, len, "%s", l < 0 ? "no single leader" : "the old leader still leads");
	return 0;
}

int pt_wait_new_leader(struct pgc_topology *t, int old, long timeout_ms, char *err, size_t errlen)
{
	struct new_leader w = {t, old, -1};

	if (pgc_wait_for("a new Patroni leader", timeout_ms, 100, new_leader_step, &w, err, errlen))
		return -1;
	return w.found;
}

struct streaming {
	struct pgc_topology *t;
	int i, min_tl;
};

static int streaming_step(void *arg, char *obs, size_t len)
{
	struct streaming *w = arg;
	struct pgc_patroni_member m;

	if (pgc_patroni_member(w->t, &w->t->d.nodes[w->i], &m)) {
		pgc_fmt(obs, len, "%s", m.error);
		return 0;
	}
	pgc_fmt(obs, len, "%s is %s/%s on timeline %d", m.name, m.role, m.state, m.timeline);
	return !strcmp(m.role, "replica") && !strcmp(m.state, "streaming") &&
	       m.timeline >= w->min_tl;
}

int pt_wait_streaming(struct pgc_topology *t, int i, int min_timeline, long timeout_ms, char *err,
		      size_t errlen)
{
	struct streaming w = {t, i, min_timeline};
	char what[128];

	pgc_fmt(what, sizeof(what), "%s to stream on timeline %d", t->d.nodes[i].name,
		min_timeline);
	return pgc_wait_for(what, timeout_ms, 100, streaming_step, &w, err, errlen) ? -1 : 0;
}

struct routes {
	struct pgc_topology *t;
	int i;
};

static int routes_step(void *arg, char *obs, size_t len)
{
	struct routes *w = arg;
	char ci[2048], out[64], st[6], err[512];

	pgc_topology_conninfo(w->t, &w->t->d.rw, "connect_timeout=2", ci, sizeof(ci));
	if (pgc_pg_query_once(ci, 1000,
			      "SELECT host(inet_server_addr()) || ' ' || pg_is_in_recovery()", out,
			      sizeof(out), st, err, sizeof(err))) {
		pgc_fmt(obs, len, "RW: %s", err);
		return 0;
	}
	pgc_fmt(obs, len, "RW reaches %s", out);
	{
		char want[96];

		pgc_fmt(want, sizeof(want), "%s false", w->t->d.nodes[w->i].postgres.host);
		return !strcmp(out, want);
	}
}

int pt_wait_rw_routes_to(struct pgc_topology *t, int i, long timeout_ms, char *err, size_t errlen)
{
	struct routes w = {t, i};

	return pgc_wait_for("the RW port to route to the new leader", timeout_ms, 100, routes_step,
			    &w, err, errlen)
		   ? -1
		   : 0;
}

#include "probe.h"

struct restored {
	struct pgc_probe *p;
	int64_t since;
};

static int restored_step(void *arg, char *obs, size_t len)
{
	struct restored *w = arg;
	long out = pgc_probe_outage_ms(w->p, w->since);
	int counts[4];

	pgc_probe_counts(w->p, counts);
	pgc_fmt(obs, len, "probe: %d acked, %d failed, %d indeterminate so far", counts[PGC_ACKED],
		counts[PGC_REFUSED], counts[PGC_INDETERMINATE]);
	return out > 0;
}

int pt_wait_writes_restored(struct pgc_probe *p, int64_t since_us, long timeout_ms, char *err,
			    size_t errlen)
{
	struct restored w = {p, since_us};

	return pgc_wait_for("writes to succeed again through the RW port", timeout_ms, 100,
			    restored_step, &w, err, errlen)
		   ? -1
		   : 0;
}

struct acks {
	struct pgc_probe *p;
	int target;
};

static int acks_step(void *arg, char *obs, size_t len)
{
	struct acks *w = arg;
	int counts[4];

	pgc_probe_counts(w->p, counts);
	pgc_fmt(obs, len, "%d acknowledged writes", counts[PGC_ACKED]);
	return counts[PGC_ACKED] >= w->target;
}

int pt_wait_acks(struct pgc_probe *p, int n, long timeout_ms, char *err, size_t errlen)
{
	struct acks w = {p, 0};
	int counts[4];

	pgc_probe_counts(p, counts);
	w.target = counts[PGC_ACKED] + n;
	return pgc_wait_for("acknowledged probe writes", timeout_ms, 50, acks_step, &w, err, errlen)
		   ? -1
		   : 0;
}
