/* test_certs.c - fixtures/certs.c makes the Patroni set with the real openssl CLI into a fresh
 * temporary directory; the results are checked with openssl itself. */
#include "fixtures/certs.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void remove_dir(const char *path)
{
	DIR *dh = opendir(path);
	struct dirent *e;

	if (!dh)
		return;
	while ((e = readdir(dh)) != NULL) {
		char p[512];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		unlink(p);
	}
	closedir(dh);
	rmdir(path);
}

static void setup(void)
{
	char err[512] = "";
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/pgc-test-certs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0700), 0);
	rc = pgc_certs_make_patroni(dir, err, sizeof(err));
	ck_assert_msg(rc == 0, "pgc_certs_make_patroni: %s", err);
}

static void teardown(void)
{
	remove_dir(dir);
}

static void file_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Runs openssl with args (NULL-terminated, after "openssl"); stdout (and stderr) into out.
 * Returns the exit status, or -1. */
static int openssl(char *out, size_t outlen, const char *const *args)
{
	const char *argv[16] = {"openssl"};
	size_t len = 0;
	int fds[2], status, n = 1;
	ssize_t r;
	pid_t pid;

	while (args[n - 1] && n < 15) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execvp("openssl", (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	out[0] = '\0';
	while ((r = read(fds[0], out + len, outlen - 1 - len)) > 0) {
		len += (size_t)r;
		out[len] = '\0';
		if (len == outlen - 1)
			break;
	}
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_all_files_exist_with_private_key_modes)
{
	static const char *const stems[] = {"ca",         "node1",    "node2",    "node3",
					    "etcd1",      "etcd2",    "etcd3",    "haproxy",
					    "replicator", "postgres", "rogue-ca", "rogue"};
	char path[256];
	struct stat st;

	for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.crt", dir, stems[i]);
		ck_assert_msg(stat(path, &st) == 0 && st.st_size > 0, "%s missing", path);
		ck_assert_msg((st.st_mode & 077) == 044, "%s mode %o", path, st.st_mode & 0777);
		snprintf(path, sizeof(path), "%s/%s.key", dir, stems[i]);
		ck_assert_msg(stat(path, &st) == 0 && st.st_size > 0, "%s missing", path);
		ck_assert_msg((st.st_mode & 0777) == 0600, "%s mode %o", path, st.st_mode & 0777);
	}
	file_path(path, sizeof(path), "haproxy.pem");
	ck_assert_msg(stat(path, &st) == 0, "%s missing", path);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_no_temporary_files_left)
{
	DIR *dh = opendir(dir);
	struct dirent *e;

	ck_assert_ptr_nonnull(dh);
	while ((e = readdir(dh)) != NULL) {
		const char *dot = strrchr(e->d_name, '.');

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		ck_assert_msg(
		    dot && (!strcmp(dot, ".crt") || !strcmp(dot, ".key") || !strcmp(dot, ".pem")),
		    "unexpected file %s", e->d_name);
	}
	closedir(dh);
}
END_TEST

START_TEST(test_leaves_verify_against_ca)
{
	static const char *const leaves[] = {"node1", "node2",   "node3",      "etcd1",   "etcd2",
					     "etcd3", "haproxy", "replicator", "postgres"};
	char ca[256], crt[256], out[2048];

	file_path(ca, sizeof(ca), "ca.crt");
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		const char *args[] = {"verify", "-CAfile", ca, "-purpose", "sslserver", crt, NULL};

		snprintf(crt, sizeof(crt), "%s/%s.crt", dir, leaves[i]);
		ck_assert_msg(openssl(out, sizeof(out), args) == 0, "%s: %s", leaves[i], out);
		args[4] = "sslclient";
		ck_assert_msg(openssl(out, sizeof(out), args) == 0, "%s: %s", leaves[i], out);
	}
}
END_TEST

START_TEST(test_rogue_is_from_another_ca)
{
	char ca[256], rogue_ca[256], crt[256], out[2048];
	const char *args[] = {"verify", "-CAfile", ca, crt, NULL};

	file_path(ca, sizeof(ca), "ca.crt");
	file_path(rogue_ca, sizeof(rogue_ca), "rogue-ca.crt");
	file_path(crt, sizeof(crt), "rogue.crt");
	ck_assert_int_ne(openssl(out, sizeof(out), args), 0);
	args[2] = rogue_ca;
	ck_assert_msg(openssl(out, sizeof(out), args) == 0, "rogue vs rogue-ca: %s", out);
	file_path(crt, sizeof(crt), "node1.crt");
	ck_assert_int_ne(openssl(out, sizeof(out), args), 0);
}
END_TEST

