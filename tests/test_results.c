/* test_results.c - results JSON round-trips, malformed files are rejected naming file and key,
 * the recorder times, prints and records checks, and secrets never reach a file or a line. */
#include "recorder.h"
#include "results.h"

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "Sup3rS3cretPw"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pgc-results-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	pgc_report_secrets_clear();
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, n + 1);
	ck_assert_int_eq(fread(buf, 1, n, f), n);
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static struct pgc_run *sample_run(void)
{
	struct pgc_run *r = pgc_run_new("20240501T010203Z-42");
	struct pgc_topology_result *t;
	struct pgc_metric m[2] = {{"outage_ms", 22010.5, "ms"}, {"lost_acked", NAN, "writes"}};
	struct pgc_check c;

	snprintf(r->started, sizeof(r->started), "2024-05-01T01:02:03Z");
	snprintf(r->finished, sizeof(r->finished), "2024-05-01T01:09:03Z");
	snprintf(r->commit, sizeof(r->commit), "0123456789abcdef0123456789abcdef01234567");
	snprintf(r->host, sizeof(r->host), "ci-runner");
	t = pgc_run_topology(r, "patroni", "patroni");
	snprintf(t->status, sizeof(t->status), "up");
	pgc_topology_add_component(t, "postgresql node1", "17.4");
	pgc_topology_add_component(t, "etcd etcd1", "3.5.16");
	pgc_topology_add_component(t, "postgresql node1", "17.5"); /* replaces */
	ck_assert_ptr_eq(pgc_run_topology(r, "patroni", "patroni"), t);
	t = pgc_run_topology(r, "pgpool", "pgpool");
	snprintf(t->status, sizeof(t->status), "failed to start");
	snprintf(t->message, sizeof(t->message), "pgpool: port 9999 \"busy\"\n");

	memset(&c, 0, sizeof(c));
	snprintf(c.topology, sizeof(c.topology), "patroni");
	snprintf(c.suite, sizeof(c.suite), "failover");
	snprintf(c.name, sizeof(c.name), "sigkill_leader");
	c.duration_s = 31.25;
	c.metrics = m;
	c.nmetrics = 2;
	pgc_run_add_check(r, &c);
	c.status = PGC_FAILED;
	snprintf(c.name, sizeof(c.name), "no_lost_writes");
	snprintf(c.message, sizeof(c.message), "lost 2 acked writes: <ids 7, 9> & \"more\"");
	c.evidence = "node1 | FATAL: terminating\nnode2 | LOG: promoted\n";
	pgc_run_add_check(r, &c);
	c.status = PGC_SKIPPED;
	c.nmetrics = 0;
	c.metrics = NULL;
	c.evidence = NULL;
	snprintf(c.name, sizeof(c.name), "pause_leader");
	snprintf(c.message, sizeof(c.message), "needs --allow-destructive");
	pgc_run_add_check(r, &c);
	return r;
}

START_TEST(test_round_trip)
{
	struct pgc_run *w = sample_run(), *r = NULL;
	char path[128], err[512];
	int p, f, s;

	snprintf(path, sizeof(path), "%s/results.json", dir);
	ck_assert_int_eq(pgc_run_write(w, path, err, sizeof(err)), 0);
	ck_assert_msg(pgc_run_read(path, &r, err, sizeof(err)) == 0, "read: %s", err);
	ck_assert_str_eq(r->run_id, w->run_id);
	ck_assert_str_eq(r->started, w->started);
	ck_assert_str_eq(r->finished, w->finished);
	ck_assert_str_eq(r->commit, w->commit);
	ck_assert_str_eq(r->host, "ci-runner");
	ck_assert_int_eq(r->ntopologies, 2);
	ck_assert_str_eq(r->topologies[0].name, "patroni");
	ck_assert_int_eq(r->topologies[0].ncomponents, 2);
	ck_assert_str_eq(r->topologies[0].components[0].version, "17.5");
	ck_assert_str_eq(r->topologies[1].status, "failed to start");
	ck_assert_str_eq(r->topologies[1].message, w->topologies[1].message);
	ck_assert_int_eq(r->nchecks, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_str_eq(r->checks[i].name, w->checks[i].name);
		ck_assert_int_eq(r->checks[i].status, w->checks[i].status);
		ck_assert_str_eq(r->checks[i].message, w->checks[i].message);
		ck_assert_int_eq(r->checks[i].nmetrics, w->checks[i].nmetrics);
		ck_assert_double_eq_tol(r->checks[i].duration_s, 31.25, 1e-9);
	}
	ck_assert_str_eq(r->checks[0].metrics[0].name, "outage_ms");
	ck_assert_double_eq_tol(r->checks[0].metrics[0].value, 22010.5, 1e-9);
	ck_assert_str_eq(r->checks[0].metrics[0].unit, "ms");
	ck_assert(isnan(r->checks[0].metrics[1].value)); /* NaN travels as null */
	ck_assert_ptr_null(r->checks[0].evidence);
	ck_assert_str_eq(r->checks[1].evidence, w->checks[1].evidence);
	pgc_run_counts(r, &p, &f, &s);
	ck_assert_int_eq(p * 100 + f * 10 + s, 111);
	pgc_run_free(r);
	pgc_run_free(w);
}
END_TEST

