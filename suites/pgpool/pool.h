/* pool.h - what several PgPool suites ask of the cluster: which node answered, which node is
 * primary by SQL, pgpool's own view (SHOW POOL_NODES, SHOW pool_status). */
#ifndef PGC_PGPOOL_POOL_H
#define PGC_PGPOOL_POOL_H
#include "pgpool.h"
#include "suite.h"

/* A node's identity as SQL sees it: the postmaster start time (unique per running server, the
 * same whichever network or proxy the session came through) and the server address. Stable
 * functions only, so pgpool may load-balance a SELECT of it. */
#define PP_ID_SQL                                                                                  \
	"pg_postmaster_start_time()::text || ' ' || coalesce(host(inet_server_addr()), '')"

struct pp_ids {
	char id[PGC_MAX_NODES][96]; /* "" when the node did not answer */
};

/* Reads every node's identity directly. Returns how many answered. */
int pp_node_ids(struct pgc_topology *t, struct pp_ids *ids);

/* The descriptor node that returned id (a PP_ID_SQL value), or -1. */
int pp_which(const struct pgc_topology *t, const struct pp_ids *ids, const char *id);

/* The descriptor node a SHOW POOL_NODES hostname names (ip, address, container or name), or -1. */
int pp_pool_node(const struct pgc_topology *t, const char *host);

/* pg_is_in_recovery() on node i directly: 1 standby, 0 primary, -1 unreachable (err). */
int pp_in_recovery(struct pgc_topology *t, int i, char *err, size_t errlen);

/* The only node not in recovery, by SQL; -1 when none or several. */
int pp_primary(struct pgc_topology *t);

/* SHOW POOL_NODES over a fresh pgpool session, each row's descriptor node in idx (may be NULL).
 * Returns the number of rows, or -1 with err. timeout_ms bounds the connect. */
int pp_pool_nodes(struct pgc_topology *t, struct pgc_pool_node *out, int *idx, int timeout_ms,
		  char *err, size_t errlen);

/* The value of one SHOW pool_status item (e.g. num_init_children). 0, or -1 with err. */
int pp_pool_status(struct pgc_topology *t, const char *item, char *out, size_t outlen, char *err,
		   size_t errlen);

/* Waits until pgpool lists node i with status (and, when stream is set, a streaming
 * replication_state). 0, or -1 with err. */
int pp_wait_pool_status(struct pgc_topology *t, int i, const char *status, int stream,
			long timeout_ms, long interval_ms, char *err, size_t errlen);

#endif
