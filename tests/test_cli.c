/* test_cli.c - bad input everywhere gets one sentence on stderr and exit status 2, and nothing
 * is started. Runs the built pgconform binary. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs pgconform with args; returns its exit status and its stderr in err. */
static int run(const char *const *args, char *err, size_t errlen)
{
	const char *bin = getenv("PGC_BINARY_DIR");
	char path[1024], tmpl[] = "/tmp/pgc-cli-XXXXXX";
	const char *argv[32];
	posix_spawn_file_actions_t fa;
	int fd = mkstemp(tmpl), n = 0, st = 0;
	pid_t pid;
	ssize_t got;

	ck_assert_int_ge(fd, 0);
	snprintf(path, sizeof(path), "%s/pgconform", bin ? bin : ".");
	argv[n++] = path;
	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 0, 0);
	ck_assert_int_eq(posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, environ), 0);
	waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	lseek(fd, 0, SEEK_SET);
	got = read(fd, err, errlen - 1);
	err[got > 0 ? got : 0] = '\0';
	close(fd);
	unlink(tmpl);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One sentence: a single line ending in '.'. */
static void assert_one_sentence(const char *err, const char *must_contain)
{
	size_t n = strlen(err);

	ck_assert_msg(n > 0 && err[n - 1] == '\n' && strchr(err, '\n') == err + n - 1,
		      "not exactly one line: \"%s\"", err);
	ck_assert_msg(n > 2 && err[n - 2] == '.', "not a sentence: \"%s\"", err);
	ck_assert_msg(strstr(err, must_contain) != NULL, "\"%s\" does not say \"%s\"", err,
		      must_contain);
}

struct bad {
	const char *args[8];
	const char *says;
};

static const struct bad cases[] = {
    {{"frobnicate", NULL}, "unknown command \"frobnicate\""},
    {{"--bogus", NULL}, "unknown option --bogus"},
    {{"run", NULL}, "run needs a topology"},
    {{"run", "nosuch", NULL}, "unknown topology \"nosuch\""},
    {{"up", "nosuch", NULL}, "unknown topology \"nosuch\""},
    {{"run", "standalone-17", "--suite", "nosuch", NULL}, "unknown suite \"nosuch\""},
    {{"run", "standalone-17", "--repeat", "0", NULL}, "--repeat needs a count"},
    {{"run", "standalone-17", "--frob", NULL}, "unknown or incomplete option"},
    {{"run", "--descriptor", "x.json", NULL}, "--descriptor is for --attach"},
    {{"report", NULL}, "report needs --history"},
    {{"report", "--history", "/tmp", "--threshold", "0.5", NULL}, "--threshold needs"},
    {{"up", NULL}, "up needs a topology"},
    {{"reap", "--everything", NULL}, "reap takes only --all"},
    {{"run", "--attach", "--descriptor", "/nonexistent/d.json", NULL},
     "/nonexistent/d.json: cannot read the descriptor"},
};

START_TEST(test_bad_arguments_exit_2)
{
	char err[4096];

	ck_assert_int_eq(run(cases[_i].args, err, sizeof(err)), 2);
	assert_one_sentence(err, cases[_i].says);
}
END_TEST

START_TEST(test_malformed_descriptors_exit_2)
{
	char bad_json[1024], bad_budget[1024], err[4096];
	const char *src = getenv("PGC_SOURCE_DIR");

	snprintf(bad_json, sizeof(bad_json), "%s/tests/descriptors/bad-json.json", src);
	snprintf(bad_budget, sizeof(bad_budget), "%s/tests/descriptors/bad-budget.json", src);
	{
		const char *args[] = {"up", bad_json, NULL};

		ck_assert_int_eq(run(args, err, sizeof(err)), 2);
		assert_one_sentence(err, "bad-json.json: (document): not valid JSON");
	}
	{
		const char *args[] = {"run", "--attach", "--descriptor", bad_budget, NULL};

		ck_assert_int_eq(run(args, err, sizeof(err)), 2);
		assert_one_sentence(err, "claims.failover_budget_ms: must be greater than 0");
	}
}
END_TEST

/* No engine answering at DOCKER_HOST: one sentence naming the socket, exit 2. */
START_TEST(test_docker_absent_exit_2)
{
	const char *args[] = {"up", "standalone-17", NULL};
	char err[4096];

	setenv("DOCKER_HOST", "unix:///nonexistent/pgc-docker.sock", 1);
	ck_assert_int_eq(run(args, err, sizeof(err)), 2);
	unsetenv("DOCKER_HOST");
	assert_one_sentence(err, "/nonexistent/pgc-docker.sock");
}
END_TEST

/* A port of the topology already taken by another process: exit 2 before anything starts. */
START_TEST(test_port_taken_exit_2)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(54999)};
	char desc[1024], err[4096];
	const char *src = getenv("PGC_SOURCE_DIR");
	const char *args[] = {"up", desc, NULL};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	snprintf(desc, sizeof(desc), "%s/tests/descriptors/port-taken.json", src);
	setenv("DOCKER_HOST", "unix:///nonexistent/pgc-docker.sock", 1);
	ck_assert_int_eq(run(args, err, sizeof(err)), 2);
	unsetenv("DOCKER_HOST");
	close(fd);
	assert_one_sentence(err, "port 127.0.0.1:54999 (endpoints.front of port-taken) is already "
				 "in use");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("bad-input");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad_arguments_exit_2, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_malformed_descriptors_exit_2);
	tcase_add_test(tc, test_docker_absent_exit_2);
	tcase_add_test(tc, test_port_taken_exit_2);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
