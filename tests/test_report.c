/* test_report.c - the regression report over a synthetic history of six runs finds the planted
 * metric regression, the newly failing and fixed checks and the version change, keeps secrets
 * out, works offline, and renders in a headless browser when one is installed. */
#include "report.h"
#include "results.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET "R3portS3cr3t"
#define NRUNS  6

static char dir[64], hist[128], out[128];

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

static void add(struct pgc_run *r, const char *topo, const char *suite, const char *name,
		enum pgc_status st, const char *msg, const char *metric, double value,
		const char *unit)
{
	struct pgc_metric m;
	struct pgc_check c;

	memset(&c, 0, sizeof(c));
	snprintf(c.topology, sizeof(c.topology), "%s", topo);
	snprintf(c.suite, sizeof(c.suite), "%s", suite);
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.message, sizeof(c.message), "%s", msg);
	c.status = st;
	c.duration_s = 2.5;
	if (metric) {
		snprintf(m.name, sizeof(m.name), "%s", metric);
		snprintf(m.unit, sizeof(m.unit), "%s", unit);
		m.value = value;
		c.metrics = &m;
		c.nmetrics = 1;
	}
	if (st == PGC_FAILED)
		c.evidence = "node2 | FATAL: password authentication failed (" SECRET ")\n";
	pgc_run_add_check(r, &c);
}

/* Run i of the history: outage_ms regresses in the last run, routing.ro_balance starts to
 * fail in it, dcs.etcd_loss is fixed in it, and PostgreSQL goes from 17.4 to 17.5. */
static void write_run(int i)
{
	static const double outage[NRUNS] = {22000, 22500, 21900, 22100, 22300, 60000};
	static const double connect[NRUNS] = {12, 14, 11, 13, 12, 15};
	int last = i == NRUNS - 1;
	struct pgc_topology_result *t;
	char id[32], path[256], err[512];
	struct pgc_run *r;

	snprintf(id, sizeof(id), "run-%d", i + 1);
	r = pgc_run_new(id);
	snprintf(r->started, sizeof(r->started), "2024-05-%02dT02:00:00Z", i + 1);
	snprintf(r->finished, sizeof(r->finished), "2024-05-%02dT02:40:00Z", i + 1);
	snprintf(r->commit, sizeof(r->commit), "%040d", i + 1);
	snprintf(r->host, sizeof(r->host), "nightly-runner");
	t = pgc_run_topology(r, "patroni", "patroni");
	snprintf(t->status, sizeof(t->status), "up");
	pgc_topology_add_component(t, "postgresql node1", last ? "17.5" : "17.4");
	pgc_topology_add_component(t, "patroni node1", "4.0.4");
	t = pgc_run_topology(r, "standalone-17", "standalone");
	snprintf(t->status, sizeof(t->status), "up");
	pgc_topology_add_component(t, "postgresql", "17.4");

	add(r, "patroni", "failover", "sigkill_leader", PGC_PASSED, "", "outage_ms", outage[i],
	    "ms");
	add(r, "patroni", "routing", "ro_balance", last ? PGC_FAILED : PGC_PASSED,
	    last ? "replica node2 got 0 of 100 read-only connections (auth " SECRET ")" : "",
	    "ratio", last ? 0 : 0.5, last ? SECRET : "ratio");
	add(r, "patroni", "dcs", "etcd_loss", i == NRUNS - 2 ? PGC_FAILED : PGC_PASSED,
	    i == NRUNS - 2 ? "leader kept writing <without> DCS & quorum" : "", NULL, 0, NULL);
	add(r, "standalone-17", "connect", "tcp", PGC_PASSED, "", "connect_ms", connect[i], "ms");
	add(r, "standalone-17", "tls", "tls12_refused", PGC_SKIPPED, "server has no TLS 1.2", NULL,
	    0, NULL);
	/* file names sort opposite to time: the report must order by "started" */
	snprintf(path, sizeof(path), "%s/results-%c.json", hist, 'z' - i);
	ck_assert_msg(pgc_run_write(r, path, err, sizeof(err)) == 0, "%s", err);
	pgc_run_free(r);
}

static void setup(void)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/pgc-report-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(hist, sizeof(hist), "%s/history", dir);
	snprintf(out, sizeof(out), "%s/out/report", dir);
	ck_assert_int_eq(mkdir(hist, 0755), 0);
	for (int i = 0; i < NRUNS; i++)
		write_run(i);
	f = fopen(strcat(strcpy((char[256]){0}, hist), "/broken.json"), "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"schema\":\"pgconform-results/1\",\"run_id\":\"x\",\"started\":1}", f);
	fclose(f);
	f = fopen(strcat(strcpy((char[256]){0}, hist), "/notes.txt"), "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	pgc_report_secret(SECRET);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	pgc_report_secrets_clear();
}

static void write_report(double threshold, char **html, char **md)
{
	char err[1024], path[256];

	ck_assert_msg(pgc_report_write(hist, out, threshold, 5, err, sizeof(err)) == 0, "%s", err);
	snprintf(path, sizeof(path), "%s/report.html", out);
	*html = slurp(path);
	snprintf(path, sizeof(path), "%s/summary.md", out);
	*md = slurp(path);
}

static void assert_has(const char *text, const char *what, const char *file)
{
	ck_assert_msg(strstr(text, what) != NULL, "%s does not mention \"%s\"", file, what);
}

