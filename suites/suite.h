/* suite.h - what every suite file uses: the registry entry, check macros, topology access. */
#ifndef PGC_SUITE_H
#define PGC_SUITE_H
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "descriptor.h"
#include "log.h"
#include "pg.h"
#include "recorder.h"
#include "topology.h"

/* A suite: a CMocka group over one topology handle. */
struct pgc_suite {
	const char *name;    /* "connect", "failover" */
	int kinds;           /* bit mask of 1 << enum pgc_kind */
	int destructive;     /* injects faults: needs a topology we own or --allow-destructive */
	const char *summary; /* one line for `pgconform list` */
	const struct CMUnitTest *tests;
	size_t ntests;
	int (*group_teardown)(void **state); /* frees what the checks shared; may be NULL */
};

#define PGC_ALL_KINDS  ((1 << PGC_STANDALONE) | (1 << PGC_PATRONI) | (1 << PGC_PGPOOL))
#define PGC_TESTS(arr) (arr), (sizeof(arr) / sizeof((arr)[0]))

/* A check: a CMocka test whose setup/teardown record it. */
#define PGC_CHECK_TEST(fn)                                                                         \
	{                                                                                          \
#fn, fn, pgc_check_setup, pgc_check_teardown, NULL                                 \
	}
int pgc_check_setup(void **state);
int pgc_check_teardown(void **state);

/* The topology of the running suite. */
struct pgc_topology *pgc_topo(void **state);

/* Fails the check when cond is false; the message names node, expectation and observation. */
#define PGC_ASSERT(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			pgc_rec_fail(__VA_ARGS__);                                                 \
			fail_msg(__VA_ARGS__);                                                     \
		}                                                                                  \
	} while (0)

/* Fails the check unconditionally. */
#define PGC_FAIL(...) PGC_ASSERT(0, __VA_ARGS__)

/* Skips the check with a reason (a claim that is not made, a fault that is not allowed). */
#define PGC_SKIP(...)                                                                              \
	do {                                                                                       \
		char pgc_reason_[512];                                                             \
		pgc_fmt(pgc_reason_, sizeof(pgc_reason_), __VA_ARGS__);                            \
		pgc_rec_skip(pgc_reason_);                                                         \
		skip();                                                                            \
	} while (0)

/* Skips unless faults may be injected into this topology: allowed (ours, or
 * --allow-destructive) and with a fault driver (a Docker container named for every node). */
#define PGC_REQUIRE_DESTRUCTIVE(t)                                                                 \
	do {                                                                                       \
		const char *pgc_nodriver_ = pgc_missing_fault_driver(t);                           \
		if (!(t)->destructive_ok)                                                          \
			PGC_SKIP("destructive check: the topology is not ours (use "               \
				 "--allow-destructive)");                                          \
		if (pgc_nodriver_)                                                                 \
			PGC_SKIP(                                                                  \
			    "destructive check: no fault driver for %s (the descriptor names "     \
			    "no container for it)",                                                \
			    pgc_nodriver_);                                                        \
	} while (0)

/* The first node or DCS member without a container, or NULL. */
const char *pgc_missing_fault_driver(const struct pgc_topology *t);

/* The registry, NULL-terminated. */
extern const struct pgc_suite *const pgc_all_suites[];

/* Runs the suite against t (checks whose name matches filter, fnmatch; NULL = all). cmocka XML
 * goes to xml_dir when not NULL. Returns the number of failed checks. */
int pgc_suite_run(const struct pgc_suite *s, struct pgc_topology *t, const char *filter,
		  const char *xml_dir);

#endif

/* Helpers over the descriptor's endpoints, shared by suites. */
struct pgc_named_ep {
	char name[80]; /* "front", "rw", "node node1" */
	const struct pgc_hostport *hp;
	int is_node;
};
/* Every endpoint a client may dial (front, rw, ro, pooler, then each node). */
int pgc_endpoints(const struct pgc_topology *t, struct pgc_named_ep *out, int max);
/* Where writes go: front for standalone, rw otherwise. */
const struct pgc_hostport *pgc_write_ep(const struct pgc_topology *t);

/* Connects to ep as the descriptor's user, or fails the check naming what and why. */
PGconn *pgc_safe_connect(struct pgc_topology *t, const char *what, const struct pgc_hostport *ep,
			 const char *extra);
/* Runs sql, or fails the check with the server's SQLSTATE and message. out may be NULL. */
void pgc_safe_query(PGconn *c, const char *what, const char *sql, char *out, size_t outlen);
