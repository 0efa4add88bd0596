/* cmd_variant.c - pgconform variant: run suites against a deliberately broken variant of a
 * reference topology and expect exactly the targeted checks to fail.
 *
 * A variant file (tests/variants/NAME.json):
 *   {"variant": "name", "topology": "standalone-17", "why": "...",
 *    "descriptor": {merge patch applied to the topology's descriptor (RFC 7396)},
 *    "after_up": [{"exec": ["container", "argv0", ...]}, {"kill": "container"}, ...],
 *    "suites": ["connect"], "expect_fail": ["connect/test_server_major_matches_claim"],
 *    "may_fail": [checks that see the fault only when they look at the right moment]}
 * Exit 0 when every expected check failed and every other check passed or was skipped;
 * 1 when the variant was not caught (or caught by the wrong check); 2 on bad input. */
#include "deadline.h"
#include "docker.h"
#include "fault.h"
#include "junit.h"
#include "log.h"
#include "results.h"
#include "runner.h"
#include "secret.h"
#include "state.h"
#include "suite.h"
#include "topology.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(n + 1);
		if (buf && fread(buf, 1, n, f) == (size_t)n)
			buf[n] = '\0';
		else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* RFC 7396 JSON merge patch of target by patch (target modified in place). */
static void merge_patch(cJSON *target, const cJSON *patch)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, patch)
	{
		cJSON *cur = cJSON_GetObjectItemCaseSensitive(target, p->string);

		if (cJSON_IsNull(p)) {
			cJSON_DeleteItemFromObjectCaseSensitive(target, p->string);
		} else if (cJSON_IsObject(p) && cJSON_IsObject(cur)) {
			merge_patch(cur, p);
		} else {
			cJSON *copy = cJSON_Duplicate(p, 1);

			if (cur)
				cJSON_ReplaceItemInObjectCaseSensitive(target, p->string, copy);
			else
				cJSON_AddItemToObject(target, p->string, copy);
		}
	}
}

static int bad(const char *file, const char *what)
{
	fprintf(stderr, "pgconform: %s: %s.\n", file, what);
	return PGC_EXIT_USAGE;
}

/* Applies one after_up step. */
static int mutate(struct pgc_topology *t, const cJSON *step, char *err, size_t errlen)
{
	const cJSON *v;

	if ((v = cJSON_GetObjectItem(step, "exec")) && cJSON_IsArray(v)) {
		const char *argv[32];
		int n = 0, code = -1;
		char *out = NULL;
		const cJSON *a;

		cJSON_ArrayForEach(a, v) if (n < 31 && cJSON_IsString(a)) argv[n++] =
		    a->valuestring;
		argv[n] = NULL;
		if (n < 2) {
			pgc_fmt(err, errlen, "exec needs a container and a command");
			return -1;
		}
		if (pgc_docker_exec(t->docker, argv[0], argv + 1, &code, &out, err, errlen))
			return -1;
		if (code != 0) {
			pgc_fmt(err, errlen, "exec in %s exited %d: %.200s", argv[0], code,
				out ? out : "");
			free(out);
			return -1;
		}
		free(out);
		return 0;
	}
	if ((v = cJSON_GetObjectItem(step, "kill")) && cJSON_IsString(v))
		return pgc_docker_kill(t->docker, v->valuestring, "KILL", err, errlen);
	if ((v = cJSON_GetObjectItem(step, "stop")) && cJSON_IsString(v))
		return pgc_docker_stop(t->docker, v->valuestring, 10, err, errlen);
	if ((v = cJSON_GetObjectItem(step, "wait_healthy")) && cJSON_IsTrue(v))
		return pgc_topology_wait_healthy(t, 120000, err, errlen);
	pgc_fmt(err, errlen, "unknown after_up step (exec, kill, stop, wait_healthy)");
	return -1;
}

static int expected(const cJSON *expect, const struct pgc_check *c)
{
	const cJSON *e;
	char id[200];

	pgc_fmt(id, sizeof(id), "%s/%s", c->suite, c->name);
	cJSON_ArrayForEach(e,
			   expect) if (cJSON_IsString(e) && !strcmp(e->valuestring, id)) return 1;
	return 0;
}

