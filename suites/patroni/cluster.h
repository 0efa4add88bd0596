/* cluster.h - what several Patroni suites ask of the cluster. */
#ifndef PGC_PATRONI_CLUSTER_H
#define PGC_PATRONI_CLUSTER_H
#include "suite.h"

/* Index of the node whose REST API says primary, if exactly one does; -1 otherwise. */
int pt_leader(struct pgc_topology *t);

/* Index of the node the leader lists as sync in pg_stat_replication; -1 if none or several. */
int pt_sync_standby(struct pgc_topology *t, int leader);

/* Waits until a node other than old (-1: any) reports role primary; returns its index or -1
 * with err. */
int pt_wait_new_leader(struct pgc_topology *t, int old, long timeout_ms, char *err, size_t errlen);

/* Waits until node i is a streaming replica on timeline >= min_timeline. */
int pt_wait_streaming(struct pgc_topology *t, int i, int min_timeline, long timeout_ms, char *err,
		      size_t errlen);

/* Waits until the RW port routes to node i. */
int pt_wait_rw_routes_to(struct pgc_topology *t, int i, long timeout_ms, char *err, size_t errlen);

/* Timeline of node i per its REST API (0 if unknown). */
int pt_timeline(struct pgc_topology *t, int i);

#endif

struct pgc_probe;
/* Waits until the prober has an acknowledged write after a failed one since since_us (or, if
 * nothing failed, `settle` acknowledged writes after since_us). */
int pt_wait_writes_restored(struct pgc_probe *p, int64_t since_us, long timeout_ms, char *err,
			    size_t errlen);
/* Waits until the prober has n more attempts acknowledged. */
int pt_wait_acks(struct pgc_probe *p, int n, long timeout_ms, char *err, size_t errlen);
