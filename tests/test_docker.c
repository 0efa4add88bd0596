/* test_docker.c - fixtures/docker.c and fixtures/engine.c against a canned Engine API served on
 * a temporary unix socket (tests/fake_engine.c). No real Docker engine is touched. */
#include "fixtures/docker.h"
#include "fixtures/engine.h"

#include <check.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "fake_engine.c"

#define MUX_LOGS                                                                                   \
	"\x01\0\0\0\0\0\0\x06"                                                                     \
	"hello\n"                                                                                  \
	"\x02\0\0\0\0\0\0\x05"                                                                     \
	"oops\n"                                                                                   \
	"\x01\0\0\0\0\0\0\x04"                                                                     \
	"bye\n"
#define MUX_EXEC                                                                                   \
	"\x01\0\0\0\0\0\0\x03"                                                                     \
	"ok\n"                                                                                     \
	"\x02\0\0\0\0\0\0\x05"                                                                     \
	"warn\n"

static const struct fake_route routes[] = {
    {"GET", "/_ping", 200, "text/plain", "OK", 0},
    {"GET", "/containers/node1/json", 200, NULL,
     "{\"Id\":\"abc123\",\"Name\":\"/node1\",\"State\":{\"Status\":\"running\"},"
     "\"Config\":{\"Tty\":false}}",
     0},
    {"POST", "/containers/node1/kill", 204, NULL, "", 0},
    {"POST", "/containers/node1/stop", 304, NULL, "", 0},
    {"POST", "/containers/node1/start", 204, NULL, "", 0},
    {"POST", "/containers/node9/start", 404, NULL, "{\"message\":\"No such container: node9\"}", 0},
    {"POST", "/containers/node1/pause", 409, NULL,
     "{\"message\":\"Container node1 is not running\"}", 0},
    {"POST", "/containers/node2/pause", 304, NULL, "", 0},
    {"POST", "/containers/node1/unpause", 204, NULL, "", 0},
    {"POST", "/containers/node3/pause", 409, NULL,
     "{\"message\":\"Container abc is already paused\"}", 0},
    {"POST", "/containers/node3/unpause", 409, NULL,
     "{\"message\":\"Container abc is not paused\"}", 0},
    {"POST", "/networks/net1/disconnect", 500, NULL,
     "{\"message\":\"container abc123 is not connected to network net1\"}", 0},
    {"POST", "/networks/net1/connect", 200, NULL, "", 0},
    {"GET", "/containers/json", 200, NULL, "[{\"Id\":\"c1\",\"Names\":[\"/node1\"]}]", 0},
    {"GET", "/networks", 200, NULL, "[{\"Name\":\"net1\"},{\"Name\":\"net2\"}]", 0},
    {"GET", "/volumes", 200, NULL, "{\"Volumes\":[{\"Name\":\"v1\"}],\"Warnings\":null}", 0},
    {"GET", "/containers/node1/logs", 200, "application/vnd.docker.raw-stream", MUX_LOGS,
     sizeof(MUX_LOGS) - 1},
    {"GET", "/containers/tty1/logs", 200, "application/vnd.docker.raw-stream", "plain tty line\r\n",
     0},
    {"POST", "/containers/node1/exec", 201, NULL, "{\"Id\":\"e1\"}", 0},
    {"POST", "/exec/e1/start", 200, "application/vnd.docker.raw-stream", MUX_EXEC,
     sizeof(MUX_EXEC) - 1},
    {"GET", "/exec/e1/json", 200, NULL, "{\"Running\":false,\"ExitCode\":3}", 0},
    {"GET", "/containers/node1/stats", 200, NULL,
     "{\"memory_stats\":{\"usage\":104857600,\"stats\":{\"inactive_file\":4857600}}}", 0},
    {"GET", "/containers/node2/stats", 200, NULL,
     "{\"memory_stats\":{\"usage\":5000,\"stats\":{\"total_inactive_file\":1000}}}", 0},
    {"GET", "/containers/node3/stats", 200, NULL, "{\"memory_stats\":{}}", 0},
    {"DELETE", "/containers/node1", 204, NULL, "", 0},
    {"DELETE", "/volumes/gone", 404, NULL, "{\"message\":\"get gone: no such volume\"}", 0},
    {"DELETE", "/networks/busy", 403, NULL,
     "{\"message\":\"error while removing network: network busy has active endpoints\"}", 0},
    {"GET", "/images/debian:trixie-slim/json", 200, NULL, "{\"Id\":\"sha256:1\"}", 0},
    {"POST", "/images/create", 200, NULL,
     "{\"status\":\"Pulling from library/debian\"}\n{\"errorDetail\":{\"message\":\"x\"},"
     "\"error\":\"Get https://registry-1.docker.io/v2/: dial tcp: no such host\"}\n",
     0},
    {NULL, NULL, 0, NULL, NULL, 0},
};