static int run_variant(const char *file, const char *results)
{
	char *text = slurp(file), path[1024], err[2048], tmp[1024] = "";
	cJSON *v = text ? cJSON_Parse(text) : NULL, *desc = NULL;
	const cJSON *name, *topo, *patch, *after, *suites, *expect, *may_fail, *s;
	struct pgc_topology *t = NULL;
	struct pgc_run *run = NULL;
	int rc = PGC_EXIT_USAGE, caught = 1;
	char *dtext = NULL, *out = NULL;
	FILE *f;

	if (!text) {
		rc = bad(file, "cannot read the variant file");
		goto out;
	}
	free(text);
	if (!v) {
		rc = bad(file, "not valid JSON");
		goto out;
	}
	name = cJSON_GetObjectItem(v, "variant");
	topo = cJSON_GetObjectItem(v, "topology");
	patch = cJSON_GetObjectItem(v, "descriptor");
	after = cJSON_GetObjectItem(v, "after_up");
	suites = cJSON_GetObjectItem(v, "suites");
	expect = cJSON_GetObjectItem(v, "expect_fail");
	/* checks that also see the fault, but only when they look at the right moment */
	may_fail = cJSON_GetObjectItem(v, "may_fail");
	if (!cJSON_IsString(name) || !cJSON_IsString(topo) || !cJSON_IsArray(suites) ||
	    !cJSON_IsArray(expect) || cJSON_GetArraySize(expect) == 0) {
		rc = bad(file, "needs \"variant\", \"topology\", \"suites\" and a non-empty "
			       "\"expect_fail\"");
		goto out;
	}
	cJSON_ArrayForEach(s, suites)
	{
		int found = 0;

		for (int i = 0; pgc_all_suites[i]; i++)
			found |=
			    cJSON_IsString(s) && !strcmp(pgc_all_suites[i]->name, s->valuestring);
		if (!found) {
			rc = bad(file, "names a suite that does not exist");
			goto out;
		}
	}
	if (pgc_resolve_topology(topo->valuestring, path, sizeof(path), err, sizeof(err))) {
		rc = bad(file, err);
		goto out;
	}
	dtext = slurp(path);
	desc = dtext ? cJSON_Parse(dtext) : NULL;
	if (!desc) {
		rc = bad(path, "cannot read it as JSON");
		goto out;
	}
	if (patch)
		merge_patch(desc, patch);
	cJSON_ReplaceItemInObjectCaseSensitive(desc, "name", cJSON_CreateString(name->valuestring));
	{
		/* the patched copy lives elsewhere: make the compose path absolute */
		cJSON *compose = cJSON_GetObjectItem(desc, "compose");
		cJSON *cf = cJSON_GetObjectItem(compose, "file");
		char dir[1024], abs[1200];

		pgc_fmt(dir, sizeof(dir), "%s", path);
		*strrchr(dir, '/') = '\0';
		if (cJSON_IsString(cf) && cf->valuestring[0] != '/') {
			pgc_fmt(abs, sizeof(abs), "%s/%s", dir, cf->valuestring);
			cJSON_ReplaceItemInObjectCaseSensitive(compose, "file",
							       cJSON_CreateString(abs));
		}
	}
	pgc_fmt(tmp, sizeof(tmp), "%s/pgconform-variant-%s.json",
		getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name->valuestring);
	out = cJSON_Print(desc);
	f = fopen(tmp, "w");
	if (!f || fputs(out, f) < 0) {
		if (f)
			fclose(f);
		rc = bad(tmp, "cannot write the patched descriptor");
		goto out;
	}
	fclose(f);
	if (pgc_topology_open(tmp, &t, err, sizeof(err))) {
		rc = bad(file, err);
		goto out;
	}
	pgc_secret_foreach(pgc_report_secret);
	printf("== variant %s of %s: %s\n", name->valuestring, topo->valuestring,
	       cJSON_IsString(cJSON_GetObjectItem(v, "why"))
		   ? cJSON_GetObjectItem(v, "why")->valuestring
		   : "");
	run = pgc_run_new(name->valuestring);
	{
		int r = pgc_topology_up(t, err, sizeof(err));

		if (r) {
			fprintf(stderr, "pgconform: variant %s: %s.\n", name->valuestring, err);
			rc = r == -2 ? PGC_EXIT_USAGE : PGC_EXIT_FAILED;
			goto out;
		}
	}
	t->destructive_ok = 1;
	cJSON_ArrayForEach(s, after)
	{
		if (mutate(t, s, err, sizeof(err))) {
			fprintf(stderr, "pgconform: variant %s: after_up: %s.\n", name->valuestring,
				err);
			rc = PGC_EXIT_FAILED;
			goto down;
		}
	}
	pgc_rec_attach(run);
	cJSON_ArrayForEach(s,
			   suites) for (int i = 0; pgc_all_suites[i];
					i++) if (!strcmp(pgc_all_suites[i]->name, s->valuestring))
	{
		char xml[1200];

		pgc_fmt(xml, sizeof(xml), "%s/cmocka-%s", results, name->valuestring);
		pgc_mkdirs(xml);
		pgc_suite_run(pgc_all_suites[i], t, NULL, xml);
	}
	pgc_rec_attach(NULL);
	/* the verdict: expected checks failed, all others passed or skipped */
	printf("-- verdict for variant %s\n", name->valuestring);
	{
		const cJSON *e;

		cJSON_ArrayForEach(e, expect)
		{
			int seen = 0;

			for (int i = 0; i < run->nchecks; i++) {
				char id[200];

				pgc_fmt(id, sizeof(id), "%s/%s", run->checks[i].suite,
					run->checks[i].name);
				if (!strcmp(id, e->valuestring)) {
					seen = 1;
					if (run->checks[i].status != PGC_FAILED) {
						printf("  NOT CAUGHT %s: it %s\n", id,
						       run->checks[i].status == PGC_PASSED
							   ? "passed"
							   : "was skipped");
						caught = 0;
					} else {
						printf("  CAUGHT     %s: %s\n", id,
						       run->checks[i].message);
					}
				}
			}
			if (!seen) {
				printf("  NOT RUN    %s\n", e->valuestring);
				caught = 0;
			}
		}
		for (int i = 0; i < run->nchecks; i++)
			if (run->checks[i].status == PGC_FAILED &&
			    !expected(expect, &run->checks[i]) &&
			    !expected(may_fail, &run->checks[i])) {
				printf("  ALSO FAILED %s/%s: %s\n", run->checks[i].suite,
				       run->checks[i].name, run->checks[i].message);
				caught = 0;
			}
	}
	printf("variant %s: %s\n", name->valuestring,
	       caught ? "caught by exactly the expected checks" : "NOT caught as expected");
	rc = caught ? 0 : PGC_EXIT_FAILED;
down:
	if (pgc_topology_down(t, err, sizeof(err)))
		fprintf(stderr, "pgconform: variant %s: tearing down: %s.\n", name->valuestring,
			err);
	{
		char rpath[1200];

		pgc_fmt(rpath, sizeof(rpath), "%s/variant-%s.json", results, name->valuestring);
		pgc_run_write(run, rpath, err, sizeof(err));
	}
out:
	if (tmp[0])
		unlink(tmp);
	pgc_run_free(run);
	pgc_topology_free(t);
	cJSON_Delete(desc);
	cJSON_Delete(v);
	free(dtext);
	free(out);
	return rc;
}

int cmd_variant(int argc, char **argv)
{
	const char *results = "results";
	int rc = 0, i = 1;

	if (argc > 2 && !strcmp(argv[1], "--results")) {
		results = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr,
			"pgconform: variant needs a variant file (tests/variants/NAME.json).\n");
		return PGC_EXIT_USAGE;
	}
	if (pgc_mkdirs(results)) {
		fprintf(stderr, "pgconform: cannot create %s: %s.\n", results, strerror(errno));
		return PGC_EXIT_USAGE;
	}
	for (; i < argc && !pgc_interrupted; i++) {
		int r = run_variant(argv[i], results);

		if (r == PGC_EXIT_USAGE || (r && !rc))
			rc = r;
	}
	pgc_engine_release();
	return pgc_interrupted ? PGC_EXIT_INTERRUPTED : rc;
}