START_TEST(test_many_topologies_and_checks)
{
	struct pgc_run *w = pgc_run_new("many");
	struct pgc_topology_result *first;
	struct pgc_check c;

	first = pgc_run_topology(w, "t0", "standalone");
	for (int i = 1; i < 32; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t%d", i);
		ck_assert_ptr_nonnull(pgc_run_topology(w, name, "standalone"));
	}
	ck_assert_ptr_eq(pgc_run_topology(w, "t0", "standalone"), first); /* still valid */
	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 1000; i++)
		pgc_run_add_check(w, &c);
	ck_assert_int_eq(w->ntopologies, 32);
	ck_assert_int_eq(w->nchecks, 1000);
	pgc_run_free(w);
	pgc_run_free(NULL);
}
END_TEST

struct bad_case {
	const char *json;
	const char *expect;
};

#define HEAD "{\"schema\":\"pgconform-results/1\",\"run_id\":\"r1\",\"started\":\"2024\","
#define CHECK_HEAD                                                                                 \
	"\"topologies\":[],\"checks\":[{\"topology\":\"t\",\"suite\":\"s\",\"name\":\"n\","

static const struct bad_case cases[] = {
    {"{\"run_id\": ", "(document): not valid JSON"},
    {"[1]", "(document): must be a JSON object"},
    {"{\"run_id\":\"r\"}", "schema: missing"},
    {"{\"schema\":\"pgconform-results/2\"}", "schema: must be \"pgconform-results/1\""},
    {"{\"schema\":\"pgconform-results/1\",\"run_id\":7}", "run_id: must be a string"},
    {"{\"schema\":\"pgconform-results/1\",\"run_id\":\"\"}", "run_id: must not be empty"},
    {HEAD "\"checks\":[]}", "topologies: missing"},
    {HEAD "\"topologies\":{},\"checks\":[]}", "topologies: must be an array"},
    {HEAD "\"topologies\":[3],\"checks\":[]}", "topologies[0]: must be an object"},
    {HEAD "\"topologies\":[{\"name\":\"a\",\"kind\":\"k\"},{\"kind\":\"k\"}],\"checks\":[]}",
     "topologies[1].name: missing"},
    {HEAD "\"topologies\":[{\"name\":\"a\",\"kind\":\"k\",\"components\":[{\"name\":1}]}],"
	  "\"checks\":[]}",
     "topologies[0].components[0].name: must be a string"},
    {HEAD "\"topologies\":[]}", "checks: missing"},
    {HEAD CHECK_HEAD "\"status\":\"ok\",\"duration_s\":1}]}",
     "checks[0].status: must be passed, failed or skipped"},
    {HEAD CHECK_HEAD "\"status\":\"passed\"}]}", "checks[0].duration_s: missing"},
    {HEAD CHECK_HEAD "\"status\":\"passed\",\"duration_s\":\"1\"}]}",
     "checks[0].duration_s: must be a number or null"},
    {HEAD CHECK_HEAD "\"status\":\"passed\",\"duration_s\":1,\"metrics\":[{\"name\":\"m\"}]}]}",
     "checks[0].metrics[0].value: missing"},
    {HEAD CHECK_HEAD "\"status\":\"passed\",\"duration_s\":1,\"metrics\":[{\"name\":\"\","
		     "\"value\":1}]}]}",
     "checks[0].metrics[0].name: must not be empty"},
    {HEAD CHECK_HEAD "\"status\":\"passed\",\"duration_s\":1,\"evidence\":[]}]}",
     "checks[0].evidence: must be a string or null"},
};

START_TEST(test_malformed_names_file_and_key)
{
	const struct bad_case *bc = &cases[_i];
	struct pgc_run *r = (struct pgc_run *)1;
	char path[128], err[1024], want[512];

	snprintf(path, sizeof(path), "%s/bad-%d.json", dir, _i);
	spit(path, bc->json);
	ck_assert_int_eq(pgc_run_read(path, &r, err, sizeof(err)), -1);
	ck_assert_ptr_null(r);
	snprintf(want, sizeof(want), "%s: %s", path, bc->expect);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "case %d: expected \"%s...\", got \"%s\"", _i, want, err);
}
END_TEST

