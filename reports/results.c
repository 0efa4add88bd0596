/* results.c - the run model and its JSON form (schema "pgconform-results/1", see RESULTS.md). */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCHEMA "pgconform-results/1"
/* Arrays grow 32, 64, 128...: pointers from pgc_run_topology() stay valid for the first 32. */
#define FIRST_CAPACITY 32

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Makes room for element n (n elements used) in *arr; 0 or -1 (out of memory). */
static int grow(void *arr, int n, size_t elem)
{
	void **p = arr;
	size_t cap = FIRST_CAPACITY;
	void *bigger;

	if (n != 0 && (n < FIRST_CAPACITY || (n & (n - 1)) != 0))
		return 0;
	while (cap <= (size_t)n)
		cap *= 2;
	bigger = realloc(*p, cap * elem);
	if (!bigger)
		return -1;
	*p = bigger;
	return 0;
}

const char *pgc_status_name(enum pgc_status s)
{
	switch (s) {
	case PGC_PASSED:
		return "passed";
	case PGC_FAILED:
		return "failed";
	case PGC_SKIPPED:
		return "skipped";
	}
	return "failed";
}

struct pgc_run *pgc_run_new(const char *run_id)
{
	struct pgc_run *r = calloc(1, sizeof(*r));

	if (r)
		copy(r->run_id, sizeof(r->run_id), run_id);
	return r;
}

static void check_clear(struct pgc_check *c)
{
	free(c->metrics);
	free(c->evidence);
}

void pgc_run_free(struct pgc_run *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->ntopologies; i++)
		free(r->topologies[i].components);
	free(r->topologies);
	for (int i = 0; i < r->nchecks; i++)
		check_clear(&r->checks[i]);
	free(r->checks);
	free(r);
}

struct pgc_topology_result *pgc_run_topology(struct pgc_run *r, const char *name, const char *kind)
{
	struct pgc_topology_result *t;

	for (int i = 0; i < r->ntopologies; i++)
		if (strcmp(r->topologies[i].name, name) == 0)
			return &r->topologies[i];
	if (grow(&r->topologies, r->ntopologies, sizeof(*t)))
		return NULL;
	t = &r->topologies[r->ntopologies++];
	memset(t, 0, sizeof(*t));
	copy(t->name, sizeof(t->name), name);
	copy(t->kind, sizeof(t->kind), kind);
	return t;
}

void pgc_topology_add_component(struct pgc_topology_result *t, const char *name,
				const char *version)
{
	struct pgc_component *c;

	if (!t)
		return;
	for (int i = 0; i < t->ncomponents; i++)
		if (strcmp(t->components[i].name, name) == 0) {
			copy(t->components[i].version, sizeof(t->components[i].version), version);
			return;
		}
	if (grow(&t->components, t->ncomponents, sizeof(*c)))
		return;
	c = &t->components[t->ncomponents++];
	copy(c->name, sizeof(c->name), name);
	copy(c->version, sizeof(c->version), version);
}

/* Deep copy of src into dst; 0 or -1 (out of memory, dst left without metrics/evidence). */
static int check_copy(struct pgc_check *dst, const struct pgc_check *src)
{
	*dst = *src;
	dst->metrics = NULL;
	dst->nmetrics = 0;
	dst->evidence = NULL;
	if (src->nmetrics > 0 && src->metrics) {
		dst->metrics = malloc(src->nmetrics * sizeof(*dst->metrics));
		if (!dst->metrics)
			return -1;
		memcpy(dst->metrics, src->metrics, src->nmetrics * sizeof(*dst->metrics));
		dst->nmetrics = src->nmetrics;
	}
	if (src->evidence) {
		dst->evidence = strdup(src->evidence);
		if (!dst->evidence)
			return -1;
	}
	return 0;
}

void pgc_run_add_check(struct pgc_run *r, const struct pgc_check *c)
{
	if (!r || !c || grow(&r->checks, r->nchecks, sizeof(*c)))
		return;
	check_copy(&r->checks[r->nchecks++], c);
}

void pgc_run_counts(const struct pgc_run *r, int *passed, int *failed, int *skipped)
{
	int n[3] = {0, 0, 0};

	for (int i = 0; r && i < r->nchecks; i++)
		if ((unsigned)r->checks[i].status < 3)
			n[r->checks[i].status]++;
	if (passed)
		*passed = n[PGC_PASSED];
	if (failed)
		*failed = n[PGC_FAILED];
	if (skipped)
		*skipped = n[PGC_SKIPPED];
}

/* ---- writing ---- */

static int add_str(cJSON *obj, const char *key, const char *s)
{
	char *red = pgc_report_redact(s ? s : "");
	int rc = -1;

	if (red && cJSON_AddStringToObject(obj, key, red))
		rc = 0;
	free(red);
	return rc;
}

