/* balance.c - pgpool load-balances reads per session in proportion to the backend weights, and
 * keeps a read that follows a write in the same transaction on the primary. */
#include "deadline.h"
#include "pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* N sessions: the share of backend i is binomial(N, p_i); sigma_i = sqrt(N p_i (1 - p_i)). With
 * N = 300 and p = 1/3, sigma = 8.2 sessions (2.7 points of share), so a 4.5 sigma bound
 * (false alarm 6.8e-6 per backend) still catches a weight off by half (1/3 -> 1/2 is 6 sigma)
 * and a backend that takes no reads at all (12 sigma). */
#define N_SESSIONS 300
#define MAX_SIGMA  4.5

static void require_lb_claim(struct pgc_topology *t)
{
	if (!t->d.load_balancing.set || !t->d.load_balancing.value)
		PGC_SKIP("the descriptor does not claim load balancing");
}

/* The database reads are balanced on: the pooled one when named (the claim's own use). */
static const char *lb_dbname(struct pgc_topology *t, char *buf, size_t len)
{
	return pgc_fmt(buf, len, "dbname=%s",
		       t->d.pooled_database[0] ? t->d.pooled_database : t->d.database);
}

/* The claimed share of node i: descriptor weights when the descriptor states any. */
static int claimed_shares(const struct pgc_topology *t, double *p)
{
	int sum = 0;

	for (int i = 0; i < t->d.nnodes; i++)
		sum += t->d.nodes[i].weight;
	for (int i = 0; sum > 0 && i < t->d.nnodes; i++)
		p[i] = (double)t->d.nodes[i].weight / sum;
	return sum > 0;
}

/* pgpool's lb_weight of every node agrees with the descriptor's weights.
 * Broken variant: PGPOOL_WEIGHTS=1,0,1 under a descriptor that claims 1/1/1. */
static void test_lb_weights_match_claim(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_pool_node p[PGC_MAX_NODES];
	int idx[PGC_MAX_NODES], n, total = 0;
	double share[PGC_MAX_NODES];
	char err[512];

	require_lb_claim(t);
	if (!claimed_shares(t, share))
		PGC_SKIP("the descriptor states no backend weights");
	n = pp_pool_nodes(t, p, idx, 5000, err, sizeof(err));
	PGC_ASSERT(n == t->d.nnodes, "SHOW POOL_NODES: expected %d backends, got %d %s",
		   t->d.nnodes, n, n < 0 ? err : "");
	for (int i = 0; i < n; i++)
		total += p[i].weight_pct;
	for (int i = 0; i < n; i++) {
		double have = total ? (double)p[i].weight_pct / total : 0;

		PGC_ASSERT(idx[i] >= 0, "SHOW POOL_NODES lists unknown host %s", p[i].host);
		/* lb_weight is printed with 6 decimals and parsed to whole percent: 1 point slack
		 */
		PGC_ASSERT(
		    fabs(have - share[idx[i]]) <= 0.01,
		    "node %s: the descriptor claims a read share of %.3f, pgpool's lb_weight "
		    "gives %.3f",
		    t->d.nodes[idx[i]].name, share[idx[i]], have);
	}
}

/* N_SESSIONS new sessions to pgpool each run one read; per-backend counts are within MAX_SIGMA
 * of the claimed shares; select_cnt deltas in SHOW POOL_NODES agree with what we saw.
 * Broken variants: load_balance_mode = off (every read on the primary: the standbys are 12 sigma
 * short); PGPOOL_WEIGHTS=1,0,1 under a 1/1/1 claim; a backend pgpool has detached. */
