/* test_descriptor.c - the descriptor parser accepts ours and names file, key and problem for
 * every malformed input. */
#include "descriptor.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK_HEAD                                                                                    \
	"{\"name\":\"t\",\"kind\":\"standalone\",\"postgres_major\":17,"                           \
	"\"credentials\":{\"user\":\"postgres\",\"password_env\":\"DB_ROOT_PASSWORD\"},"
#define OK_ENDPOINTS                                                                               \
	"\"endpoints\":{\"front\":\"127.0.0.1:5432\",\"nodes\":[{\"name\":\"n1\","                 \
	"\"postgres\":\"127.0.0.1:54317\"}]},"
#define OK_CLAIMS "\"claims\":{\"replication\":\"none\",\"failover_budget_ms\":1000}"

static const char *valid = OK_HEAD OK_ENDPOINTS OK_CLAIMS "}";

struct bad_case {
	const char *json;
	const char *expect; /* "key: problem" part of the sentence */
};

static const struct bad_case cases[] = {
    {"{\"name\": ", "(document): not valid JSON"},
    {"[1,2]", "(document): must be a JSON object"},
    {OK_HEAD OK_ENDPOINTS OK_CLAIMS ",\"colour\":1}", "colour: unknown key"},
    {"{\"kind\":\"standalone\",\"postgres_major\":17}", "name: missing"},
    {"{\"name\":\"t\",\"kind\":\"mysql\",\"postgres_major\":17}",
     "kind: must be standalone, patroni or pgpool"},
    {"{\"name\":\"t\",\"kind\":\"standalone\",\"postgres_major\":\"17\"}",
     "postgres_major: must be an integer"},
    {"{\"name\":\"t\",\"kind\":\"standalone\",\"postgres_major\":7}",
     "postgres_major: must be between 10 and 30"},
    {"{\"name\":\"T T\",\"kind\":\"standalone\",\"postgres_major\":17}", "name: must use only a-z"},
    {"{\"name\":\"t\",\"kind\":\"standalone\",\"postgres_major\":17," OK_ENDPOINTS OK_CLAIMS "}",
     "credentials: missing"},
    {"{\"name\":\"t\",\"kind\":\"standalone\",\"postgres_major\":17,\"credentials\":{\"user\":"
     "\"postgres\",\"password_env\":\"s3cret!\"}," OK_ENDPOINTS OK_CLAIMS "}",
     "credentials.password_env: must name an environment variable"},
    {OK_HEAD OK_CLAIMS "}", "endpoints: missing"},
    {OK_HEAD "\"endpoints\":{\"nodes\":[{\"name\":\"n1\",\"postgres\":\"127.0.0.1:1\"}]}," OK_CLAIMS
	     "}",
     "endpoints.front: missing"},
    {OK_HEAD "\"endpoints\":{\"front\":\"localhost\",\"nodes\":[]}," OK_CLAIMS "}",
     "endpoints.front: must be \"host:port\""},
    {OK_HEAD "\"endpoints\":{\"front\":\"127.0.0.1:70000\",\"nodes\":[]}," OK_CLAIMS "}",
     "endpoints.front: port must be 1..65535"},
    {OK_HEAD "\"endpoints\":{\"front\":\"127.0.0.1:5432\",\"nodes\":[]}," OK_CLAIMS "}",
     "endpoints.nodes: must list at least one node"},
    {OK_HEAD "\"endpoints\":{\"front\":\"127.0.0.1:5432\",\"nodes\":[{\"name\":\"n1\"}]}," OK_CLAIMS
	     "}",
     "endpoints.nodes[0].postgres: missing"},
    {OK_HEAD "\"endpoints\":{\"front\":\"127.0.0.1:5432\",\"nodes\":[{\"name\":\"n1\","
	     "\"postgres\":\"h:1\",\"shoe\":2}]}," OK_CLAIMS "}",
     "endpoints.nodes[0].shoe: unknown key"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":{\"failover_budget_ms\":0}}",
     "claims.failover_budget_ms: must be greater than 0"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":{\"switchover_budget_ms\":-5}}",
     "claims.switchover_budget_ms: must be greater than 0"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":{\"max_acked_loss\":-1}}",
     "claims.max_acked_loss: must be between 0 and"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":{\"failover_budget_ms\":1.5}}",
     "claims.failover_budget_ms: must be an integer"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":{\"pooling\":\"yes\"}}",
     "claims.pooling: must be true or false"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":{\"replication\":\"semi\"}}",
     "claims.replication: must be none, synchronous or asynchronous"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":{\"tls\":\"maybe\"}}",
     "claims.tls: must be none, optional, required or mutual"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":{\"synchronous_strict\":true}}",
     "claims.synchronous_strict: needs claims.replication"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":{\"budget\":1}}", "claims.budget: unknown key"},
    {OK_HEAD OK_ENDPOINTS "\"claims\":[]}", "claims: must be an object"},
    {OK_HEAD "\"endpoints\":{\"front\":\"127.0.0.1:5432\",\"nodes\":[{\"name\":\"n1\","
	     "\"postgres\":\"h:1\"}]}}",
     "claims: missing"},
    {OK_HEAD "\"compose\":{\"file\":\"c.yml\"}," OK_ENDPOINTS OK_CLAIMS "}",
     "compose.project: missing"},
    {OK_HEAD "\"compose\":{\"file\":\"c.yml\",\"project\":\"Bad Name\"}," OK_ENDPOINTS OK_CLAIMS
	     "}",
     "compose.project: must use only"},
    {OK_HEAD
     "\"compose\":{\"file\":\"c.yml\",\"project\":\"p\",\"env\":{\"A\":1}}," OK_ENDPOINTS OK_CLAIMS
     "}",
     "compose.env.A: must be a string"},
    {"{\"name\":\"t\",\"kind\":\"patroni\",\"postgres_major\":17,\"credentials\":{\"user\":"
     "\"postgres\",\"password_env\":\"P\"},\"endpoints\":{\"rw\":\"h:1\",\"ro\":\"h:2\","
     "\"nodes\":[{\"name\":\"n1\",\"postgres\":\"h:3\"}]}," OK_CLAIMS "}",
     "endpoints.nodes.rest: missing"},
    {OK_HEAD "\"endpoints\":{\"front\":\"127.0.0.1:5432\",\"nodes\":[{\"name\":\"n1\","
	     "\"postgres\":\"h:1\"},{\"name\":\"n1\",\"postgres\":\"h:2\"}]}," OK_CLAIMS "}",
     "endpoints.nodes[1]: duplicate node name"},
};