static int add_num(cJSON *obj, const char *key, double v)
{
	if (!isfinite(v))
		return cJSON_AddNullToObject(obj, key) ? 0 : -1;
	return cJSON_AddNumberToObject(obj, key, v) ? 0 : -1;
}

static int add_topology(cJSON *arr, const struct pgc_topology_result *t)
{
	cJSON *o = cJSON_CreateObject(), *comps;

	if (!o || !cJSON_AddItemToArray(arr, o)) { /* arr owns o from here */
		cJSON_Delete(o);
		return -1;
	}
	if (add_str(o, "name", t->name) || add_str(o, "kind", t->kind) ||
	    add_str(o, "status", t->status) || add_str(o, "message", t->message))
		return -1;
	comps = cJSON_AddArrayToObject(o, "components");
	if (!comps)
		return -1;
	for (int i = 0; i < t->ncomponents; i++) {
		cJSON *c = cJSON_CreateObject();

		if (!c || !cJSON_AddItemToArray(comps, c)) {
			cJSON_Delete(c);
			return -1;
		}
		if (add_str(c, "name", t->components[i].name) ||
		    add_str(c, "version", t->components[i].version))
			return -1;
	}
	return 0;
}

static int add_check(cJSON *arr, const struct pgc_check *c)
{
	cJSON *o = cJSON_CreateObject(), *metrics;

	if (!o || !cJSON_AddItemToArray(arr, o)) { /* arr owns o from here */
		cJSON_Delete(o);
		return -1;
	}
	if (add_str(o, "topology", c->topology) || add_str(o, "suite", c->suite) ||
	    add_str(o, "name", c->name) || add_str(o, "status", pgc_status_name(c->status)) ||
	    add_num(o, "duration_s", c->duration_s) || add_str(o, "message", c->message))
		return -1;
	metrics = cJSON_AddArrayToObject(o, "metrics");
	if (!metrics)
		return -1;
	for (int i = 0; i < c->nmetrics; i++) {
		cJSON *m = cJSON_CreateObject();

		if (!m || !cJSON_AddItemToArray(metrics, m)) {
			cJSON_Delete(m);
			return -1;
		}
		if (add_str(m, "name", c->metrics[i].name) ||
		    add_num(m, "value", c->metrics[i].value) ||
		    add_str(m, "unit", c->metrics[i].unit))
			return -1;
	}
	if (c->evidence)
		return add_str(o, "evidence", c->evidence);
	return cJSON_AddNullToObject(o, "evidence") ? 0 : -1;
}

cJSON *pgc_run_to_json(const struct pgc_run *r)
{
	cJSON *j = cJSON_CreateObject(), *topos, *checks;

	if (!j)
		return NULL;
	if (add_str(j, "schema", SCHEMA) || add_str(j, "run_id", r->run_id) ||
	    add_str(j, "started", r->started) || add_str(j, "finished", r->finished) ||
	    add_str(j, "commit", r->commit) || add_str(j, "host", r->host))
		goto out_delete;
	topos = cJSON_AddArrayToObject(j, "topologies");
	if (!topos)
		goto out_delete;
	for (int i = 0; i < r->ntopologies; i++)
		if (add_topology(topos, &r->topologies[i]))
			goto out_delete;
	checks = cJSON_AddArrayToObject(j, "checks");
	if (!checks)
		goto out_delete;
	for (int i = 0; i < r->nchecks; i++)
		if (add_check(checks, &r->checks[i]))
			goto out_delete;
	return j;
out_delete:
	cJSON_Delete(j);
	return NULL;
}

int pgc_run_write(const struct pgc_run *r, const char *path, char *err, size_t errlen)
{
	cJSON *j = pgc_run_to_json(r);
	char *text = NULL, tmp[4096];
	FILE *f = NULL;
	int rc = -1;

	if (!j || !(text = cJSON_Print(j))) {
		snprintf(err, errlen, "%s: cannot build the results JSON (out of memory)", path);
		goto out_free;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		goto out_free;
	}
	if (fputs(text, f) == EOF || fputc('\n', f) == EOF) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto out_close;
	}
	if (fclose(f)) {
		f = NULL;
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	f = NULL;
	if (rename(tmp, path)) {
		snprintf(err, errlen, "%s: cannot rename %s into place: %s", path, tmp,
			 strerror(errno));
		goto out_unlink;
	}
	rc = 0;
	goto out_free;
out_close:
	fclose(f);
out_unlink:
	unlink(tmp);
out_free:
	cJSON_free(text);
	cJSON_Delete(j);
	return rc;
}

/* ---- reading ---- */

struct reader {
	char *err;
	size_t errlen;
};