static void test_reads_follow_weights(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	struct pgc_pool_node before[PGC_MAX_NODES], after[PGC_MAX_NODES];
	int idx0[PGC_MAX_NODES], idx1[PGC_MAX_NODES], n0, n1;
	long count[PGC_MAX_NODES] = {0}, delta[PGC_MAX_NODES] = {0};
	double p[PGC_MAX_NODES] = {0}, worst = 0;
	char db[128], err[512];
	struct pp_ids ids;
	int64_t t0;

	require_lb_claim(t);
	PGC_ASSERT(pp_node_ids(t, &ids) == t->d.nnodes, "not every node answered directly");
	n0 = pp_pool_nodes(t, before, idx0, 5000, err, sizeof(err));
	PGC_ASSERT(n0 == t->d.nnodes, "SHOW POOL_NODES before: expected %d backends, got %d %s",
		   t->d.nnodes, n0, n0 < 0 ? err : "");
	if (!claimed_shares(t, p)) {
		int total = 0;

		for (int i = 0; i < n0; i++)
			total += before[i].weight_pct;
		for (int i = 0; i < n0 && total; i++)
			if (idx0[i] >= 0)
				p[idx0[i]] = (double)before[i].weight_pct / total;
	}
	lb_dbname(t, db, sizeof(db));
	t0 = pgc_now_us();
	for (int i = 0; i < N_SESSIONS; i++) {
		char what[64], v[128];
		PGconn *c;
		int at;

		pgc_fmt(what, sizeof(what), "pgpool, session %d", i + 1);
		c = pgc_safe_connect(t, what, &t->d.pooler, db);
		pgc_safe_query(c, what, "SELECT " PP_ID_SQL, v, sizeof(v));
		PQfinish(c);
		at = pp_which(t, &ids, v);
		PGC_ASSERT(at >= 0,
			   "%s: the read ran on a server that is no descriptor node (\"%s\")", what,
			   v);
		count[at]++;
	}
	pgc_rec_metric("sessions_per_s", N_SESSIONS / ((pgc_now_us() - t0) / 1e6), "1/s");
	n1 = pp_pool_nodes(t, after, idx1, 5000, err, sizeof(err));
	PGC_ASSERT(n1 == n0, "SHOW POOL_NODES after: expected %d backends, got %d %s", n0, n1,
		   n1 < 0 ? err : "");
	for (int i = 0; i < n1; i++)
		for (int j = 0; j < n0; j++)
			if (idx1[i] >= 0 && idx1[i] == idx0[j])
				delta[idx1[i]] = after[i].select_cnt - before[j].select_cnt;

	for (int i = 0; i < t->d.nnodes; i++) {
		const char *name = t->d.nodes[i].name;
		double sigma = sqrt(N_SESSIONS * p[i] * (1 - p[i]));
		double z = sigma > 0 ? fabs(count[i] - N_SESSIONS * p[i]) / sigma : 0;
		char metric[96];

		pgc_fmt(metric, sizeof(metric), "lb_share_%s", name);
		pgc_rec_metric(metric, (double)count[i] / N_SESSIONS, "");
		if (z > worst)
			worst = z;
		if (sigma == 0)
			PGC_ASSERT(count[i] == (p[i] > 0 ? N_SESSIONS : 0),
				   "node %s: claimed share %.3f, but it took %ld of %d reads", name,
				   p[i], count[i], N_SESSIONS);
	}
	pgc_rec_metric("lb_max_sigma", worst, "sigma");
	for (int i = 0; i < t->d.nnodes; i++) {
		double sigma = sqrt(N_SESSIONS * p[i] * (1 - p[i]));

		PGC_ASSERT(sigma == 0 || fabs(count[i] - N_SESSIONS * p[i]) <= MAX_SIGMA * sigma,
			   "node %s: expected %.1f +- %.1f (%.1f sigma) of %d reads (share %.3f), "
			   "observed %ld",
			   t->d.nodes[i].name, N_SESSIONS * p[i], MAX_SIGMA * sigma, MAX_SIGMA,
			   N_SESSIONS, p[i], count[i]);
	}
	/* select_cnt counts SELECTs pgpool sent to a node from client sessions; health and
	 * streaming checks bypass it and SHOW is not a SELECT, so only another client running reads
	 * at the same time adds to it: allow 3 per node. */
	for (int i = 0; i < t->d.nnodes; i++)
		PGC_ASSERT(
		    labs(delta[i] - count[i]) <= 3,
		    "node %s: SHOW POOL_NODES select_cnt grew by %ld, we saw %ld reads there",
		    t->d.nodes[i].name, delta[i], count[i]);
}

/* A read after a write in the same transaction runs on the primary, tested in sessions whose
 * load-balance node is a standby (their first read proves it). Broken variant:
 * disable_load_balance_on_write = off (the read goes to the session's standby). */
static void test_read_after_write_on_primary(void **state)
{
	struct pgc_topology *t = pgc_topo(state);
	int primary = pp_primary(t), tested = 0;
	char db[128], v[128];
	struct pp_ids ids;
	PGconn *c;

	double share[PGC_MAX_NODES];

	require_lb_claim(t);
	PGC_ASSERT(primary >= 0, "expected exactly one node not in recovery");
	if (claimed_shares(t, share) && share[primary] > 0.999)
		PGC_SKIP("the descriptor sends every read to the primary (standby weights 0)");
	PGC_ASSERT(pp_node_ids(t, &ids) == t->d.nnodes, "not every node answered directly");
	lb_dbname(t, db, sizeof(db));
	c = pgc_safe_connect(t, "pgpool", &t->d.pooler, db);
	pgc_safe_query(c, "pgpool", "CREATE TABLE IF NOT EXISTS pgc_raw (n int)", NULL, 0);
	PQfinish(c);
	/* with weights 1/1/1 a session is on a standby with p = 2/3: 60 sessions give 5 such with
	 * certainty short of 1e-20 */
	for (int i = 0; i < 60 && tested < 5; i++) {
		char what[64];
		int lb, at;

		pgc_fmt(what, sizeof(what), "pgpool, session %d", i + 1);
		c = pgc_safe_connect(t, what, &t->d.pooler, db);
		pgc_safe_query(c, what, "SELECT " PP_ID_SQL, v, sizeof(v));
		lb = pp_which(t, &ids, v);
		if (lb < 0 || lb == primary) {
			PQfinish(c);
			continue;
		}
		pgc_safe_query(c, what, "BEGIN", NULL, 0);
		pgc_safe_query(c, what, "INSERT INTO pgc_raw VALUES (1)", NULL, 0);
		pgc_safe_query(c, what, "SELECT " PP_ID_SQL, v, sizeof(v));
		pgc_safe_query(c, what, "COMMIT", NULL, 0);
		PQfinish(c);
		at = pp_which(t, &ids, v);
		PGC_ASSERT(
		    at == primary,
		    "%s (load-balance node %s): a read after a write in the same transaction "
		    "ran on %s, expected primary %s",
		    what, t->d.nodes[lb].name, at >= 0 ? t->d.nodes[at].name : v,
		    t->d.nodes[primary].name);
		tested++;
	}
	pgc_rec_metric("sessions_tested", tested, "sessions");
	PGC_ASSERT(tested > 0, "no session of 60 was load-balanced to a standby");
}

static const struct CMUnitTest tests[] = {
    PGC_CHECK_TEST(test_lb_weights_match_claim),
    PGC_CHECK_TEST(test_reads_follow_weights),
    PGC_CHECK_TEST(test_read_after_write_on_primary),
};

const struct pgc_suite pgc_suite_pool_balance = {
    .name = "load-balance",
    .kinds = 1 << PGC_PGPOOL,
    .summary = "reads split by backend weight within 4.5 sigma over 300 sessions; select_cnt "
	       "agrees; read after write in a transaction on the primary",
    .tests = PGC_TESTS(tests),
};
