/* suite.c - runs a suite as a CMocka group and records each check. */
#include "suite.h"
#include "deadline.h"
#include "fault.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	const struct pgc_suite *suite;
	struct pgc_topology *t;
	const struct CMUnitTest *tests;
	size_t next;
	int64_t waited0;
} cur;

struct pgc_topology *pgc_topo(void **state)
{
	(void)state;
	return cur.t;
}

int pgc_check_setup(void **state)
{
	(void)state;
	pgc_rec_begin(cur.t->d.name, cur.suite->name, cur.tests[cur.next++].name);
	cur.waited0 = pgc_waited_us();
	return 0;
}

int pgc_check_teardown(void **state)
{
	(void)state;
	pgc_rec_metric("waited", (pgc_waited_us() - cur.waited0) / 1e6, "s");
	/* no fault outlives its check */
	if (pgc_fault_heal_all(cur.t))
		pgc_rec_fail("a fault injected by this check could not be healed");
	if (pgc_rec_failed()) {
		char *tails = pgc_topology_log_tails(cur.t, 40);

		if (tails && tails[0])
			pgc_rec_evidence(tails);
		free(tails);
	}
	pgc_rec_end();
	return 0;
}

int pgc_suite_run(const struct pgc_suite *s, struct pgc_topology *t, const char *filter,
		  const char *xml_dir)
{
	struct CMUnitTest *sel = calloc(s->ntests + 1, sizeof(*sel));
	char group[160];
	size_t n = 0;
	int failed;

	if (!sel)
		return 1;
	for (size_t i = 0; i < s->ntests; i++)
		if (!filter || fnmatch(filter, s->tests[i].name, 0) == 0)
			sel[n++] = s->tests[i];
	if (n == 0) {
		free(sel);
		return 0;
	}
	cur.suite = s;
	cur.t = t;
	cur.tests = sel;
	cur.next = 0;
	pgc_fmt(group, sizeof(group), "%s.%s", t->d.name, s->name);
	if (xml_dir) {
		char path[1024];

		pgc_fmt(path, sizeof(path), "%s/%%g.xml", xml_dir);
		setenv("CMOCKA_XML_FILE", path, 1);
		cmocka_set_message_output(CM_OUTPUT_XML);
	} else {
		cmocka_set_message_output(CM_OUTPUT_SUBUNIT);
	}
	failed = _cmocka_run_group_tests(group, sel, n, NULL, s->group_teardown);
	free(sel);
	cur.suite = NULL;
	return failed;
}

int pgc_endpoints(const struct pgc_topology *t, struct pgc_named_ep *out, int max)
{
	const struct {
		const char *name;
		const struct pgc_hostport *hp;
	} eps[] = {
	    {"front", &t->d.front}, {"rw", &t->d.rw}, {"ro", &t->d.ro}, {"pooler", &t->d.pooler}};
	int n = 0;

	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]) && n < max; i++)
		if (eps[i].hp->port) {
			pgc_fmt(out[n].name, sizeof(out[n].name), "%s", eps[i].name);
			out[n].hp = eps[i].hp;
			out[n++].is_node = 0;
		}
	for (int i = 0; i < t->d.nnodes && n < max; i++) {
		pgc_fmt(out[n].name, sizeof(out[n].name), "node %s", t->d.nodes[i].name);
		out[n].hp = &t->d.nodes[i].postgres;
		out[n++].is_node = 1;
	}
	return n;
}

const struct pgc_hostport *pgc_write_ep(const struct pgc_topology *t)
{
	return t->d.rw.port ? &t->d.rw : &t->d.front;
}

PGconn *pgc_safe_connect(struct pgc_topology *t, const char *what, const struct pgc_hostport *ep,
			 const char *extra)
{
	char ci[2048], st[6], err[1024];
	PGconn *c;

	pgc_topology_conninfo(t, ep, extra, ci, sizeof(ci));
	c = pgc_pg_connect(ci, 5000, st, err, sizeof(err));
	if (!c)
		PGC_FAIL("%s (%s:%d): expected a connection, got %s%s%s", what, ep->host, ep->port,
			 st[0] ? "SQLSTATE " : "", st[0] ? st : "", err);
	return c;
}

void pgc_safe_query(PGconn *c, const char *what, const char *sql, char *out, size_t outlen)
{
	char buf[256], st[6], err[1024];

	if (pgc_pg_query(c, sql, out ? out : buf, out ? outlen : sizeof(buf), st, err,
			 sizeof(err))) {
		PQfinish(c);
		PGC_FAIL("%s: \"%s\" failed with SQLSTATE %s: %s", what, sql, st, err);
	}
}

const char *pgc_missing_fault_driver(const struct pgc_topology *t)
{
	for (int i = 0; i < t->d.nnodes; i++)
		if (!t->d.nodes[i].container[0])
			return t->d.nodes[i].name;
	for (int i = 0; i < t->d.ndcs; i++)
		if (!t->d.dcs[i].container[0])
			return t->d.dcs[i].name;
	return NULL;
}