static int bad(struct reader *rd, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "checks[3]." names the item "checks[3]" */
static int not_object(struct reader *rd, const char *prefix)
{
	snprintf(rd->err, rd->errlen, "%.*s: must be an object", (int)strlen(prefix) - 1, prefix);
	return -1;
}

static int bad(struct reader *rd, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->errlen, "%s: %s", key, msg);
	return -1;
}

/* Reads string key of o into dst; missing is an error when required, else "". */
static int get_str(struct reader *rd, const cJSON *o, const char *prefix, const char *key,
		   char *dst, size_t len, int required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char path[256];

	snprintf(path, sizeof(path), "%s%s", prefix, key);
	dst[0] = '\0';
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return bad(rd, path, "missing");
		return 0;
	}
	if (!cJSON_IsString(v))
		return bad(rd, path, "must be a string");
	copy(dst, len, v->valuestring);
	return 0;
}

static int get_num(struct reader *rd, const cJSON *o, const char *prefix, const char *key,
		   double *dst)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char path[256];

	snprintf(path, sizeof(path), "%s%s", prefix, key);
	if (!v)
		return bad(rd, path, "missing");
	if (cJSON_IsNull(v)) {
		*dst = NAN;
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return bad(rd, path, "must be a number or null");
	*dst = v->valuedouble;
	return 0;
}

/* The array at key (an empty array when absent and optional). */
static int get_array(struct reader *rd, const cJSON *o, const char *prefix, const char *key,
		     int required, const cJSON **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char path[256];

	snprintf(path, sizeof(path), "%s%s", prefix, key);
	*out = NULL;
	if (!v) {
		if (required)
			return bad(rd, path, "missing");
		return 0;
	}
	if (!cJSON_IsArray(v))
		return bad(rd, path, "must be an array");
	*out = v;
	return 0;
}

static int read_topology(struct reader *rd, const cJSON *o, int idx, struct pgc_run *r)
{
	char pre[64], name[64], kind[16], cpre[96];
	struct pgc_topology_result *t;
	const cJSON *comps, *c;
	int k = 0;

	snprintf(pre, sizeof(pre), "topologies[%d].", idx);
	if (!cJSON_IsObject(o))
		return not_object(rd, pre);
	if (get_str(rd, o, pre, "name", name, sizeof(name), 1) ||
	    get_str(rd, o, pre, "kind", kind, sizeof(kind), 1))
		return -1;
	t = pgc_run_topology(r, name, kind);
	if (!t)
		return bad(rd, pre, "out of memory");
	if (get_str(rd, o, pre, "status", t->status, sizeof(t->status), 0) ||
	    get_str(rd, o, pre, "message", t->message, sizeof(t->message), 0) ||
	    get_array(rd, o, pre, "components", 0, &comps))
		return -1;
	cJSON_ArrayForEach(c, comps)
	{
		char cname[48], version[128];

		snprintf(cpre, sizeof(cpre), "%scomponents[%d].", pre, k++);
		if (!cJSON_IsObject(c))
			return not_object(rd, cpre);
		if (get_str(rd, c, cpre, "name", cname, sizeof(cname), 1) ||
		    get_str(rd, c, cpre, "version", version, sizeof(version), 0))
			return -1;
		pgc_topology_add_component(t, cname, version);
	}
	return 0;
}

static int read_metrics(struct reader *rd, const cJSON *arr, const char *pre, struct pgc_check *c)
{
	const cJSON *m;
	char mpre[160];
	int k = 0;

	c->nmetrics = cJSON_GetArraySize(arr);
	if (c->nmetrics == 0)
		return 0;
	c->metrics = calloc(c->nmetrics, sizeof(*c->metrics));
	if (!c->metrics) {
		c->nmetrics = 0;
		return bad(rd, pre, "out of memory");
	}
	cJSON_ArrayForEach(m, arr)
	{
		struct pgc_metric *dst = &c->metrics[k];

		snprintf(mpre, sizeof(mpre), "%smetrics[%d].", pre, k++);
		if (!cJSON_IsObject(m))
			return not_object(rd, mpre);
		if (get_str(rd, m, mpre, "name", dst->name, sizeof(dst->name), 1) ||
		    get_num(rd, m, mpre, "value", &dst->value) ||
		    get_str(rd, m, mpre, "unit", dst->unit, sizeof(dst->unit), 0))
			return -1;
		if (!dst->name[0]) {
			strncat(mpre, "name", sizeof(mpre) - strlen(mpre) - 1);
			return bad(rd, mpre, "must not be empty");
		}
	}
	return 0;
}