static struct fake_engine fake;
static struct pgc_docker *d;
static char err[1024];

/* Unchecked (parent, once): the socket folder is removed even when a test failed. */
static void open_fake(void)
{
	ck_assert_int_eq(fake_engine_open(&fake, routes), 0);
}

static void close_fake(void)
{
	fake_engine_close(&fake);
}

/* Checked (in each test's child): the answering thread and the client. */
static void setup(void)
{
	ck_assert_int_eq(fake_engine_start(&fake), 0);
	err[0] = '\0';
	ck_assert_msg(pgc_docker_open(&d, err, sizeof(err)) == 0, "open: %s", err);
	ck_assert_str_eq(pgc_docker_socket(d), fake.sock);
}

static void teardown(void)
{
	pgc_docker_close(d);
	d = NULL;
	fake_engine_stop(&fake);
}

START_TEST(test_ping_and_raw_request)
{
	long status = 0;
	char *resp = NULL;
	size_t len = 0;

	ck_assert_msg(pgc_docker_ping(d, err, sizeof(err)) == 0, "ping: %s", err);
	ck_assert_int_eq(pgc_docker_request(d, "GET", "/nothing/here", NULL, &status, &resp, &len,
					    err, sizeof(err)),
			 0);
	ck_assert_int_eq(status, 404);
	ck_assert_ptr_nonnull(resp);
	ck_assert_str_eq(resp, "{\"message\":\"page not found\"}");
	ck_assert_uint_eq(len, strlen(resp));
	free(resp);
}
END_TEST

START_TEST(test_inspect_ok)
{
	cJSON *json = NULL;
	cJSON *state;

	ck_assert_msg(pgc_docker_inspect(d, "node1", &json, err, sizeof(err)) == 0, "%s", err);
	state = cJSON_GetObjectItemCaseSensitive(json, "State");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(state, "Status")),
			 "running");
	cJSON_Delete(json);
}
END_TEST

START_TEST(test_kill_204_sends_signal)
{
	ck_assert_msg(pgc_docker_kill(d, "node1", "SIGKILL", err, sizeof(err)) == 0, "%s", err);
	ck_assert(fake_engine_saw(&fake, "POST /v1.41/containers/node1/kill?signal=SIGKILL\n"));
}
END_TEST

START_TEST(test_stop_304_is_success)
{
	ck_assert_msg(pgc_docker_stop(d, "node1", 5, err, sizeof(err)) == 0, "%s", err);
	ck_assert(fake_engine_saw(&fake, "POST /v1.41/containers/node1/stop?t=5\n"));
}
END_TEST

