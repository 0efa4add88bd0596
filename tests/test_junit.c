/* test_junit.c - the JUnit writer produces XML that the JUnit schema accepts, with the right
 * grouping, counts and classnames, escaped special characters, and no secrets. */
#include "junit.h"
#include "results.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "Pl4nt3dS3cr3t"

static char dir[64];
static char xml[128];

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

/* Output of a shell command (caller frees); its exit status into *status. */
static char *run(const char *cmd, int *status)
{
	char path[160], full[2048], *out;
	size_t n;

	snprintf(path, sizeof(path), "%s/cmd.out", dir);
	snprintf(full, sizeof(full), "%s >'%s' 2>&1", cmd, path);
	*status = system(full);
	out = slurp(path);
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[n - 1] = '\0'; /* xmllint --xpath ends its answer with a newline */
	return out;
}

static void add(struct pgc_run *r, const char *topo, const char *suite, const char *name,
		enum pgc_status st, const char *msg, const char *evidence, struct pgc_metric *m,
		int nm)
{
	struct pgc_check c;

	memset(&c, 0, sizeof(c));
	snprintf(c.topology, sizeof(c.topology), "%s", topo);
	snprintf(c.suite, sizeof(c.suite), "%s", suite);
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.message, sizeof(c.message), "%s", msg);
	c.status = st;
	c.duration_s = 1.5;
	c.metrics = m;
	c.nmetrics = nm;
	c.evidence = (char *)evidence;
	pgc_run_add_check(r, &c);
}

/* message with every special character, a control character and broken UTF-8 */
static const char *const nasty = "expected <leader> & \"replica\" isn't \x01here\x1b[0m \xff ok é";

static void setup(void)
{
	struct pgc_metric m[2] = {{"outage_ms", 22010, "ms"}, {"ratio", 0.25, SECRET}};
	struct pgc_run *r = pgc_run_new("run-1");
	char err[512];

	snprintf(dir, sizeof(dir), "/tmp/pgc-junit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(xml, sizeof(xml), "%s/junit.xml", dir);
	snprintf(r->started, sizeof(r->started), "2024-05-01T01:02:03Z");
	snprintf(r->host, sizeof(r->host), "host<&>");
	pgc_report_secret(SECRET);
	add(r, "patroni", "failover", "sigkill_leader", PGC_PASSED, "", NULL, m, 1);
	add(r, "patroni", "failover", "no_lost_writes", PGC_FAILED, nasty,
	    "node1 | <FATAL> & \"x\" ]]> end\x07\nnode2 | password=" SECRET "\n", m, 2);
	add(r, "standalone-17", "tls", "tls13", PGC_PASSED, "", NULL, NULL, 0);
	add(r, "patroni", "failover", "pause_leader", PGC_SKIPPED, "needs 'destructive' <flag>",
	    NULL, NULL, 0);
	add(r, "patroni", "failover", "auth " SECRET, PGC_FAILED, "password " SECRET " rejected",
	    NULL, NULL, 0);
	ck_assert_msg(pgc_junit_write(r, xml, err, sizeof(err)) == 0, "%s", err);
	pgc_run_free(r);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	pgc_report_secrets_clear();
}

START_TEST(test_schema_accepts)
{
	const char *src = getenv("PGC_SOURCE_DIR");
	char cmd[1024], *out;
	int st;

	ck_assert_msg(src != NULL, "PGC_SOURCE_DIR must point at the source tree");
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema '%s/tests/junit.xsd' '%s'", src, xml);
	out = run(cmd, &st);
	ck_assert_msg(st == 0, "xmllint rejected %s: %s", xml, out);
	free(out);
}
END_TEST

START_TEST(test_groups_counts_classnames)
{
	char *text = slurp(xml);

	ck_assert_ptr_nonnull(strstr(text,
				     "<testsuites name=\"pgconform run-1\" tests=\"5\" "
				     "failures=\"2\" errors=\"0\" skipped=\"1\" time=\"7.500\">"));
	ck_assert_ptr_nonnull(strstr(text,
				     "<testsuite name=\"patroni.failover\" tests=\"4\" "
				     "failures=\"2\" errors=\"0\" skipped=\"1\" time=\"6.000\" "
				     "timestamp=\"2024-05-01T01:02:03\" hostname=\"host&lt;&amp;"
				     "&gt;\""));
	ck_assert_ptr_nonnull(strstr(text, "<testsuite name=\"standalone-17.tls\" tests=\"1\" "
					   "failures=\"0\""));
	ck_assert_ptr_nonnull(strstr(text, "<testcase name=\"sigkill_leader\" "
					   "classname=\"patroni.failover\" time=\"1.500\">"));
	ck_assert_ptr_nonnull(strstr(text, "<property name=\"outage_ms\" value=\"22010 ms\"/>"));
	ck_assert_ptr_nonnull(strstr(text, "<property name=\"ratio\" value=\"0.25 ***\"/>"));
	ck_assert_ptr_nonnull(
	    strstr(text, "<skipped message=\"needs &apos;destructive&apos; &lt;flag&gt;\"/>"));
	ck_assert_ptr_nonnull(strstr(text, "type=\"assertion\""));
	/* exactly two suites: patroni.failover's checks are together although interleaved */
	ck_assert_ptr_null(strstr(strstr(text, "standalone-17.tls") + 1, "<testsuite "));
	free(text);
}
END_TEST

START_TEST(test_text_survives_escaping)
{
	char cmd[1024], *out;
	int st;

	snprintf(cmd, sizeof(cmd),
		 "xmllint --xpath 'string(//testcase[@name=\"no_lost_writes\"]/failure/@message)' "
		 "'%s'",
		 xml);
	out = run(cmd, &st);
	ck_assert_int_eq(st, 0);
	/* control characters dropped, the invalid byte replaced by U+FFFD, the rest intact */
	ck_assert_str_eq(out, "expected <leader> & \"replica\" isn't here[0m \xEF\xBF\xBD ok é");
	free(out);
	snprintf(cmd, sizeof(cmd),
		 "xmllint --xpath 'string(//testcase[@name=\"no_lost_writes\"]/system-out)' '%s'",
		 xml);
	out = run(cmd, &st);
	ck_assert_int_eq(st, 0);
	ck_assert_str_eq(out, "node1 | <FATAL> & \"x\" ]]> end\nnode2 | password=***\n");
	free(out);
	/* evidence only on failures */
	snprintf(cmd, sizeof(cmd), "xmllint --xpath 'count(//system-out)' '%s'", xml);
	out = run(cmd, &st);
	ck_assert_str_eq(out, "1");
	free(out);
}
END_TEST

START_TEST(test_secret_absent)
{
	char *text = slurp(xml);

	ck_assert_ptr_null(strstr(text, SECRET));
	ck_assert_ptr_nonnull(strstr(text, "password *** rejected"));
	ck_assert_ptr_nonnull(strstr(text, "name=\"auth ***\""));
	free(text);
}
END_TEST

START_TEST(test_unwritable_path_names_it)
{
	struct pgc_run *r = pgc_run_new("x");
	char err[512];

	ck_assert_int_eq(pgc_junit_write(r, "/nonexistent/dir/j.xml", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/dir/j.xml") && strstr(err, "No such file"), "%s",
		      err);
	pgc_run_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("junit");
	TCase *tc = tcase_create("junit");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_schema_accepts);
	tcase_add_test(tc, test_groups_counts_classnames);
	tcase_add_test(tc, test_text_survives_escaping);
	tcase_add_test(tc, test_secret_absent);
	tcase_add_test(tc, test_unwritable_path_names_it);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
