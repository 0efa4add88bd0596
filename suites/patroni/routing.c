/* routing.c - HAProxy routing: RW reaches only the leader; RO never the leader and every
 * healthy replica; a write through RO is refused with 25006. */
#include "patroni.h"
#include "suite.h"

#include <stdlib.h>
#include <string.h>

#define RW_CONNECTIONS 20
/* Round robin over r healthy replicas reaches each at least once in 30 connections; were the
 * choice random, P(one unseen) = r * (1 - 1/r)^30, 1.9e-9 for r = 2. */
#define RO_CONNECTIONS 30

/* Which node answered: its address on the network HAProxy dials. */
static int landed_on(struct pgc_topology *t, const struct pgc_hostport *ep, const char *what,
		     char *rec, size_t reclen)
{
	PGconn *c = pgc_safe_connect(t, what, ep, NULL);
	char addr[64];

	pgc_safe_query(c, what, "SELECT host(inet_server_addr())", addr, sizeof(addr));
	pgc_safe_query(c, what, "SELECT pg_is_in_recovery()", rec, reclen);
	PQfinish(c);
	for (int i = 0; i < t->d.nnodes; i++)
		if (!strcmp(t->d.nodes[i].postgres.host, addr) || !strcmp(t->d.nodes[i].ip, addr))
			return i;
	PGC_FAIL("%s: landed on %s, which is no node of the descriptor", what, addr);
	return -1;
}

static int leader_index(struct pgc_topology *t)
{
	char name[64];

	if (pgc_patroni_leader(t, name, sizeof(name)))
		PGC_FAIL("there is no single leader to route to");
	for (int i = 0; i < t->d.nnodes; i++)
		if (!strcmp(t->d.nodes[i].name, name))
			return i;
	PGC_FAIL("leader %s is not a node of the descriptor", name);
	return -1;
}

/* Broken variant: HAProxy RW checking /health instead of /primary. */
static void test_rw_reaches_only_leader(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	int leader = leader_index(t);

	for (int k = 0; k < RW_CONNECTIONS; k++) {
		char rec[8];
		int at = landed_on(t, &t->d.rw, "RW port", rec, sizeof(rec));

		PGC_ASSERT(at == leader && !strcmp(rec, "f"),
			   "RW connection %d of %d landed on %s (pg_is_in_recovery %s), leader is "
			   "%s",
			   k + 1, RW_CONNECTIONS, t->d.nodes[at].name, rec,
			   t->d.nodes[leader].name);
	}
}

/* Broken variants: RO checking /health (reaches the leader); one replica marked backup. */
static void test_ro_spreads_over_all_replicas(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	int leader = leader_index(t), hits[PGC_MAX_NODES] = {0};

	if (!t->d.load_balancing.set || !t->d.load_balancing.value)
		PGC_SKIP("the descriptor does not claim load balancing");
	for (int k = 0; k < RO_CONNECTIONS; k++) {
		char rec[8];
		int at = landed_on(t, &t->d.ro, "RO port", rec, sizeof(rec));

		PGC_ASSERT(at != leader, "RO connection %d of %d reached the leader %s", k + 1,
			   RO_CONNECTIONS, t->d.nodes[at].name);
		PGC_ASSERT(!strcmp(rec, "t"), "RO connection %d reached %s, not in recovery", k + 1,
			   t->d.nodes[at].name);
		hits[at]++;
	}
	for (int i = 0; i < t->d.nnodes; i++) {
		char metric[96];

		if (i == leader)
			continue;
		pgc_fmt(metric, sizeof(metric), "ro_share_%s", t->d.nodes[i].name);
		pgc_rec_metric(metric, (double)hits[i] / RO_CONNECTIONS, "ratio");
		PGC_ASSERT(hits[i] > 0, "replica %s got none of %d RO connections",
			   t->d.nodes[i].name, RO_CONNECTIONS);
	}
}

/* Broken variant: RO routed to the leader. */
static void test_write_through_ro_refused(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	PGconn *c = pgc_safe_connect(t, "RO port", &t->d.ro, NULL);
	char st[6], err[512];
	int rc = pgc_pg_query(c, "CREATE TABLE pgc_ro_write_attempt (i int)", NULL, 0, st, err,
			      sizeof(err));

	PQfinish(c);
	PGC_ASSERT(rc != 0, "RO port: a write (CREATE TABLE) succeeded");
	PGC_ASSERT(!strcmp(st, "25006"),
		   "RO port: write refused with SQLSTATE %s, expected 25006 "
		   "(%s)",
		   st, err);
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_rw_reaches_only_leader),
    PGC_CHECK_TEST(test_ro_spreads_over_all_replicas),
    PGC_CHECK_TEST(test_write_through_ro_refused),
};

const struct pgc_suite pgc_suite_routing = {
    .name = "routing",
    .kinds = 1 << PGC_PATRONI,
    .summary = "RW only to the leader; RO never to it and across every replica; 25006 on RO",
    .tests = PGC_TESTS(tests),
};
