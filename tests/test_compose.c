/* test_compose.c - fixtures/compose.c against fake `docker` / `docker-compose` scripts put first
 * on PATH in a temporary directory. No real Compose CLI is run. */
#include "fixtures/compose.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char saved_path[4096];

/* docker: no compose v2 plugin. */
static const char fake_docker[] = "#!/bin/sh\n"
				  "echo \"docker: '$1' is not a docker command.\" >&2\n"
				  "exit 1\n";
/* docker-compose: v1; echoes its arguments and one environment variable. */
static const char fake_compose[] = "#!/bin/sh\n"
				   "if [ \"$1\" = version ]; then\n"
				   "  echo 'docker-compose version 1.29.2, build unknown'; exit 0\n"
				   "fi\n"
				   "echo \"args: $*\"\n"
				   "echo \"env: ${PGC_X-unset} ${HOME:+home}\" >&2\n"
				   "exit 7\n";

static void write_script(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
}

static void setup(void)
{
	char path[4200];

	snprintf(dir, sizeof(dir), "/tmp/pgc-fake-compose-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(saved_path, sizeof(saved_path), "%s", getenv("PATH") ? getenv("PATH") : "");
	snprintf(path, sizeof(path), "%s", dir); /* scripts use only sh builtins */
	setenv("PATH", path, 1);
	unsetenv("PGC_X");
}

static void teardown(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/docker", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/docker-compose", dir);
	unlink(path);
	rmdir(dir);
	setenv("PATH", saved_path, 1);
}

START_TEST(test_detect_v1_when_no_v2)
{
	struct pgc_compose c;
	char err[512] = "";

	write_script("docker", fake_docker);
	write_script("docker-compose", fake_compose);
	ck_assert_msg(pgc_compose_detect(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.prog, "docker-compose");
	ck_assert_int_eq(c.v2, 0);
}
END_TEST

START_TEST(test_run_passes_args_env_and_status)
{
	static const char *const env[] = {"PGC_X=from-env", NULL};
	static const char *const args[] = {"up", "-d", "--no-build", NULL};
	struct pgc_compose c = {"docker-compose", 0};
	char out[256];
	char err[512] = "";
	int rc;

	write_script("docker-compose", fake_compose);
	rc = pgc_compose_run(&c, "/x/compose.yml", "pgc-r1", env, args, out, sizeof(out), err,
			     sizeof(err));
	ck_assert_msg(rc == 7, "rc %d: %s", rc, err);
	ck_assert_str_eq(out, "args: -f /x/compose.yml -p pgc-r1 up -d --no-build\n"
			      "env: from-env home\n");
	/* The extra environment went to the child only. */
	ck_assert_ptr_null(getenv("PGC_X"));
	/* The output keeps its last outlen-1 bytes. */
	rc = pgc_compose_run(&c, NULL, NULL, env, args, out, 9, err, sizeof(err));
	ck_assert_int_eq(rc, 7);
	ck_assert_str_eq(out, "nv home\n");
}
END_TEST

START_TEST(test_detect_none_says_why)
{
	struct pgc_compose c;
	char err[512] = "";

	ck_assert_int_eq(pgc_compose_detect(&c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no Compose CLI answers") && strstr(err, "docker-compose"), "%s",
		      err);
}
END_TEST

START_TEST(test_run_missing_program)
{
	struct pgc_compose c = {"pgc-no-such-compose", 0};
	char err[512] = "";

	ck_assert_int_eq(pgc_compose_run(&c, "f.yml", "p", NULL, NULL, NULL, 0, err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "pgc-no-such-compose") && strstr(err, "No such file"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("compose");
	TCase *tc = tcase_create("cli");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_detect_v1_when_no_v2);
	tcase_add_test(tc, test_run_passes_args_env_and_status);
	tcase_add_test(tc, test_detect_none_says_why);
	tcase_add_test(tc, test_run_missing_program);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