START_TEST(test_valid_descriptor_parses)
{
	struct pgc_descriptor d;
	char err[512] = "";

	ck_assert_msg(pgc_descriptor_parse("/x/t.json", valid, &d, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_str_eq(d.name, "t");
	ck_assert_int_eq(d.kind, PGC_STANDALONE);
	ck_assert_int_eq(d.postgres_major, 17);
	ck_assert_int_eq(d.front.port, 5432);
	ck_assert_str_eq(d.front.host, "127.0.0.1");
	ck_assert_int_eq(d.nnodes, 1);
	ck_assert_int_eq(d.nodes[0].postgres.port, 54317);
	ck_assert_int_eq(d.failover_budget_ms.set, 1);
	ck_assert_int_eq(d.failover_budget_ms.value, 1000);
	ck_assert_int_eq(d.switchover_budget_ms.set, 0);
	ck_assert_int_eq(d.automatic_failover.set, 0);
	ck_assert_str_eq(d.database, "postgres");
	ck_assert_str_eq(d.dir, "/x");
}
END_TEST

START_TEST(test_malformed_descriptor_named)
{
	const struct bad_case *c = &cases[_i];
	struct pgc_descriptor d;
	char err[512] = "", want[512];

	ck_assert_int_eq(pgc_descriptor_parse("/x/bad.json", c->json, &d, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "/x/bad.json: %s", c->expect);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "case %d: expected \"%s...\", got \"%s\"", _i, want, err);
	ck_assert_msg(strchr(err, '\n') == NULL, "case %d: not one sentence: %s", _i, err);
}
END_TEST

START_TEST(test_missing_file_named)
{
	struct pgc_descriptor d;
	char err[512] = "";

	ck_assert_int_eq(pgc_descriptor_load("/nonexistent/p.json", &d, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/p.json: cannot read the descriptor") == err, "%s",
		      err);
}
END_TEST

/* Every descriptor we ship must parse. */
START_TEST(test_shipped_descriptors_parse)
{
	static const char *const files[] = {
	    "docker/standalone/standalone-15.json", "docker/standalone/standalone-16.json",
	    "docker/standalone/standalone-17.json", "docker/patroni/patroni.json",
	    "docker/patroni/patroni-strict.json",   "docker/pgpool/pgpool.json"};
	const char *src = getenv("PGC_SOURCE_DIR");

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct pgc_descriptor d;
		char path[1024], err[512] = "";
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", src ? src : ".", files[i]);
		f = fopen(path, "r");
		if (!f)
			continue; /* that topology is not in this tree */
		fclose(f);
		ck_assert_msg(pgc_descriptor_load(path, &d, err, sizeof(err)) == 0, "%s", err);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("descriptor");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_valid_descriptor_parses);
	tcase_add_loop_test(tc, test_malformed_descriptor_named, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_missing_file_named);
	tcase_add_test(tc, test_shipped_descriptors_parse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