START_TEST(test_regression_failing_fixed_versions)
{
	char *html, *md;

	write_report(1.5, &html, &md);
	/* the planted regression: 60000 against the median 22100 of the five runs before */
	assert_has(md,
		   "| `patroni.failover.sigkill_leader` | outage_ms **REGRESSION** | **60000** "
		   "ms | 22100 ms | ×2.71 |",
		   "summary.md");
	assert_has(html, "REGRESSION", "report.html");
	assert_has(html, "outage_ms</a> <span class=\"badge\">REGRESSION</span></td><td><b>60000",
		   "report.html");
	ck_assert_ptr_null(strstr(md, "connect_ms **REGRESSION**"));
	ck_assert_ptr_null(strstr(html, "connect_ms</a> <span class=\"badge\">REGRESSION"));
	/* newly failing and fixed */
	assert_has(md, "## ❌ Newly failing (1)", "summary.md");
	assert_has(md, "- `patroni.routing.ro_balance` (was passed): replica node2 got 0 of 100",
		   "summary.md");
	assert_has(html, "<code>patroni.routing.ro_balance</code></td><td class=\"s\">was passed",
		   "report.html");
	assert_has(md, "## ✅ Fixed (1)\n\n- `patroni.dcs.etcd_loss`", "summary.md");
	assert_has(html, "patroni.dcs.etcd_loss", "report.html");
	/* the version change */
	assert_has(md, "| patroni | postgresql node1 | 17.4 | **17.5** |", "summary.md");
	assert_has(html, "17.5 <span class=\"badge warn\">CHANGED</span>", "report.html");
	/* counts of the latest run, by topology and suite */
	assert_has(md, "**3 passed, 1 failed, 1 skipped**", "summary.md");
	assert_has(md, "| patroni | routing | 0 | **1** | 0 |", "summary.md");
	assert_has(md, "| standalone-17 | tls | 0 | 0 | 1 |", "summary.md");
	/* the unreadable file is named with its problem, not fatal */
	assert_has(md, "broken.json: started: must be a string", "summary.md");
	assert_has(html, "broken.json: started: must be a string", "report.html");
	/* charts: inline SVG, one per metric in >= 2 runs; nothing fetched from anywhere */
	assert_has(html, "<svg viewBox", "report.html");
	assert_has(html, "id=\"m0\"", "report.html");
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_null(strstr(html, "http:"));
	ck_assert_ptr_null(strstr(html, "https:"));
	ck_assert_ptr_null(strstr(html, "<link"));
	/* escaping and secrets */
	ck_assert_ptr_null(strstr(html, "<without>"));
	ck_assert_ptr_null(strstr(html, SECRET));
	ck_assert_ptr_null(strstr(md, SECRET));
	assert_has(md, "(auth ***)", "summary.md");
	free(html);
	free(md);
}
END_TEST

START_TEST(test_threshold_is_honoured)
{
	char *html, *md;

	write_report(3.0, &html, &md); /* 60000 / 22100 = 2.71 < 3 */
	ck_assert_ptr_null(strstr(md, "REGRESSION"));
	ck_assert_ptr_null(strstr(html, "badge\">REGRESSION"));
	assert_has(md, "0 metric regressions", "summary.md");
	free(html);
	free(md);
}
END_TEST

START_TEST(test_empty_history_is_an_error)
{
	char empty[128], err[512];

	snprintf(empty, sizeof(empty), "%s/empty", dir);
	ck_assert_int_eq(mkdir(empty, 0755), 0);
	ck_assert_int_eq(pgc_report_write(empty, out, 1.5, 5, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, empty) && strstr(err, "no readable results JSON"), "%s", err);
	ck_assert_int_eq(pgc_report_write("/nonexistent", out, 1.5, 5, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent: cannot open the history folder"), "%s", err);
}
END_TEST

START_TEST(test_renders_in_headless_chromium)
{
	const char *chromium = "/usr/bin/chromium";
	char cmd[2048], png[256], profile[256], *html, *md;
	struct stat st;
	int rc;

	if (access(chromium, X_OK) != 0) {
		printf("test_renders_in_headless_chromium: skipped: %s is not installed\n",
		       chromium);
		return;
	}
	write_report(1.5, &html, &md);
	free(html);
	free(md);
	snprintf(png, sizeof(png), "%s/report.png", dir);
	snprintf(profile, sizeof(profile), "%s/chromium-profile", dir);
	snprintf(cmd, sizeof(cmd),
		 "timeout 100 %s --headless --no-sandbox --disable-gpu --disable-quic "
		 "--no-first-run --disable-background-networking --disable-component-update "
		 "--disable-sync --user-data-dir='%s' --screenshot='%s' --window-size=1200,1600 "
		 "'file://%s/report.html' >'%s/chromium.log' 2>&1",
		 chromium, profile, png, out, dir);
	rc = system(cmd);
	ck_assert_msg(stat(png, &st) == 0, "chromium wrote no screenshot (exit %d; see %s)", rc,
		      cmd);
	ck_assert_msg(st.st_size > 20000, "screenshot is only %ld bytes", (long)st.st_size);
	if (getenv("PGC_KEEP_SCREENSHOT")) {
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", png, getenv("PGC_KEEP_SCREENSHOT"));
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");
	TCase *browser = tcase_create("browser");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_regression_failing_fixed_versions);
	tcase_add_test(tc, test_threshold_is_honoured);
	tcase_add_test(tc, test_empty_history_is_an_error);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(browser, setup, teardown);
	tcase_set_timeout(browser, 120);
	tcase_add_test(browser, test_renders_in_headless_chromium);
	suite_add_tcase(s, browser);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
