/* crud.c - every topology: a row written through the write endpoint can be read, changed and
 * deleted, and survives a restart of the data node(s). */
#include "deadline.h"
#include "docker.h"
#include "suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CREATE, INSERT, SELECT, UPDATE, DELETE through the write endpoint, checking each value. */
static void test_crud_round_trip(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	PGconn *c = pgc_safe_connect(t, "write endpoint", pgc_write_ep(t), NULL);
	char v[64];

	pgc_safe_query(c, "write endpoint", "DROP TABLE IF EXISTS pgc_crud", NULL, 0);
	pgc_safe_query(c, "write endpoint",
		       "CREATE TABLE pgc_crud (id int PRIMARY KEY, note text NOT NULL)", NULL, 0);
	pgc_safe_query(c, "write endpoint", "INSERT INTO pgc_crud VALUES (1, 'alpha'), (2, 'beta')",
		       NULL, 0);
	pgc_safe_query(c, "write endpoint",
		       "SELECT string_agg(id || '=' || note, ',' ORDER BY id) FROM pgc_crud", v,
		       sizeof(v));
	PGC_ASSERT(strcmp(v, "1=alpha,2=beta") == 0,
		   "write endpoint: after INSERT expected "
		   "\"1=alpha,2=beta\", read \"%s\"",
		   v);
	pgc_safe_query(c, "write endpoint", "UPDATE pgc_crud SET note = 'gamma' WHERE id = 2", NULL,
		       0);
	pgc_safe_query(c, "write endpoint", "SELECT note FROM pgc_crud WHERE id = 2", v, sizeof(v));
	PGC_ASSERT(strcmp(v, "gamma") == 0,
		   "write endpoint: after UPDATE expected \"gamma\", read \"%s\"", v);
	pgc_safe_query(c, "write endpoint", "DELETE FROM pgc_crud WHERE id = 1", NULL, 0);
	pgc_safe_query(c, "write endpoint", "SELECT count(*) FROM pgc_crud", v, sizeof(v));
	PGC_ASSERT(strcmp(v, "1") == 0, "write endpoint: after DELETE expected 1 row, found %s", v);
	pgc_safe_query(c, "write endpoint", "DROP TABLE pgc_crud", NULL, 0);
	PQfinish(c);
}

/* A committed row is still there after every data node's container restarted. */
static void test_rows_survive_restart(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	char token[64], v[64], st[6], err[1024];
	const char *params[1] = {token};
	PGconn *c;

	PGC_REQUIRE_DESTRUCTIVE(t);
	for (int i = 0; i < t->d.nnodes; i++)
		if (!t->d.nodes[i].container[0])
			PGC_SKIP("node %s has no container to restart", t->d.nodes[i].name);
	pgc_fmt(token, sizeof(token), "survivor-%lld", (long long)pgc_now_us());
	c = pgc_safe_connect(t, "write endpoint", pgc_write_ep(t), NULL);
	pgc_safe_query(c, "write endpoint",
		       "CREATE TABLE IF NOT EXISTS pgc_durable (token text PRIMARY KEY)", NULL, 0);
	if (pgc_pg_query_params(c, "INSERT INTO pgc_durable VALUES ($1)", 1, params, NULL, 0, st,
				err, sizeof(err))) {
		PQfinish(c);
		PGC_FAIL("write endpoint: INSERT failed with SQLSTATE %s: %s", st, err);
	}
	PQfinish(c);
	for (int i = 0; i < t->d.nnodes; i++) {
		const char *name = t->d.nodes[i].container;

		if (pgc_docker_stop(t->docker, name, 10, err, sizeof(err)) ||
		    pgc_docker_start(t->docker, name, err, sizeof(err)))
			PGC_FAIL("restarting %s: %s", name, err);
	}
	if (pgc_topology_wait_healthy(t, 120000, err, sizeof(err)))
		PGC_FAIL("after restarting the data nodes: %s", err);
	c = pgc_safe_connect(t, "write endpoint", pgc_write_ep(t), NULL);
	if (pgc_pg_query_params(c, "SELECT count(*) FROM pgc_durable WHERE token = $1", 1, params,
				v, sizeof(v), st, err, sizeof(err))) {
		PQfinish(c);
		PGC_FAIL("write endpoint: SELECT after restart failed: %s", err);
	}
	PQfinish(c);
	PGC_ASSERT(strcmp(v, "1") == 0,
		   "write endpoint: the row committed before the restart is missing (count %s)", v);
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_crud_round_trip),
    PGC_CHECK_TEST(test_rows_survive_restart),
};

const struct pgc_suite pgc_suite_crud = {
    .name = "crud",
    .kinds = PGC_ALL_KINDS,
    .destructive = 1,
    .summary = "CRUD round trip; committed rows survive a restart of the data nodes",
    .tests = PGC_TESTS(tests),
};