static int read_check(struct reader *rd, const cJSON *o, int idx, struct pgc_run *r)
{
	struct pgc_check c;
	const cJSON *metrics, *ev;
	char pre[64], status[16], path[96];
	int rc = -1;

	memset(&c, 0, sizeof(c));
	snprintf(pre, sizeof(pre), "checks[%d].", idx);
	if (!cJSON_IsObject(o))
		return not_object(rd, pre);
	if (get_str(rd, o, pre, "topology", c.topology, sizeof(c.topology), 1) ||
	    get_str(rd, o, pre, "suite", c.suite, sizeof(c.suite), 1) ||
	    get_str(rd, o, pre, "name", c.name, sizeof(c.name), 1) ||
	    get_str(rd, o, pre, "status", status, sizeof(status), 1) ||
	    get_num(rd, o, pre, "duration_s", &c.duration_s) ||
	    get_str(rd, o, pre, "message", c.message, sizeof(c.message), 0) ||
	    get_array(rd, o, pre, "metrics", 0, &metrics))
		goto out_clear;
	snprintf(path, sizeof(path), "%sstatus", pre);
	if (strcmp(status, "passed") == 0)
		c.status = PGC_PASSED;
	else if (strcmp(status, "failed") == 0)
		c.status = PGC_FAILED;
	else if (strcmp(status, "skipped") == 0)
		c.status = PGC_SKIPPED;
	else {
		bad(rd, path, "must be passed, failed or skipped, not \"%.32s\"", status);
		goto out_clear;
	}
	if (metrics && read_metrics(rd, metrics, pre, &c))
		goto out_clear;
	ev = cJSON_GetObjectItemCaseSensitive(o, "evidence");
	if (ev && !cJSON_IsNull(ev)) {
		snprintf(path, sizeof(path), "%sevidence", pre);
		if (!cJSON_IsString(ev)) {
			bad(rd, path, "must be a string or null");
			goto out_clear;
		}
		c.evidence = strdup(ev->valuestring);
		if (!c.evidence) {
			bad(rd, path, "out of memory");
			goto out_clear;
		}
	}
	pgc_run_add_check(r, &c);
	rc = 0;
out_clear:
	check_clear(&c);
	return rc;
}

int pgc_run_from_json(const cJSON *j, struct pgc_run **out, char *err, size_t errlen)
{
	struct reader rd = {err, errlen};
	const cJSON *topos, *checks, *v;
	char schema[64], run_id[64];
	struct pgc_run *r = NULL;
	int k;

	*out = NULL;
	if (!cJSON_IsObject(j))
		return bad(&rd, "(document)", "must be a JSON object");
	if (get_str(&rd, j, "", "schema", schema, sizeof(schema), 1))
		return -1;
	if (strcmp(schema, SCHEMA) != 0)
		return bad(&rd, "schema", "must be \"" SCHEMA "\", not \"%s\"", schema);
	if (get_str(&rd, j, "", "run_id", run_id, sizeof(run_id), 1))
		return -1;
	if (!run_id[0])
		return bad(&rd, "run_id", "must not be empty");
	r = pgc_run_new(run_id);
	if (!r)
		return bad(&rd, "(document)", "out of memory");
	if (get_str(&rd, j, "", "started", r->started, sizeof(r->started), 1) ||
	    get_str(&rd, j, "", "finished", r->finished, sizeof(r->finished), 0) ||
	    get_str(&rd, j, "", "commit", r->commit, sizeof(r->commit), 0) ||
	    get_str(&rd, j, "", "host", r->host, sizeof(r->host), 0) ||
	    get_array(&rd, j, "", "topologies", 1, &topos) ||
	    get_array(&rd, j, "", "checks", 1, &checks))
		goto out_free;
	k = 0;
	cJSON_ArrayForEach(v, topos)
	{
		if (read_topology(&rd, v, k++, r))
			goto out_free;
	}
	k = 0;
	cJSON_ArrayForEach(v, checks)
	{
		if (read_check(&rd, v, k++, r))
			goto out_free;
	}
	*out = r;
	return 0;
out_free:
	pgc_run_free(r);
	return -1;
}

int pgc_run_read(const char *path, struct pgc_run **out, char *err, size_t errlen)
{
	char *text = NULL, msg[768];
	cJSON *j = NULL;
	FILE *f;
	long size;
	int rc = -1;

	*out = NULL;
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto out_close;
	}
	text = malloc(size + 1);
	if (!text) {
		snprintf(err, errlen, "%s: cannot read: out of memory (%ld bytes)", path, size);
		goto out_close;
	}
	if (fread(text, 1, size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
			 ferror(f) ? strerror(errno) : "file shrank while reading");
		goto out_close;
	}
	text[size] = '\0';
	j = cJSON_Parse(text);
	if (!j) {
		const char *at = cJSON_GetErrorPtr();
		long off = at && at >= text && at <= text + size ? (long)(at - text) : -1;

		snprintf(err, errlen, "%s: (document): not valid JSON (near byte %ld)", path, off);
		goto out_close;
	}
	if (pgc_run_from_json(j, out, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", path, msg);
		goto out_close;
	}
	rc = 0;
out_close:
	cJSON_Delete(j);
	free(text);
	fclose(f);
	return rc;
}
