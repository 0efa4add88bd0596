/* tls.c - every topology: TLS behaves as the descriptor claims (none, optional, required,
 * mutual), with the negative cases a claim implies. */
#include "suite.h"

#include <stdio.h>
#include <string.h>

/* Connects with extra conninfo; returns 1 and whether the session is encrypted, or 0 with the
 * SQLSTATE (maybe "") and error. */
static int try_connect(struct pgc_topology *t, const struct pgc_hostport *ep, const char *extra,
		       int *ssl, char st[6], char *err, size_t errlen)
{
	char ci[2048], v[16];
	PGconn *c;

	pgc_topology_conninfo(t, ep, extra, ci, sizeof(ci));
	c = pgc_pg_connect(ci, 5000, st, err, errlen);
	if (!c)
		return 0;
	*ssl = PQsslInUse(c);
	if (pgc_pg_query(c, "SELECT 1", v, sizeof(v), st, err, errlen)) {
		PQfinish(c);
		return 0;
	}
	PQfinish(c);
	return 1;
}

static void require_tls_claim(struct pgc_topology *t)
{
	if (!t->d.tls_set)
		PGC_SKIP("the descriptor makes no TLS claim");
}

/* Every client endpoint and node offers TLS when the claim says so, and refuses it when the
 * claim is "none". */
static void test_tls_offered_as_claimed(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_named_ep eps[16];
	int n;

	require_tls_claim(t);
	n = pgc_endpoints(t, eps, 16);
	for (int i = 0; i < n; i++) {
		char st[6], err[1024];
		int ssl = 0, ok;

		ok =
		    try_connect(t, eps[i].hp, t->d.tls == PGC_TLS_MUTUAL ? NULL : "sslmode=require",
				&ssl, st, err, sizeof(err));
		if (t->d.tls == PGC_TLS_NONE) {
			PGC_ASSERT(!ok,
				   "%s (%s:%d): claim tls none, but a TLS session was accepted",
				   eps[i].name, eps[i].hp->host, eps[i].hp->port);
			continue;
		}
		PGC_ASSERT(ok && ssl, "%s (%s:%d): claim tls %s, but a TLS connection failed: %s",
			   eps[i].name, eps[i].hp->host, eps[i].hp->port, pgc_tls_name(t->d.tls),
			   ok ? "session not encrypted" : err);
	}
}

/* Plaintext is accepted only where the claim allows it: refused with 28000 for required and
 * mutual, accepted unencrypted for none and optional. */
static void test_plaintext_as_claimed(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_named_ep eps[16];
	int n;

	require_tls_claim(t);
	n = pgc_endpoints(t, eps, 16);
	for (int i = 0; i < n; i++) {
		char st[6] = "", err[1024] = "";
		int ssl = 1,
		    ok = try_connect(t, eps[i].hp, "sslmode=disable", &ssl, st, err, sizeof(err));

		if (t->d.tls == PGC_TLS_REQUIRED || t->d.tls == PGC_TLS_MUTUAL) {
			PGC_ASSERT(!ok,
				   "%s (%s:%d): claim tls %s, but a plaintext session was "
				   "accepted",
				   eps[i].name, eps[i].hp->host, eps[i].hp->port,
				   pgc_tls_name(t->d.tls));
			PGC_ASSERT(strcmp(st, "28000") == 0,
				   "%s (%s:%d): plaintext refused with SQLSTATE %s, expected 28000 "
				   "(%s)",
				   eps[i].name, eps[i].hp->host, eps[i].hp->port,
				   st[0] ? st : "none", err);
		} else {
			PGC_ASSERT(ok && !ssl,
				   "%s (%s:%d): claim tls %s, but plaintext was not served: %s",
				   eps[i].name, eps[i].hp->host, eps[i].hp->port,
				   pgc_tls_name(t->d.tls), ok ? "session encrypted" : err);
		}
	}
}

/* Mutual TLS: without a client certificate, or with one from another CA, nobody gets in. */
static void test_client_certificate_required(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_named_ep eps[16];
	char nocert[1200], rogue[1200];
	int n;

	require_tls_claim(t);
	if (t->d.tls != PGC_TLS_MUTUAL)
		PGC_SKIP("the descriptor claims tls %s, not mutual", pgc_tls_name(t->d.tls));
	pgc_fmt(nocert, sizeof(nocert), "sslcert=%s/certs/none.crt sslkey=%s/certs/none.key",
		t->secrets_dir, t->secrets_dir);
	pgc_fmt(rogue, sizeof(rogue), "sslcert=%s/certs/rogue.crt sslkey=%s/certs/rogue.key",
		t->secrets_dir, t->secrets_dir);
	n = pgc_endpoints(t, eps, 16);
	for (int i = 0; i < n; i++) {
		char st[6] = "", err[1024] = "";
		int ssl = 0;

		PGC_ASSERT(!try_connect(t, eps[i].hp, nocert, &ssl, st, err, sizeof(err)),
			   "%s (%s:%d): a client without a certificate got in", eps[i].name,
			   eps[i].hp->host, eps[i].hp->port);
		PGC_ASSERT(
		    strcmp(st, "28000") == 0,
		    "%s (%s:%d): no client certificate: expected SQLSTATE 28000, got %s (%s)",
		    eps[i].name, eps[i].hp->host, eps[i].hp->port, st[0] ? st : "none", err);
		PGC_ASSERT(!try_connect(t, eps[i].hp, rogue, &ssl, st, err, sizeof(err)),
			   "%s (%s:%d): a client certificate from another CA was accepted",
			   eps[i].name, eps[i].hp->host, eps[i].hp->port);
	}
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_tls_offered_as_claimed),
    PGC_CHECK_TEST(test_plaintext_as_claimed),
    PGC_CHECK_TEST(test_client_certificate_required),
};

const struct pgc_suite pgc_suite_tls = {
    .name = "tls",
    .kinds = PGC_ALL_KINDS,
    .summary = "TLS as claimed: offered, plaintext refused where required, client certs "
	       "enforced for mutual",
    .tests = PGC_TESTS(tests),
};
