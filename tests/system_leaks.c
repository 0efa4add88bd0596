/* system_leaks.c - no leaks under any exit: SIGINT during `up`, SIGTERM during `run`, SIGKILL
 * during `run` followed by `pgconform reap`, and a compose file that fails. After each, no
 * container, network or volume of the project remains. Needs Docker (label "leaks"). */
#include "docker.h"
#include "engine.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PROJECT "pgc-standalone-17"

static const char *bin(void)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/pgconform", getenv("PGC_BINARY_DIR"));
	return path;
}

/* Spawns pgconform with stderr on a pipe. */
static pid_t spawn(const char *const *args, int *err_fd)
{
	const char *argv[16];
	posix_spawn_file_actions_t fa;
	int p[2], n = 0;
	pid_t pid;

	argv[n++] = bin();
	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	/* close-on-exec: only the dup on fd 2 reaches pgconform (and nothing it spawns) */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 0, 0);
	ck_assert_int_eq(posix_spawn(&pid, bin(), &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	*err_fd = p[0];
	return pid;
}

/* Reads stderr until a line containing marker (1) or EOF (0); the text read is kept. */
static int read_until(int fd, const char *marker, char *buf, size_t len)
{
	size_t used = strlen(buf);
	ssize_t n;

	while (used < len - 1 && (n = read(fd, buf + used, len - 1 - used)) > 0) {
		used += n;
		buf[used] = '\0';
		if (strstr(buf, marker))
			return 1;
	}
	return 0;
}

static int finish(pid_t pid, int fd, char *buf, size_t len)
{
	int st = 0;

	read_until(fd, "\1never\1", buf, len);
	close(fd);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Containers, networks and volumes labelled with project. */
static int leftovers(const char *project)
{
	struct pgc_docker *d = NULL;
	const char *kinds[] = {"containers", "networks", "volumes"};
	char label[128], err[512];
	int n = 0, started = 0;

	snprintf(label, sizeof(label), "io.pgconform.project=%s", project);
	/* `reap` and `down` stop an engine pgconform started once nothing is left: start it again
	 * to look (stopped containers and volumes would still be there) */
	ck_assert_msg(pgc_engine_ensure(&started, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(pgc_docker_open(&d, err, sizeof(err)) == 0, "%s", err);
	for (int i = 0; i < 3; i++) {
		cJSON *list = NULL;

		ck_assert_msg(pgc_docker_list(d, kinds[i], label, &list, err, sizeof(err)) == 0,
			      "%s", err);
		n += cJSON_GetArraySize(list);
		cJSON_Delete(list);
	}
	pgc_docker_close(d);
	return n;
}

/* Every container on the engine, ours or not, labelled or not. */
static int all_containers(void)
{
	struct pgc_docker *d = NULL;
	cJSON *list = NULL;
	char err[512];
	int n, started = 0;

	ck_assert_msg(pgc_engine_ensure(&started, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(pgc_docker_open(&d, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(pgc_docker_list(d, "containers", NULL, &list, err, sizeof(err)) == 0, "%s",
		      err);
	n = cJSON_GetArraySize(list);
	cJSON_Delete(list);
	pgc_docker_close(d);
	return n;
}

START_TEST(test_sigint_during_up_leaves_nothing)
{
	const char *args[] = {"up", "standalone-17", NULL};
	char buf[16384] = "";
	int fd, rc;
	pid_t pid = spawn(args, &fd);

	ck_assert_msg(read_until(fd, "starting (compose project", buf, sizeof(buf)),
		      "up never started: %s", buf);
	kill(pid, SIGINT);
	rc = finish(pid, fd, buf, sizeof(buf));
	/* interrupted while waiting (130), or it finished first and was still torn down */
	ck_assert_msg(rc == 130 || rc == 0, "exit %d: %s", rc, buf);
	if (rc == 0) {
		const char *down[] = {"-q", "down", "standalone-17", NULL};

		pid = spawn(down, &fd);
		finish(pid, fd, buf, sizeof(buf));
	}
	ck_assert_int_eq(leftovers(PROJECT), 0);
}
END_TEST

START_TEST(test_sigterm_during_run_leaves_nothing)
{
	const char *args[] = {"run", "standalone-17", "--results", "/tmp/pgc-leaks-run", NULL};
	char buf[16384] = "";
	int fd, rc;
	pid_t pid = spawn(args, &fd);

	ck_assert_msg(read_until(fd, "is healthy after", buf, sizeof(buf)),
		      "run never got healthy: %s", buf);
	kill(pid, SIGTERM);
	rc = finish(pid, fd, buf, sizeof(buf));
	ck_assert_msg(rc == 130 || rc == 0, "exit %d: %s", rc, buf);
	ck_assert_int_eq(leftovers(PROJECT), 0);
}
END_TEST

START_TEST(test_sigkill_during_run_then_reap)
{
	const char *args[] = {"run", "standalone-17", "--results", "/tmp/pgc-leaks-run", NULL};
	const char *reap[] = {"reap", NULL};
	char buf[16384] = "";
	int fd, rc;
	pid_t pid = spawn(args, &fd);

	ck_assert_msg(read_until(fd, "is healthy after", buf, sizeof(buf)),
		      "run never got healthy: %s", buf);
	kill(pid, SIGKILL);
	finish(pid, fd, buf, sizeof(buf));
	ck_assert_msg(leftovers(PROJECT) > 0, "SIGKILL left nothing to reap: the test proves "
					      "nothing");
	buf[0] = '\0';
	pid = spawn(reap, &fd);
	rc = finish(pid, fd, buf, sizeof(buf));
	ck_assert_msg(rc == 0, "reap exit %d: %s", rc, buf);
	ck_assert_int_eq(leftovers(PROJECT), 0);
}
END_TEST

START_TEST(test_failing_compose_exit_2_leaves_nothing)
{
	char desc[1024], buf[16384] = "";
	const char *args[] = {"up", desc, NULL};
	int fd, rc;
	pid_t pid;

	snprintf(desc, sizeof(desc), "%s/tests/descriptors/compose-fails.json",
		 getenv("PGC_SOURCE_DIR"));
	int before = all_containers();

	pid = spawn(args, &fd);
	rc = finish(pid, fd, buf, sizeof(buf));
	ck_assert_msg(rc == 2, "exit %d: %s", rc, buf);
	/* nor an unlabelled one: the container of the failed build step */
	ck_assert_int_eq(all_containers(), before);
	ck_assert_msg(strstr(buf, "compose build of") != NULL, "no sentence naming compose: %s",
		      buf);
	ck_assert_int_eq(leftovers("pgc-compose-fails"), 0);
}
END_TEST

/* Whether any file under dir contains needle (grep -r, quietly). */
static int tree_contains(const char *dir, const char *needle)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "grep -rqF -- '%s' '%s'", needle, dir);
	return system(cmd) == 0;
}

/* A planted password never reaches a report, even with container logs as failure evidence;
 * and the JUnit of a real run is valid against the schema. */
START_TEST(test_planted_secret_absent_and_junit_valid)
{
	const char *secret = "pgc-planted-secret-4711";
	char variant[1024], xsd[1024], cmd[4096], buf[16384] = "";
	const char *run_args[] = {"run",       "standalone-17",       "--suite", "connect",
				  "--results", "/tmp/pgc-secret-run", NULL};
	const char *var_args[] = {"variant", "--results", "/tmp/pgc-secret-variant", variant, NULL};
	int fd, rc;
	pid_t pid;

	snprintf(variant, sizeof(variant), "%s/tests/variants/standalone-trust-auth.json",
		 getenv("PGC_SOURCE_DIR"));
	snprintf(xsd, sizeof(xsd), "%s/tests/junit.xsd", getenv("PGC_SOURCE_DIR"));
	setenv("DB_ROOT_PASSWORD", secret, 1);
	system("rm -rf /tmp/pgc-secret-run /tmp/pgc-secret-variant");
	pid = spawn(run_args, &fd);
	rc = finish(pid, fd, buf, sizeof(buf));
	ck_assert_msg(rc == 0, "run exit %d: %s", rc, buf);
	ck_assert_msg(strstr(buf, secret) == NULL, "the secret was printed");
	buf[0] = '\0';
	pid = spawn(var_args, &fd);
	rc = finish(pid, fd, buf, sizeof(buf));
	unsetenv("DB_ROOT_PASSWORD");
	ck_assert_msg(rc == 0, "variant exit %d: %s", rc, buf);
	ck_assert_msg(!tree_contains("/tmp/pgc-secret-run", secret), "secret in a run report");
	ck_assert_msg(!tree_contains("/tmp/pgc-secret-variant", secret),
		      "secret in a variant report (failure evidence)");
	/* the proof is only worth something if the variant did write evidence */
	ck_assert_msg(tree_contains("/tmp/pgc-secret-variant", "evidence"), "no evidence written");
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema '%s' /tmp/pgc-secret-run/junit.xml",
		 xsd);
	ck_assert_msg(system(cmd) == 0, "%s rejected the JUnit of a real run", cmd);
	ck_assert_int_eq(leftovers(PROJECT), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("leaks");
	TCase *tc = tcase_create("signals");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_sigint_during_up_leaves_nothing);
	tcase_add_test(tc, test_sigterm_during_run_leaves_nothing);
	tcase_add_test(tc, test_sigkill_during_run_then_reap);
	tcase_add_test(tc, test_failing_compose_exit_2_leaves_nothing);
	tcase_add_test(tc, test_planted_secret_absent_and_junit_valid);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