START_TEST(test_missing_file)
{
	struct pgc_run *r = NULL;
	char err[256];

	ck_assert_int_eq(pgc_run_read("/nonexistent/x.json", &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/x.json: cannot open: No such file or directory");
}
END_TEST

/* Runs fn with stdout captured; returns what it printed (caller frees). */
static char *captured(void (*fn)(void))
{
	char path[128];
	int saved, fd;

	snprintf(path, sizeof(path), "%s/stdout", dir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 1);
	fn();
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	return slurp(path);
}

static struct pgc_run *rec_run;
static int rc_pass, rc_fail, rc_skip;

static void record_three(void)
{
	pgc_rec_attach(rec_run);
	pgc_rec_begin("patroni", "failover", "sigkill_leader");
	pgc_rec_metric("outage_ms", 1, "ms");
	pgc_rec_metric("outage_ms", 22010, "ms"); /* replaces */
	pgc_rec_metric("ratio", 0.125, "ratio");
	ck_assert(!pgc_rec_failed());
	rc_pass = pgc_rec_end();

	pgc_rec_begin("patroni", "failover", "no_lost_writes");
	pgc_rec_metric("lost_acked", 2, "writes");
	pgc_rec_fail("lost %d acked writes (password %s)", 2, SECRET);
	pgc_rec_fail("second message is dropped");
	pgc_rec_evidence("node1 | FATAL");
	pgc_rec_evidence("node2 | LOG\n");
	ck_assert(pgc_rec_failed());
	rc_fail = pgc_rec_end();

	pgc_rec_begin("patroni", "failover", "pause_leader");
	pgc_rec_skip("needs --allow-destructive");
	rc_skip = pgc_rec_end();

	pgc_rec_set_quiet(1);
	pgc_rec_begin("patroni", "failover", "quiet_one");
	pgc_rec_end();
	pgc_rec_set_quiet(0);
	pgc_rec_attach(NULL);
}

START_TEST(test_recorder_lines_and_records)
{
	char *out;

	pgc_report_secret(SECRET);
	rec_run = pgc_run_new("rec");
	out = captured(record_three);
	ck_assert_int_eq(rc_pass, 0);
	ck_assert_int_eq(rc_fail, 1);
	ck_assert_int_eq(rc_skip, 2);
	ck_assert_msg(strstr(out, "  PASS failover/sigkill_leader (0.00 s) [outage_ms=22010 "
				  "ratio=0.125]\n"),
		      "got: %s", out);
	ck_assert_msg(strstr(out, "  FAIL failover/no_lost_writes (0.00 s) [lost_acked=2]: lost 2 "
				  "acked writes (password ***)\n"),
		      "got: %s", out);
	ck_assert_msg(strstr(out, "  SKIP failover/pause_leader: needs --allow-destructive\n"),
		      "got: %s", out);
	ck_assert_ptr_null(strstr(out, "quiet_one"));
	ck_assert_ptr_null(strstr(out, SECRET));
	ck_assert_int_eq(rec_run->nchecks, 4);
	ck_assert_int_eq(rec_run->checks[0].nmetrics, 2);
	ck_assert_double_eq(rec_run->checks[0].metrics[0].value, 22010);
	ck_assert(rec_run->checks[0].duration_s >= 0 && rec_run->checks[0].duration_s < 1);
	ck_assert_str_eq(rec_run->checks[1].evidence, "node1 | FATAL\nnode2 | LOG\n");
	ck_assert_int_eq(rec_run->checks[2].status, PGC_SKIPPED);
	free(out);
	pgc_run_free(rec_run);
}
END_TEST

static void long_line(void)
{
	pgc_rec_attach(NULL);
	pgc_rec_begin("t", "s", "c");
	for (int i = 0; i < 7; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%d", i);
		pgc_rec_metric(name, i * 1000.5, "ms");
	}
	pgc_rec_end();
}

START_TEST(test_recorder_keeps_line_short)
{
	char *out = captured(long_line);

	ck_assert_msg(strstr(out, "[m0=0 m1=1000 m2=2001 m3=3002 +3]"), "got: %s", out);
	free(out);
}
END_TEST

START_TEST(test_secret_absent_from_json)
{
	struct pgc_run *w = sample_run();
	char path[128], err[256], *text;

	pgc_report_secret(SECRET);
	pgc_report_secret("abc"); /* too short: ignored */
	snprintf(w->checks[1].message, sizeof(w->checks[1].message), "auth failed for %s", SECRET);
	free(w->checks[1].evidence);
	w->checks[1].evidence = strdup("password=" SECRET "\n");
	snprintf(w->checks[0].metrics[0].unit, sizeof(w->checks[0].metrics[0].unit), SECRET);
	snprintf(path, sizeof(path), "%s/secret.json", dir);
	ck_assert_int_eq(pgc_run_write(w, path, err, sizeof(err)), 0);
	text = slurp(path);
	ck_assert_ptr_null(strstr(text, SECRET));
	ck_assert_ptr_nonnull(strstr(text, "auth failed for ***"));
	ck_assert_ptr_nonnull(strstr(text, "password=***"));
	ck_assert_ptr_nonnull(strstr(text, "abc")); /* "abcdef..." commit untouched */
	free(text);
	pgc_run_free(w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("results");
	TCase *tc = tcase_create("results");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_many_topologies_and_checks);
	tcase_add_loop_test(tc, test_malformed_names_file_and_key, 0,
			    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_recorder_lines_and_records);
	tcase_add_test(tc, test_recorder_keeps_line_short);
	tcase_add_test(tc, test_secret_absent_from_json);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