START_TEST(test_start_404_carries_message)
{
	ck_assert_int_eq(pgc_docker_start(d, "node9", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "docker start node9: No such container: node9 (HTTP 404)");
	ck_assert_ptr_nonnull(strstr(err, "No such container: node9"));
	ck_assert_ptr_nonnull(strstr(err, "404"));
}
END_TEST

START_TEST(test_pause_409_fails_304_succeeds)
{
	ck_assert_int_eq(pgc_docker_pause(d, "node1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "docker pause node1: Container node1 is not running (HTTP 409)");
	ck_assert_msg(pgc_docker_pause(d, "node2", err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(pgc_docker_unpause(d, "node1", err, sizeof(err)) == 0, "%s", err);
	/* The engine answers 409 for pause of a paused / unpause of a running container. */
	ck_assert_msg(pgc_docker_pause(d, "node3", err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(pgc_docker_unpause(d, "node3", err, sizeof(err)) == 0, "%s", err);
}
END_TEST

START_TEST(test_network_disconnect_500_connect_with_ip)
{
	ck_assert_int_eq(pgc_docker_network_disconnect(d, "net1", "node1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "docker network disconnect net1 node1: container abc123 is not "
			      "connected to network net1 (HTTP 500)");
	ck_assert_msg(
	    pgc_docker_network_connect(d, "net1", "node1", "172.30.0.11", err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(fake.last_body, "{\"Container\":\"node1\",\"EndpointConfig\":{"
					 "\"IPAMConfig\":{\"IPv4Address\":\"172.30.0.11\"}}}");
}
END_TEST

START_TEST(test_list_with_label_filter)
{
	cJSON *arr = NULL;

	ck_assert_msg(
	    pgc_docker_list(d, "containers", "pgconform.run=r1 x", &arr, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
	cJSON_Delete(arr);
	/* {"label":["pgconform.run=r1 x"]} URL-encoded */
	ck_assert_msg(fake_engine_saw(&fake,
				      "GET /v1.41/containers/json?all=1&filters="
				      "%7B%22label%22%3A%5B%22pgconform.run%3Dr1%20x%22%5D%7D\n"),
		      "log: %s", fake.log);

	ck_assert_msg(pgc_docker_list(d, "networks", "k=v", &arr, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
	cJSON_Delete(arr);
	ck_assert(fake_engine_saw(&fake, "GET /v1.41/networks?filters=%7B%22label%22%3A%5B%22k%"
					 "3Dv%22%5D%7D\n"));

	ck_assert_msg(pgc_docker_list(d, "volumes", "k=v", &arr, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
	ck_assert_str_eq(cJSON_GetStringValue(
			     cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "Name")),
			 "v1");
	cJSON_Delete(arr);

	ck_assert_int_eq(pgc_docker_list(d, "images", NULL, &arr, err, sizeof(err)), -1);
	ck_assert_ptr_null(arr);
}
END_TEST

START_TEST(test_logs_demultiplexed)
{
	char *out = NULL;

	ck_assert_msg(pgc_docker_logs(d, "node1", 50, &out, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(out, "hello\noops\nbye\n");
	free(out);
	ck_assert(fake_engine_saw(&fake, "GET /v1.41/containers/node1/logs?stdout=1&stderr=1&"
					 "tail=50\n"));
	/* A TTY container's log has no frame headers: passed through. */
	ck_assert_msg(pgc_docker_logs(d, "tty1", 10, &out, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(out, "plain tty line\r\n");
	free(out);
}
END_TEST

START_TEST(test_exec_exit_code_and_output)
{
	static const char *const argv[] = {"sh", "-c", "echo ok; echo warn >&2; exit 3", NULL};
	char *out = NULL;
	int code = 0;

	ck_assert_msg(pgc_docker_exec(d, "node1", argv, &code, &out, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(code, 3);
	ck_assert_str_eq(out, "ok\nwarn\n");
	free(out);
	ck_assert(fake_engine_saw(&fake, "POST /v1.41/containers/node1/exec\n"));
	ck_assert(fake_engine_saw(&fake, "POST /v1.41/exec/e1/start\n"));
	ck_assert(fake_engine_saw(&fake, "GET /v1.41/exec/e1/json\n"));
}
END_TEST

START_TEST(test_memory_stats)
{
	uint64_t bytes = 0;

	ck_assert_msg(pgc_docker_memory(d, "node1", &bytes, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(bytes, 100000000u); /* usage - inactive_file (cgroup v2) */
	ck_assert_msg(pgc_docker_memory(d, "node2", &bytes, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(bytes, 4000u); /* usage - total_inactive_file (cgroup v1) */
	ck_assert_int_eq(pgc_docker_memory(d, "node3", &bytes, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "node3"));
}
END_TEST

START_TEST(test_remove)
{
	ck_assert_msg(pgc_docker_remove(d, "containers", "node1", err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert(fake_engine_saw(&fake, "DELETE /v1.41/containers/node1?force=1&v=1\n"));
	ck_assert_msg(pgc_docker_remove(d, "volumes", "gone", err, sizeof(err)) == 0, "%s", err);
	ck_assert(fake_engine_saw(&fake, "DELETE /v1.41/volumes/gone?force=1\n"));
	ck_assert_int_eq(pgc_docker_remove(d, "networks", "busy", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "has active endpoints (HTTP 403)"));
}
END_TEST

START_TEST(test_engine_ensure_with_answering_engine)
{
	int started = 7;

	ck_assert_msg(pgc_engine_ensure(&started, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(started, 0);
}
END_TEST

START_TEST(test_base_image_present)
{
	ck_assert_msg(pgc_base_image_ensure("trixie", err, sizeof(err)) == 0, "%s", err);
	ck_assert(fake_engine_saw(&fake, "GET /v1.41/images/debian:trixie-slim/json\n"));
	ck_assert_int_eq(pgc_base_image_ensure("tri xie; rm", err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_pull_error_in_stream)
{
	ck_assert_int_eq(pgc_docker_pull(d, "debian", "trixie-slim", 3000, err, sizeof(err)), -1);
	ck_assert_str_eq(err,
			 "docker pull debian:trixie-slim: Get https://registry-1.docker.io/v2/: "
			 "dial tcp: no such host");
	ck_assert(
	    fake_engine_saw(&fake, "POST /v1.41/images/create?fromImage=debian&tag=trixie-slim\n"));
}
END_TEST

/* Without the fake engine. */
START_TEST(test_no_engine_names_socket)
{
	struct pgc_docker *none = NULL;
	int started = 7;

	setenv("DOCKER_HOST", "unix:///tmp/pgc-no-such-dir/docker.sock", 1);
	ck_assert_int_eq(pgc_docker_open(&none, err, sizeof(err)), 0);
	ck_assert_int_eq(pgc_docker_ping(none, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/tmp/pgc-no-such-dir/docker.sock") != NULL, "%s", err);
	ck_assert_int_eq(pgc_docker_kill(none, "node1", "SIGKILL", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "docker kill node1: no Docker engine answers at "
				  "/tmp/pgc-no-such-dir/docker.sock") == err,
		      "%s", err);
	pgc_docker_close(none);
	/* DOCKER_HOST names an engine that is not there: nothing is started. */
	ck_assert_int_eq(pgc_engine_ensure(&started, err, sizeof(err)), -1);
	ck_assert_int_eq(started, 0);
	ck_assert_msg(strstr(err, "no Docker engine answers at /tmp/pgc-no-such-dir/docker.sock") ==
			  err,
		      "%s", err);
	unsetenv("DOCKER_HOST");
}
END_TEST

START_TEST(test_tcp_docker_host_rejected)
{
	struct pgc_docker *none = (struct pgc_docker *)1;

	setenv("DOCKER_HOST", "tcp://127.0.0.1:2375", 1);
	ck_assert_int_eq(pgc_docker_open(&none, err, sizeof(err)), -1);
	ck_assert_ptr_null(none);
	ck_assert_msg(strstr(err, "tcp://127.0.0.1:2375") && strstr(err, "unix"), "%s", err);
	unsetenv("DOCKER_HOST");
}
END_TEST

static Suite *docker_suite(void)
{
	Suite *s = suite_create("docker");
	TCase *api = tcase_create("api");
	TCase *bare = tcase_create("no_engine");

	tcase_add_unchecked_fixture(api, open_fake, close_fake);
	tcase_add_checked_fixture(api, setup, teardown);
	tcase_add_test(api, test_ping_and_raw_request);
	tcase_add_test(api, test_inspect_ok);
	tcase_add_test(api, test_kill_204_sends_signal);
	tcase_add_test(api, test_stop_304_is_success);
	tcase_add_test(api, test_start_404_carries_message);
	tcase_add_test(api, test_pause_409_fails_304_succeeds);
	tcase_add_test(api, test_network_disconnect_500_connect_with_ip);
	tcase_add_test(api, test_list_with_label_filter);
	tcase_add_test(api, test_logs_demultiplexed);
	tcase_add_test(api, test_exec_exit_code_and_output);
	tcase_add_test(api, test_memory_stats);
	tcase_add_test(api, test_remove);
	tcase_add_test(api, test_engine_ensure_with_answering_engine);
	tcase_add_test(api, test_base_image_present);
	tcase_add_test(api, test_pull_error_in_stream);
	tcase_add_test(bare, test_no_engine_names_socket);
	tcase_add_test(bare, test_tcp_docker_host_rejected);
	suite_add_tcase(s, api);
	suite_add_tcase(s, bare);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	sr = srunner_create(docker_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
