/* connect.c - every topology: each endpoint answers, with the claimed major, and refuses a
 * wrong password with SQLSTATE 28P01. */
#include "suite.h"

#include <stdlib.h>
#include <string.h>

/* Each endpoint of the descriptor accepts a connection and runs a query. */
static void test_every_endpoint_answers(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_named_ep eps[16];
	int n = pgc_endpoints(t, eps, 16);

	for (int i = 0; i < n; i++) {
		char one[16];
		PGconn *c = pgc_safe_connect(t, eps[i].name, eps[i].hp, NULL);

		pgc_safe_query(c, eps[i].name, "SELECT 1", one, sizeof(one));
		PQfinish(c);
		PGC_ASSERT(strcmp(one, "1") == 0, "%s: SELECT 1 returned \"%s\"", eps[i].name, one);
	}
	pgc_rec_metric("endpoints", n, "count");
}

/* The server behind each endpoint runs the PostgreSQL major the descriptor claims. */
static void test_server_major_matches_claim(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_named_ep eps[16];
	int n = pgc_endpoints(t, eps, 16);

	for (int i = 0; i < n; i++) {
		char v[32];
		PGconn *c = pgc_safe_connect(t, eps[i].name, eps[i].hp, NULL);

		pgc_safe_query(c, eps[i].name, "SHOW server_version_num", v, sizeof(v));
		PQfinish(c);
		PGC_ASSERT(atoi(v) / 10000 == t->d.postgres_major,
			   "%s (%s:%d): expected PostgreSQL %d, server_version_num is %s",
			   eps[i].name, eps[i].hp->host, eps[i].hp->port, t->d.postgres_major, v);
	}
}

/* A wrong password is refused with SQLSTATE 28P01 on the write endpoint and on every node. */
static void test_wrong_password_rejected(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_named_ep eps[16];
	int n = pgc_endpoints(t, eps, 16);

	for (int i = 0; i < n; i++) {
		char ci[2048], st[6] = "", err[1024] = "";
		PGconn *c;

		if (eps[i].hp != pgc_write_ep(t) && !eps[i].is_node)
			continue;
		pgc_topology_conninfo(t, eps[i].hp, "password=pgconform-wrong-password", ci,
				      sizeof(ci));
		c = pgc_pg_connect(ci, 5000, st, err, sizeof(err));
		if (c) {
			PQfinish(c);
			PGC_FAIL("%s (%s:%d): a wrong password was accepted", eps[i].name,
				 eps[i].hp->host, eps[i].hp->port);
		}
		/* pgpool authenticates clients itself and reports a failed password as XX000:
		 * through a pooler the refusal is what is asserted, its SQLSTATE is evidence */
		if (t->d.kind == PGC_PGPOOL && !eps[i].is_node) {
			char note[256];

			pgc_fmt(note, sizeof(note),
				"%s refused a wrong password with SQLSTATE %s\n", eps[i].name,
				st[0] ? st : "none");
			pgc_rec_evidence(note);
			continue;
		}
		PGC_ASSERT(strcmp(st, "28P01") == 0,
			   "%s (%s:%d): expected SQLSTATE 28P01 for a wrong password, got %s (%s)",
			   eps[i].name, eps[i].hp->host, eps[i].hp->port, st[0] ? st : "none", err);
	}
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_every_endpoint_answers),
    PGC_CHECK_TEST(test_server_major_matches_claim),
    PGC_CHECK_TEST(test_wrong_password_rejected),
};

const struct pgc_suite pgc_suite_connect = {
    .name = "connect",
    .kinds = PGC_ALL_KINDS,
    .summary = "every endpoint answers with the claimed major; a wrong password gets 28P01",
    .tests = PGC_TESTS(tests),
};
