/* pool.c - PgPool cluster questions shared by the suites. */
#include "pool.h"
#include "deadline.h"

#include <stdlib.h>
#include <string.h>

int pp_node_ids(struct pgc_topology *t, struct pp_ids *ids)
{
	char ci[2048], st[6], err[512];
	int n = 0;

	memset(ids, 0, sizeof(*ids));
	for (int i = 0; i < t->d.nnodes; i++) {
		pgc_topology_conninfo(t, &t->d.nodes[i].postgres, NULL, ci, sizeof(ci));
		if (pgc_pg_query_once(ci, 3000, "SELECT " PP_ID_SQL, ids->id[i], sizeof(ids->id[i]),
				      st, err, sizeof(err)) == 0)
			n++;
		else
			ids->id[i][0] = '\0';
	}
	return n;
}

int pp_which(const struct pgc_topology *t, const struct pp_ids *ids, const char *id)
{
	for (int i = 0; i < t->d.nnodes; i++)
		if (ids->id[i][0] && !strcmp(ids->id[i], id))
			return i;
	return -1;
}

int pp_pool_node(const struct pgc_topology *t, const char *host)
{
	for (int i = 0; i < t->d.nnodes; i++) {
		const struct pgc_node *n = &t->d.nodes[i];

		if ((n->ip[0] && !strcmp(n->ip, host)) || !strcmp(n->postgres.host, host) ||
		    (n->container[0] && !strcmp(n->container, host)) || !strcmp(n->name, host))
			return i;
	}
	return -1;
}

int pp_in_recovery(struct pgc_topology *t, int i, char *err, size_t errlen)
{
	char ci[2048], st[6], out[8];

	pgc_topology_conninfo(t, &t->d.nodes[i].postgres, NULL, ci, sizeof(ci));
	if (pgc_pg_query_once(ci, 3000, "SELECT pg_is_in_recovery()", out, sizeof(out), st, err,
			      errlen))
		return -1;
	return !strcmp(out, "t");
}

int pp_primary(struct pgc_topology *t)
{
	char err[512];
	int p = -1, n = 0;

	for (int i = 0; i < t->d.nnodes; i++)
		if (pp_in_recovery(t, i, err, sizeof(err)) == 0) {
			p = i;
			n++;
		}
	return n == 1 ? p : -1;
}

int pp_pool_nodes(struct pgc_topology *t, struct pgc_pool_node *out, int *idx, int timeout_ms,
		  char *err, size_t errlen)
{
	char ci[2048], st[6];
	PGconn *c;
	int n;

	pgc_topology_conninfo(t, &t->d.pooler, NULL, ci, sizeof(ci));
	c = pgc_pg_connect(ci, timeout_ms, st, err, errlen);
	if (!c)
		return -1;
	n = pgc_pool_nodes(c, out, PGC_MAX_NODES, err, errlen);
	PQfinish(c);
	for (int i = 0; idx && i < n; i++)
		idx[i] = pp_pool_node(t, out[i].host);
	return n;
}

int pp_pool_status(struct pgc_topology *t, const char *item, char *out, size_t outlen, char *err,
		   size_t errlen)
{
	char ci[2048], st[6];
	PGconn *c;
	PGresult *r;
	int rc = -1;

	pgc_topology_conninfo(t, &t->d.pooler, NULL, ci, sizeof(ci));
	c = pgc_pg_connect(ci, 5000, st, err, errlen);
	if (!c)
		return -1;
	r = PQexec(c, "SHOW pool_status");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pgc_fmt(err, errlen, "SHOW pool_status failed: %s", PQerrorMessage(c));
		err[strcspn(err, "\n")] = '\0';
		goto out;
	}
	pgc_fmt(err, errlen, "SHOW pool_status has no item %s", item);
	for (int i = 0; i < PQntuples(r); i++)
		if (!strcmp(PQgetvalue(r, i, 0), item)) {
			pgc_fmt(out, outlen, "%s", PQgetvalue(r, i, 1));
			rc = 0;
			break;
		}
out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

struct pool_wait {
	struct pgc_topology *t;
	int node, stream;
	const char *status;
};

static int pool_status_step(void *arg, char *obs, size_t len)
{
	struct pool_wait *w = arg;
	struct pgc_pool_node p[PGC_MAX_NODES];
	int idx[PGC_MAX_NODES], n;
	char err[512];

	n = pp_pool_nodes(w->t, p, idx, 2000, err, sizeof(err));
	if (n < 0) {
		pgc_fmt(obs, len, "%s", err);
		return 0;
	}
	for (int i = 0; i < n; i++)
		if (idx[i] == w->node) {
			pgc_fmt(obs, len, "pgpool lists %s as %s/%s, replication_state \"%s\"",
				p[i].host, p[i].status, p[i].role, p[i].replication_state);
			return !strcmp(p[i].status, w->status) &&
			       (!w->stream || !strcmp(p[i].replication_state, "streaming"));
		}
	pgc_fmt(obs, len, "SHOW POOL_NODES does not list node %s", w->t->d.nodes[w->node].name);
	return 0;
}

int pp_wait_pool_status(struct pgc_topology *t, int i, const char *status, int stream,
			long timeout_ms, long interval_ms, char *err, size_t errlen)
{
	struct pool_wait w = {t, i, stream, status};
	char what[160];

	pgc_fmt(what, sizeof(what), "pgpool to list node %s as %s%s", t->d.nodes[i].name, status,
		stream ? " and streaming" : "");
	return pgc_wait_for(what, timeout_ms, interval_ms, pool_status_step, &w, err, errlen) ? -1
											      : 0;
}