START_TEST(test_node1_names_and_usage)
{
	char crt[256], out[4096];
	const char *san[] = {"x509", "-in", crt, "-noout", "-ext", "subjectAltName", NULL};
	const char *eku[] = {"x509", "-in", crt, "-noout", "-ext", "extendedKeyUsage", NULL};
	const char *key[] = {"x509", "-in", crt, "-noout", "-text", NULL};

	file_path(crt, sizeof(crt), "node1.crt");
	ck_assert_int_eq(openssl(out, sizeof(out), san), 0);
	ck_assert_msg(strstr(out, "DNS:node1"), "%s", out);
	ck_assert_msg(strstr(out, "DNS:localhost"), "%s", out);
	ck_assert_msg(strstr(out, "IP Address:127.0.0.1"), "%s", out);
	ck_assert_msg(strstr(out, "IP Address:10.20.0.11"), "%s", out);
	ck_assert_msg(strstr(out, "IP Address:10.21.0.11"), "%s", out);
	ck_assert_int_eq(openssl(out, sizeof(out), eku), 0);
	ck_assert_msg(strstr(out, "TLS Web Server Authentication"), "%s", out);
	ck_assert_msg(strstr(out, "TLS Web Client Authentication"), "%s", out);
	ck_assert_int_eq(openssl(out, sizeof(out), key), 0);
	ck_assert_msg(strstr(out, "P-256"), "node1 key is not P-256");
	ck_assert_msg(strstr(out, "CA:FALSE"), "node1 is not CA:FALSE");
}
END_TEST

START_TEST(test_client_certificate_common_names)
{
	char crt[256], out[1024];
	const char *args[] = {"x509", "-in", crt, "-noout", "-subject", NULL};

	file_path(crt, sizeof(crt), "postgres.crt");
	ck_assert_int_eq(openssl(out, sizeof(out), args), 0);
	ck_assert_msg(strstr(out, "CN = postgres"), "%s", out);
	file_path(crt, sizeof(crt), "replicator.crt");
	ck_assert_int_eq(openssl(out, sizeof(out), args), 0);
	ck_assert_msg(strstr(out, "CN = replicator"), "%s", out);
}
END_TEST

START_TEST(test_haproxy_pem_holds_cert_and_key)
{
	char path[256], buf[8192];
	ssize_t n;
	int fd;

	file_path(path, sizeof(path), "haproxy.pem");
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "-----BEGIN CERTIFICATE-----") != NULL, "no certificate");
	ck_assert_msg(strstr(buf, "PRIVATE KEY-----") != NULL, "no key");
}
END_TEST

START_TEST(test_each_call_makes_a_fresh_ca)
{
	char ca[256], before[4096], after[4096], err[512] = "";
	const char *args[] = {"x509", "-in", ca, "-noout", "-fingerprint", "-sha256", NULL};

	file_path(ca, sizeof(ca), "ca.crt");
	ck_assert_int_eq(openssl(before, sizeof(before), args), 0);
	ck_assert_msg(pgc_certs_make_patroni(dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(openssl(after, sizeof(after), args), 0);
	ck_assert_str_ne(before, after);
}
END_TEST

START_TEST(test_invalid_specs_are_refused)
{
	static const struct pgc_cert_spec bad_cn[] = {{.stem = "x", .cn = "a/CN=b"}};
	static const struct pgc_cert_spec bad_stem[] = {{.stem = "../x", .cn = "x"}};
	static const struct pgc_cert_spec bad_san[] = {
	    {.stem = "x", .cn = "x", .sans = {"ok", "DNS:evil,IP:1.2.3.4"}}};
	char err[512], path[256];
	struct stat st;

	err[0] = '\0';
	ck_assert_int_eq(pgc_certs_make(dir, bad_cn, 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "common name"), "%s", err);
	err[0] = '\0';
	ck_assert_int_eq(pgc_certs_make(dir, bad_stem, 1, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no error text");
	err[0] = '\0';
	ck_assert_int_eq(pgc_certs_make(dir, bad_san, 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "subjectAltName"), "%s", err);
	file_path(path, sizeof(path), "x.crt");
	ck_assert_int_ne(stat(path, &st), 0);
}
END_TEST

START_TEST(test_missing_directory_fails_with_reason)
{
	static const struct pgc_cert_spec one[] = {{.stem = "x", .cn = "x"}};
	char err[512] = "", missing[128];

	snprintf(missing, sizeof(missing), "%s/does-not-exist", dir);
	ck_assert_int_eq(pgc_certs_make(missing, one, 1, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no error text");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("certs");
	TCase *tc = tcase_create("patroni_set");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_all_files_exist_with_private_key_modes);
	tcase_add_test(tc, test_no_temporary_files_left);
	tcase_add_test(tc, test_leaves_verify_against_ca);
	tcase_add_test(tc, test_rogue_is_from_another_ca);
	tcase_add_test(tc, test_node1_names_and_usage);
	tcase_add_test(tc, test_client_certificate_common_names);
	tcase_add_test(tc, test_haproxy_pem_holds_cert_and_key);
	tcase_add_test(tc, test_each_call_makes_a_fresh_ca);
	tcase_add_test(tc, test_invalid_specs_are_refused);
	tcase_add_test(tc, test_missing_directory_fails_with_reason);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
