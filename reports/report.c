/* report.c - the regression report (report.html and summary.md) over a history of runs. */
#include "report.h"
#include "results.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The history strip and the charts show at most this many of the latest runs. */
#define MAX_SHOWN_RUNS 60

struct history {
	struct pgc_run **runs; /* ordered by started, oldest first */
	int n;
	char **ignored; /* "file: reason" of unreadable files */
	int nignored;
};

/* One metric of one check across the runs. */
struct series {
	const char *topology, *suite, *check, *metric, *unit; /* owned by a run */
	double *v;                                            /* per run, NAN when absent */
	int count;                                            /* runs that have it */
	double last;                                          /* latest run's, NAN when absent */
	double median;                                        /* of the window before the latest */
	int nwindow;                                          /* values in that window */
	int flagged;
};

/* A check's identity and its status in the latest and previous runs (-1: absent). */
struct change {
	const struct pgc_check *c;
	int prev;
};

struct version_change {
	const char *topology, *component, *before, *after; /* NULL before: added; after: removed */
};

struct analysis {
	const struct pgc_run *latest, *prev;
	struct series *series;
	int nseries;
	int nflagged;
	struct change *failing, *fixed;
	int nfailing, nfixed;
	struct version_change *versions;
	int nversions;
	double threshold;
	int window;
	int nruns;
};

/* ---- reading the history ---- */

static int push(void *arr, int n, size_t elem)
{
	void **p = arr;
	void *bigger = realloc(*p, (n + 1) * elem);

	if (!bigger)
		return -1;
	*p = bigger;
	return 0;
}

static void history_free(struct history *h)
{
	for (int i = 0; i < h->n; i++)
		pgc_run_free(h->runs[i]);
	for (int i = 0; i < h->nignored; i++)
		free(h->ignored[i]);
	free(h->runs);
	free(h->ignored);
}

static int by_started(const void *a, const void *b)
{
	const struct pgc_run *x = *(struct pgc_run *const *)a, *y = *(struct pgc_run *const *)b;
	int c = strcmp(x->started, y->started);

	return c ? c : strcmp(x->run_id, y->run_id);
}

static int history_read(const char *dir, struct history *h, char *err, size_t errlen)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	memset(h, 0, sizeof(*h));
	if (!d) {
		snprintf(err, errlen, "%s: cannot open the history folder: %s", dir,
			 strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char path[4096], msg[1024];
		struct pgc_run *r = NULL;

		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (pgc_run_read(path, &r, msg, sizeof(msg))) {
			fprintf(stderr, "pgconform: report: ignoring %s.\n", msg);
			if (push(&h->ignored, h->nignored, sizeof(char *)) == 0 &&
			    (h->ignored[h->nignored] = strdup(msg)) != NULL)
				h->nignored++;
			continue;
		}
		if (push(&h->runs, h->n, sizeof(*h->runs))) {
			pgc_run_free(r);
			snprintf(err, errlen, "%s: out of memory reading the history", dir);
			goto out_close;
		}
		h->runs[h->n++] = r;
	}
	closedir(d);
	if (h->n == 0) {
		snprintf(err, errlen, "%s: no readable results JSON (*.json)%s%s", dir,
			 h->nignored ? "; first problem: " : "", h->nignored ? h->ignored[0] : "");
		return -1;
	}
	qsort(h->runs, h->n, sizeof(*h->runs), by_started);
	return 0;
out_close:
	closedir(d);
	return -1;
}

/* ---- analysis ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int same_check(const struct pgc_check *a, const struct pgc_check *b)
{
	return strcmp(a->topology, b->topology) == 0 && strcmp(a->suite, b->suite) == 0 &&
	       strcmp(a->name, b->name) == 0;
}

/* A check's status in r over its repeats: failed if any failed, else passed if any passed,
 * else skipped; -1 when r does not have it. */
static int status_in(const struct pgc_run *r, const struct pgc_check *c)
{
	int seen = -1;

	for (int i = 0; r && i < r->nchecks; i++) {
		const struct pgc_check *x = &r->checks[i];

		if (!same_check(x, c))
			continue;
		if (x->status == PGC_FAILED)
			return PGC_FAILED;
		if (x->status == PGC_PASSED || seen < 0)
			seen = x->status;
	}
	return seen;
}

static int first_in_run(const struct pgc_run *r, int i)
{
	for (int k = 0; k < i; k++)
		if (same_check(&r->checks[k], &r->checks[i]))
			return 0;
	return 1;
}

static int find_series(struct analysis *a, const struct pgc_check *c, const char *metric)
{
	for (int s = 0; s < a->nseries; s++) {
		struct series *x = &a->series[s];

		if (strcmp(x->metric, metric) == 0 && strcmp(x->check, c->name) == 0 &&
		    strcmp(x->suite, c->suite) == 0 && strcmp(x->topology, c->topology) == 0)
			return s;
	}
	return -1;
}

/* Collects every (check, metric) across the runs; a run's value is the mean over repeats. */
static int build_series(struct analysis *a, const struct history *h)
{
	int *hits = NULL;
	int rc = -1;

	for (int i = 0; i < h->n; i++) {
		const struct pgc_run *r = h->runs[i];

		for (int k = 0; k < r->nchecks; k++) {
			const struct pgc_check *c = &r->checks[k];

			for (int m = 0; m < c->nmetrics; m++) {
				int s = find_series(a, c, c->metrics[m].name);
				struct series *x;

				if (!isfinite(c->metrics[m].value))
					continue;
				if (s < 0) {
					if (push(&a->series, a->nseries, sizeof(*x)) ||
					    push(&hits, a->nseries, sizeof(int)))
						goto out_free;
					s = a->nseries++;
					x = &a->series[s];
					memset(x, 0, sizeof(*x));
					x->topology = c->topology;
					x->suite = c->suite;
					x->check = c->name;
					x->metric = c->metrics[m].name;
					x->unit = c->metrics[m].unit;
					x->v = malloc(h->n * sizeof(double));
					if (!x->v)
						goto out_free;
					for (int j = 0; j < h->n; j++)
						x->v[j] = NAN;
				}
				x = &a->series[s];
				if (isnan(x->v[i])) {
					x->v[i] = c->metrics[m].value;
					x->count++;
					hits[s] = 1;
				} else {
					/* running mean over repeats within run i */
					hits[s]++;
					x->v[i] += (c->metrics[m].value - x->v[i]) / hits[s];
				}
			}
		}
		for (int s = 0; s < a->nseries; s++)
			hits[s] = 0;
	}
	rc = 0;
out_free:
	free(hits);
	return rc;
}

static void flag_regressions(struct analysis *a, int nruns)
{
	double *w = malloc((a->window > 0 ? a->window : 1) * sizeof(double));

	for (int s = 0; w && s < a->nseries; s++) {
		struct series *x = &a->series[s];
		double latest = x->v[nruns - 1];
		int n = 0;

		x->last = latest;
		for (int i = nruns - 2; i >= 0 && n < a->window; i--)
			if (!isnan(x->v[i]))
				w[n++] = x->v[i];
		x->nwindow = n;
		x->median = n ? median(w, n) : NAN;
		if (n && !isnan(latest) && x->median > 0 && latest > a->threshold * x->median) {
			x->flagged = 1;
			a->nflagged++;
		}
	}
	free(w);
}

static int diff_checks(struct analysis *a)
{
	const struct pgc_run *r = a->latest;

	for (int i = 0; i < r->nchecks; i++) {
		const struct pgc_check *c = &r->checks[i];
		int now, before;

		if (!first_in_run(r, i))
			continue;
		now = status_in(r, c);
		before = status_in(a->prev, c);
		if (now == PGC_FAILED && before != PGC_FAILED) {
			if (push(&a->failing, a->nfailing, sizeof(struct change)))
				return -1;
			a->failing[a->nfailing++] = (struct change){c, before};
		} else if (now == PGC_PASSED && before == PGC_FAILED) {
			if (push(&a->fixed, a->nfixed, sizeof(struct change)))
				return -1;
			a->fixed[a->nfixed++] = (struct change){c, before};
		}
	}
	return 0;
}

static const struct pgc_topology_result *topology_in(const struct pgc_run *r, const char *name)
{
	for (int i = 0; r && i < r->ntopologies; i++)
		if (strcmp(r->topologies[i].name, name) == 0)
			return &r->topologies[i];
	return NULL;
}

static const char *version_in(const struct pgc_topology_result *t, const char *component)
{
	for (int i = 0; t && i < t->ncomponents; i++)
		if (strcmp(t->components[i].name, component) == 0)
			return t->components[i].version;
	return NULL;
}

static int add_version_change(struct analysis *a, struct version_change v)
{
	if (push(&a->versions, a->nversions, sizeof(v)))
		return -1;
	a->versions[a->nversions++] = v;
	return 0;
}

/* Component versions of each topology of the latest run against the previous run (topologies
 * the previous run did not have, or had without components, are not compared). */
static int diff_versions(struct analysis *a)
{
	for (int i = 0; a->prev && i < a->latest->ntopologies; i++) {
		const struct pgc_topology_result *t = &a->latest->topologies[i];
		const struct pgc_topology_result *p = topology_in(a->prev, t->name);

		if (!p || !p->ncomponents || !t->ncomponents)
			continue;
		for (int c = 0; c < t->ncomponents; c++) {
			const char *before = version_in(p, t->components[c].name);

			if (before && strcmp(before, t->components[c].version) == 0)
				continue;
			if (add_version_change(
				a, (struct version_change){t->name, t->components[c].name, before,
							   t->components[c].version}))
				return -1;
		}
		for (int c = 0; c < p->ncomponents; c++)
			if (!version_in(t, p->components[c].name) &&
			    add_version_change(
				a, (struct version_change){t->name, p->components[c].name,
							   p->components[c].version, NULL}))
				return -1;
	}
	return 0;
}

static void analysis_free(struct analysis *a)
{
	for (int s = 0; s < a->nseries; s++)
		free(a->series[s].v);
	free(a->series);
	free(a->failing);
	free(a->fixed);
	free(a->versions);
}

static int analyse(struct analysis *a, const struct history *h, double threshold, int window)
{
	memset(a, 0, sizeof(*a));
	a->threshold = threshold;
	a->window = window < 1 ? 1 : window;
	a->nruns = h->n;
	a->latest = h->runs[h->n - 1];
	a->prev = h->n > 1 ? h->runs[h->n - 2] : NULL;
	if (build_series(a, h) || diff_checks(a) || diff_versions(a))
		return -1;
	flag_regressions(a, h->n);
	return 0;
}

/* ---- shared formatting ---- */

static void fmt_value(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "–");
	else if (fabs(v) >= 100 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
}

static const char *status_word(int s)
{
	return s < 0 ? "absent" : pgc_status_name(s);
}

/* Checks of (topology, suite) in r, first-appearance order, with counts per status. */
struct group {
	const char *topology, *suite;
	int n[3];
};

static int groups_of(const struct pgc_run *r, struct group **out)
{
	struct group *g = NULL;
	int n = 0;

	for (int i = 0; i < r->nchecks; i++) {
		const struct pgc_check *c = &r->checks[i];
		int k;

		for (k = 0; k < n; k++)
			if (!strcmp(g[k].topology, c->topology) && !strcmp(g[k].suite, c->suite))
				break;
		if (k == n) {
			if (push(&g, n, sizeof(*g))) {
				free(g);
				return -1;
			}
			g[n++] = (struct group){c->topology, c->suite, {0, 0, 0}};
		}
		g[k].n[(unsigned)c->status < 3 ? c->status : PGC_FAILED]++;
	}
	*out = g;
	return n;
}

/* ---- HTML ---- */

static void h(FILE *f, const char *s)
{
	char *red = pgc_report_redact(s ? s : "");

	for (const char *p = red ? red : ""; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if ((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t')
				fputc(*p, f);
		}
	}
	free(red);
}

/* The first n bytes of s, escaped. */
static void h_prefix(FILE *f, const char *s, int n)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*s", n, s);
	h(f, buf);
}

static const char css[] =
    ":root{--ok:#1a7f37;--bad:#cf222e;--skip:#8c959f;--warn:#9a6700;--ink:#1f2328;"
    "--mute:#656d76;--line:#d0d7de;--bg:#f6f8fa}"
    "*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}"
    "header{background:#24292f;color:#fff;padding:20px 32px}header h1{margin:0 0 4px;"
    "font-size:22px}header .meta{color:#c9d1d9;font-size:13px}"
    "main{max-width:1180px;margin:0 auto;padding:20px 32px 48px}"
    "h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);"
    "padding-bottom:6px}h3{font-size:14px;margin:18px 0 8px;color:var(--mute);"
    "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}"
    ".tiles{display:flex;gap:12px;flex-wrap:wrap}.tile{background:#fff;border:1px solid "
    "var(--line);border-radius:8px;padding:12px 18px;min-width:130px}.tile .n{font-size:28px;"
    "font-weight:600}.tile .l{color:var(--mute);font-size:12px;text-transform:uppercase;"
    "letter-spacing:.04em}.ok{color:var(--ok)}.bad{color:var(--bad)}.skip{color:var(--skip)}"
    ".verdict{font-size:28px;font-weight:700}"
    ".strip{display:flex;gap:3px;margin:12px 0 0;align-items:flex-end}.strip span{display:"
    "inline-block;width:14px;height:22px;border-radius:3px;background:var(--ok)}"
    ".strip span.f{background:var(--bad)}.strip span.last{outline:2px solid #24292f;"
    "outline-offset:1px}"
    ".card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;"
    "margin:10px 0}.card.alert{border-left:5px solid var(--bad)}.card.good{border-left:5px "
    "solid var(--ok)}.card.info{border-left:5px solid var(--warn)}"
    "table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;"
    "padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}"
    "th{font-size:12px;color:var(--mute);text-transform:uppercase;letter-spacing:.04em}"
    "code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
    "font-size:12.5px}.badge{display:inline-block;padding:1px 8px;border-radius:10px;"
    "font-size:11px;font-weight:700;color:#fff;background:var(--bad);letter-spacing:.04em}"
    ".badge.ok{background:var(--ok)}.badge.skip{background:var(--skip)}.badge.warn{"
    "background:var(--warn)}"
    ".bar{display:flex;height:10px;border-radius:5px;overflow:hidden;background:#eaeef2;"
    "min-width:160px}.bar i{display:block}.bar .p{background:var(--ok)}.bar .f{background:"
    "var(--bad)}.bar .s{background:var(--skip)}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:12px}"
    ".chart{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 12px}"
    ".chart.reg{border:2px solid var(--bad);background:#fff5f5}.chart .t{display:flex;"
    "justify-content:space-between;gap:6px;font-weight:600;font-size:13px}"
    ".chart .s{color:var(--mute);font-size:12px}.chart .g{color:var(--mute);font-size:11px;"
    "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow:hidden;"
    "text-overflow:ellipsis;white-space:nowrap}.chart "
    ".v{white-space:nowrap}svg{display:block;width:100%;height:auto}"
    "pre{background:#0d1117;color:#e6edf3;padding:10px;border-radius:6px;overflow:auto;"
    "max-height:320px;font-size:12px}details summary{cursor:pointer;color:var(--mute)}"
    ".changed{background:#fff8c5}.empty{color:var(--mute);font-style:italic}"
    "footer{color:var(--mute);font-size:12px;margin-top:36px}";

static void html_head(FILE *f, const struct history *hist, const struct analysis *a)
{
	const struct pgc_run *r = a->latest;
	int p, fl, sk;

	pgc_run_counts(r, &p, &fl, &sk);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	      "<title>pgconform report ",
	      f);
	h(f, r->run_id);
	fprintf(f,
		"</title><style>%s</style></head><body>\n<header><h1>pgconform conformance "
		"report</h1><div class=\"meta\">Latest run <b class=\"mono\">",
		css);
	h(f, r->run_id);
	fputs("</b> · started ", f);
	h(f, r->started);
	if (r->commit[0]) {
		fputs(" · commit <span class=\"mono\">", f);
		h_prefix(f, r->commit, 12);
		fputs("</span>", f);
	}
	if (r->host[0]) {
		fputs(" · host ", f);
		h(f, r->host);
	}
	fprintf(f, " · %d run%s in history</div></header>\n<main>\n", hist->n,
		hist->n == 1 ? "" : "s");
	fprintf(
	    f,
	    "<div class=\"tiles\"><div class=\"tile\"><div class=\"verdict %s\">%s</div>"
	    "<div class=\"l\">latest run</div></div>"
	    "<div class=\"tile\"><div class=\"n ok\">%d</div><div class=\"l\">passed</div></div>"
	    "<div class=\"tile\"><div class=\"n bad\">%d</div><div class=\"l\">failed</div></div>"
	    "<div class=\"tile\"><div class=\"n skip\">%d</div><div class=\"l\">skipped</div>"
	    "</div><div class=\"tile\"><div class=\"n %s\">%d</div><div class=\"l\">metric "
	    "regressions</div></div><div class=\"tile\"><div class=\"n %s\">%d</div><div "
	    "class=\"l\">newly failing</div></div></div>\n",
	    fl ? "bad" : "ok", fl ? "FAIL" : "PASS", p, fl, sk, a->nflagged ? "bad" : "ok",
	    a->nflagged, a->nfailing ? "bad" : "ok", a->nfailing);
	fputs("<div class=\"strip\" title=\"runs, oldest to latest\">", f);
	for (int i = hist->n > MAX_SHOWN_RUNS ? hist->n - MAX_SHOWN_RUNS : 0; i < hist->n; i++) {
		int rp, rf, rs;

		pgc_run_counts(hist->runs[i], &rp, &rf, &rs);
		fprintf(f, "<span class=\"%s%s\" title=\"", rf ? "f" : "",
			i == hist->n - 1 ? " last" : "");
		h(f, hist->runs[i]->run_id);
		fprintf(f, ": %d passed, %d failed, %d skipped\"></span>", rp, rf, rs);
	}
	fputs("</div>\n", f);
}

static void html_check_name(FILE *f, const struct pgc_check *c)
{
	fputs("<code>", f);
	h(f, c->topology);
	fputc('.', f);
	h(f, c->suite);
	fputc('.', f);
	h(f, c->name);
	fputs("</code>", f);
}

static double ratio_of(const struct series *x)
{
	return x->median > 0 ? x->last / x->median : NAN;
}

/* The first series of each check leads its group; -1 when s is not a leader. */
static int leads_group(const struct analysis *a, int s)
{
	for (int k = 0; k < s; k++)
		if (a->series[k].count >= 2 && !strcmp(a->series[k].check, a->series[s].check) &&
		    !strcmp(a->series[k].suite, a->series[s].suite) &&
		    !strcmp(a->series[k].topology, a->series[s].topology))
			return 0;
	return a->series[s].count >= 2;
}

static int same_group_series(const struct series *x, const struct series *y)
{
	return !strcmp(x->check, y->check) && !strcmp(x->suite, y->suite) &&
	       !strcmp(x->topology, y->topology);
}

static void html_series_name(FILE *f, const struct series *x)
{
	fputs("<code>", f);
	h(f, x->topology);
	fputc('.', f);
	h(f, x->suite);
	fputc('.', f);
	h(f, x->check);
	fputs("</code>", f);
}

static void html_attention(FILE *f, const struct analysis *a)
{
	char v[32], m[32];

	fputs("<h2>What changed since the previous run</h2>\n", f);
	if (!a->prev) {
		fputs("<p class=\"empty\">This is the first run in the history: nothing to compare "
		      "with yet.</p>\n",
		      f);
	} else if (!a->nflagged && !a->nfailing && !a->nfixed && !a->nversions) {
		fputs(
		    "<div class=\"card good\">Nothing new: no metric regressions, no newly failing "
		    "or fixed checks, no component version changes.</div>\n",
		    f);
	}
	if (a->nflagged) {
		fprintf(f,
			"<div class=\"card alert\"><b>REGRESSION</b> in %d metric%s (latest &gt; "
			"%.2f × the median of up to %d previous runs; larger is worse)<table><tr>"
			"<th>check</th><th>metric</th><th>latest</th><th>median</th><th>ratio</th>"
			"</tr>\n",
			a->nflagged, a->nflagged == 1 ? "" : "s", a->threshold, a->window);
		for (int s = 0; s < a->nseries; s++) {
			const struct series *x = &a->series[s];

			if (!x->flagged)
				continue;
			fmt_value(v, sizeof(v), x->last);
			fmt_value(m, sizeof(m), x->median);
			fputs("<tr><td>", f);
			html_series_name(f, x);
			fprintf(f, "</td><td><a href=\"#m%d\">", s);
			h(f, x->metric);
			fprintf(f,
				"</a> <span class=\"badge\">REGRESSION</span></td><td><b>%s</b> ",
				v);
			h(f, x->unit);
			fprintf(f, "</td><td>%s ", m);
			h(f, x->unit);
			fprintf(f, "</td><td class=\"bad\">×%.2f</td></tr>\n", ratio_of(x));
		}
		fputs("</table></div>\n", f);
	}
	if (a->nfailing) {
		fprintf(f, "<div class=\"card alert\"><b>Newly failing</b> (%d)<table>\n",
			a->nfailing);
		for (int i = 0; i < a->nfailing; i++) {
			fputs("<tr><td><span class=\"badge\">FAIL</span> ", f);
			html_check_name(f, a->failing[i].c);
			fprintf(f, "</td><td class=\"s\">was %s</td><td>",
				status_word(a->failing[i].prev));
			h(f, a->failing[i].c->message);
			fputs("</td></tr>\n", f);
		}
		fputs("</table></div>\n", f);
	}
	if (a->nfixed) {
		fprintf(f, "<div class=\"card good\"><b>Fixed</b> (%d)<table>\n", a->nfixed);
		for (int i = 0; i < a->nfixed; i++) {
			fputs("<tr><td><span class=\"badge ok\">PASS</span> ", f);
			html_check_name(f, a->fixed[i].c);
			fputs("</td><td class=\"s\">failed in the previous run</td></tr>\n", f);
		}
		fputs("</table></div>\n", f);
	}
	if (a->nversions) {
		fprintf(
		    f,
		    "<div class=\"card info\"><b>Component version changes</b> (%d)<table><tr>"
		    "<th>topology</th><th>component</th><th>previous</th><th>latest</th></tr>\n",
		    a->nversions);
		for (int i = 0; i < a->nversions; i++) {
			const struct version_change *c = &a->versions[i];

			fputs("<tr class=\"changed\"><td>", f);
			h(f, c->topology);
			fputs("</td><td>", f);
			h(f, c->component);
			fputs("</td><td class=\"mono\">", f);
			h(f, c->before ? c->before : "(not present)");
			fputs("</td><td class=\"mono\"><b>", f);
			h(f, c->after ? c->after : "(removed)");
			fputs("</b></td></tr>\n", f);
		}
		fputs("</table></div>\n", f);
	}
}

/* Topology names of r: its topologies, then any that only its checks mention. */
static int topology_names(const struct pgc_run *r, const struct group *g, int ng, const char ***out)
{
	const char **names = NULL;
	int n = 0;

	for (int i = 0; i < r->ntopologies + ng; i++) {
		const char *name =
		    i < r->ntopologies ? r->topologies[i].name : g[i - r->ntopologies].topology;
		int k;

		for (k = 0; k < n && strcmp(names[k], name); k++)
			;
		if (k < n)
			continue;
		if (push(&names, n, sizeof(*names))) {
			free(names);
			return -1;
		}
		names[n++] = name;
	}
	*out = names;
	return n;
}

static int html_overview(FILE *f, const struct analysis *a)
{
	const struct pgc_run *r = a->latest;
	const char **names = NULL;
	struct group *g = NULL;
	int ng = groups_of(r, &g), nn;

	if (ng < 0)
		return -1;
	nn = topology_names(r, g, ng, &names);
	if (nn < 0) {
		free(g);
		return -1;
	}
	fputs("<h2>Latest run by topology and suite</h2>\n", f);
	if (!nn)
		fputs("<p class=\"empty\">The latest run has no topologies and no checks.</p>\n",
		      f);
	for (int i = 0; i < nn; i++) {
		const struct pgc_topology_result *t = topology_in(r, names[i]);
		int bad = t && strcmp(t->status, "up") && strcmp(t->status, "attached");

		fprintf(f, "<div class=\"card%s\"><b>", bad ? " alert" : "");
		h(f, names[i]);
		fputs("</b> ", f);
		if (t) {
			fputs("<span class=\"s\">", f);
			h(f, t->kind);
			fprintf(f, "</span> <span class=\"badge %s\">", bad ? "" : "ok");
			h(f, t->status[0] ? t->status : "unknown");
			fputs("</span>", f);
			if (t->message[0]) {
				fputs(" <span class=\"bad\">", f);
				h(f, t->message);
				fputs("</span>", f);
			}
		}
		fputs("<table><tr><th>suite</th><th style=\"width:40%\"></th><th>passed</th>"
		      "<th>failed</th><th>skipped</th></tr>\n",
		      f);
		for (int k = 0; k < ng; k++) {
			int total;

			if (strcmp(g[k].topology, names[i]))
				continue;
			total = g[k].n[0] + g[k].n[1] + g[k].n[2];
			fputs("<tr><td><code>", f);
			h(f, g[k].suite);
			fprintf(
			    f,
			    "</code></td><td><div class=\"bar\"><i class=\"p\" "
			    "style=\"width:%.1f%%\"></i><i class=\"f\" style=\"width:%.1f%%\"></i>"
			    "<i class=\"s\" style=\"width:%.1f%%\"></i></div></td><td class=\"ok\">"
			    "%d</td><td class=\"%s\">%d</td><td class=\"skip\">%d</td></tr>\n",
			    100.0 * g[k].n[0] / total, 100.0 * g[k].n[1] / total,
			    100.0 * g[k].n[2] / total, g[k].n[0], g[k].n[1] ? "bad" : "", g[k].n[1],
			    g[k].n[2]);
		}
		fputs("</table></div>\n", f);
	}
	free(names);
	free(g);
	return 0;
}

#define EVIDENCE_MAX 20000

static void html_failures(FILE *f, const struct pgc_run *r)
{
	int p, fl, sk;

	pgc_run_counts(r, &p, &fl, &sk);
	if (!fl)
		return;
	fprintf(f, "<h2>Failures in the latest run (%d)</h2>\n", fl);
	for (int i = 0; i < r->nchecks; i++) {
		const struct pgc_check *c = &r->checks[i];

		if (c->status != PGC_FAILED)
			continue;
		fputs("<div class=\"card alert\"><span class=\"badge\">FAIL</span> ", f);
		html_check_name(f, c);
		fprintf(f, " <span class=\"s\">%.2f s</span><div>", c->duration_s);
		h(f, c->message);
		fputs("</div>", f);
		if (c->evidence && c->evidence[0]) {
			size_t len = strlen(c->evidence);
			const char *from = c->evidence;

			if (len > EVIDENCE_MAX) {
				from += len - EVIDENCE_MAX;
				while (*from && (*from & 0xC0) == 0x80)
					from++; /* start on a character */
			}
			fputs("<details><summary>evidence</summary><pre>", f);
			if (from != c->evidence)
				fputs("[… earlier lines cut]\n", f);
			h(f, from);
			fputs("</pre></details>", f);
		}
		fputs("</div>\n", f);
	}
}

/* A small line chart of series x over the shown runs, as inline SVG. */
static void html_chart(FILE *f, const struct analysis *a, const struct history *hist,
		       const struct series *x)
{
	const double X0 = 40, X1 = 252, Y0 = 8, Y1 = 78;
	int first = a->nruns > MAX_SHOWN_RUNS ? a->nruns - MAX_SHOWN_RUNS : 0;
	int shown = a->nruns - first, pen = 0;
	double lo = INFINITY, hi = -INFINITY, span, dmin, dmax;
	char lo_s[32], hi_s[32];

	for (int i = first; i < a->nruns; i++)
		if (!isnan(x->v[i])) {
			lo = fmin(lo, x->v[i]);
			hi = fmax(hi, x->v[i]);
		}
	if (!isnan(x->median)) {
		lo = fmin(lo, x->median);
		hi = fmax(hi, x->median);
	}
	dmin = lo;
	dmax = hi;
	span = hi - lo;
	if (span <= 0)
		span = fabs(hi) > 0 ? fabs(hi) * 0.2 : 1;
	lo -= span * 0.1;
	hi += span * 0.1;
	if (lo < 0 && lo + span * 0.1 >= 0)
		lo = 0; /* no negative values: the axis starts at 0, not below */
#define PX(i) (X0 + (shown > 1 ? (double)((i)-first) * (X1 - X0) / (shown - 1) : (X1 - X0) / 2))
#define PY(v) (Y1 - ((v)-lo) / (hi - lo) * (Y1 - Y0))
	fmt_value(lo_s, sizeof(lo_s), dmin);
	fmt_value(hi_s, sizeof(hi_s), dmax);
	fprintf(f,
		"<svg viewBox=\"0 0 260 96\" role=\"img\"><line x1=\"%g\" y1=\"%g\" x2=\"%g\" "
		"y2=\"%g\" stroke=\"#d0d7de\"/><line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" "
		"stroke=\"#eaeef2\"/><text x=\"%g\" y=\"%g\" font-size=\"9\" fill=\"#656d76\" "
		"text-anchor=\"end\">%s</text><text x=\"%g\" y=\"%g\" font-size=\"9\" "
		"fill=\"#656d76\" text-anchor=\"end\">%s</text>",
		X0, Y1, X1, Y1, X0, Y0, X1, Y0, X0 - 4, PY(dmax) + 3, hi_s, X0 - 4,
		dmax - dmin > 0 ? PY(dmin) + 3 : Y1, dmax - dmin > 0 ? lo_s : "");
	if (!isnan(x->median)) {
		double thr = x->median * a->threshold;

		fprintf(f,
			"<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#8c959f\" "
			"stroke-dasharray=\"4 3\"><title>median of the previous %d runs</title>"
			"</line>",
			X0, PY(x->median), X1, PY(x->median), x->nwindow);
		if (x->median > 0 && thr <= hi)
			fprintf(
			    f,
			    "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#cf222e\" "
			    "stroke-opacity=\".5\" stroke-dasharray=\"2 3\"><title>regression "
			    "threshold (%.2f × median)</title></line>",
			    X0, PY(thr), X1, PY(thr), a->threshold);
	}
	fputs("<path fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.8\" d=\"", f);
	for (int i = first; i < a->nruns; i++) {
		if (isnan(x->v[i])) {
			pen = 0;
			continue;
		}
		fprintf(f, "%c%.1f %.1f ", pen ? 'L' : 'M', PX(i), PY(x->v[i]));
		pen = 1;
	}
	fputs("\"/>", f);
	for (int i = first; i < a->nruns; i++) {
		char v[32];
		int last = i == a->nruns - 1;

		if (isnan(x->v[i]))
			continue;
		fmt_value(v, sizeof(v), x->v[i]);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>", PX(i),
			PY(x->v[i]), last ? "4" : "2.5",
			last && x->flagged ? "#cf222e" : "#0969da");
		h(f, hist->runs[i]->run_id);
		fprintf(f, ": %s ", v);
		h(f, x->unit);
		fputs("</title></circle>", f);
	}
	fputs("<text x=\"", f);
	fprintf(f, "%g\" y=\"92\" font-size=\"9\" fill=\"#656d76\">", X0);
	h_prefix(f, hist->runs[first]->started, 10); /* the date */
	fprintf(f,
		"</text><text x=\"%g\" y=\"92\" font-size=\"9\" fill=\"#656d76\" "
		"text-anchor=\"end\">",
		X1);
	h_prefix(f, hist->runs[a->nruns - 1]->started, 10);
	fputs("</text></svg>", f);
#undef PX
#undef PY
}

/* One grid of cards, ordered by check (topology.suite.check), then by first appearance. */
static void html_charts(FILE *f, const struct analysis *a, const struct history *hist)
{
	int any = 0;

	fputs("<h2>Metric trends</h2>\n<div class=\"charts\">\n", f);
	for (int s = 0; s < a->nseries; s++) {
		if (!leads_group(a, s))
			continue;
		any = 1;
		for (int k = s; k < a->nseries; k++) {
			const struct series *x = &a->series[k];
			char v[32], m[32];

			if (x->count < 2 || !same_group_series(x, &a->series[s]))
				continue;
			fmt_value(v, sizeof(v), x->last);
			fmt_value(m, sizeof(m), x->median);
			fprintf(f, "<div class=\"chart%s\" id=\"m%d\"><div class=\"g\">",
				x->flagged ? " reg" : "", k);
			h(f, x->topology);
			fputc('.', f);
			h(f, x->suite);
			fputc('.', f);
			h(f, x->check);
			fputs("</div><div class=\"t\"><span>", f);
			h(f, x->metric);
			fputs(x->flagged ? " <span class=\"badge\">REGRESSION</span>" : "", f);
			fprintf(f, "</span><span class=\"v\">%s ", v);
			h(f, x->unit);
			fprintf(f, "</span></div><div class=\"s\">median %s", m);
			if (!isnan(ratio_of(x)))
				fprintf(f, " · latest ×%.2f", ratio_of(x));
			fprintf(f, " · %d run%s</div>", x->count, x->count == 1 ? "" : "s");
			html_chart(f, a, hist, x);
			fputs("</div>\n", f);
		}
	}
	fputs("</div>\n", f);
	if (!any)
		fputs("<p class=\"empty\">No metric appears in two or more runs yet.</p>\n", f);
}

static int version_changed(const struct analysis *a, const char *topology, const char *comp)
{
	for (int i = 0; i < a->nversions; i++)
		if (!strcmp(a->versions[i].topology, topology) &&
		    !strcmp(a->versions[i].component, comp))
			return 1;
	return 0;
}

static void html_components(FILE *f, const struct analysis *a)
{
	const struct pgc_run *r = a->latest;
	int any = 0;

	for (int i = 0; i < r->ntopologies; i++)
		any |= r->topologies[i].ncomponents > 0;
	if (!any)
		return;
	fputs("<h2>Component versions (latest run)</h2>\n<table><tr><th>topology</th>"
	      "<th>component</th><th>version</th></tr>\n",
	      f);
	for (int i = 0; i < r->ntopologies; i++) {
		const struct pgc_topology_result *t = &r->topologies[i];

		for (int c = 0; c < t->ncomponents; c++) {
			int changed = version_changed(a, t->name, t->components[c].name);

			fprintf(f, "<tr%s><td>", changed ? " class=\"changed\"" : "");
			h(f, t->name);
			fputs("</td><td>", f);
			h(f, t->components[c].name);
			fputs("</td><td class=\"mono\">", f);
			h(f, t->components[c].version);
			fputs(changed ? " <span class=\"badge warn\">CHANGED</span>" : "", f);
			fputs("</td></tr>\n", f);
		}
	}
	fputs("</table>\n", f);
}

static int write_html(FILE *f, const struct history *hist, const struct analysis *a)
{
	html_head(f, hist, a);
	html_attention(f, a);
	if (html_overview(f, a))
		return -1;
	html_failures(f, a->latest);
	html_charts(f, a, hist);
	html_components(f, a);
	fprintf(f,
		"<footer><p>A metric is flagged REGRESSION when its latest value exceeds %.2f × "
		"the median of its values in up to %d previous runs (larger is worse; a median "
		"of 0 never flags). Charts show every metric present in at least two runs; runs "
		"are ordered by start time.</p>",
		a->threshold, a->window);
	if (hist->nignored) {
		fputs("<p>Ignored history files:</p><ul>", f);
		for (int i = 0; i < hist->nignored; i++) {
			fputs("<li class=\"mono\">", f);
			h(f, hist->ignored[i]);
			fputs("</li>", f);
		}
		fputs("</ul>", f);
	}
	fputs("<p>Generated by pgconform report.</p></footer>\n</main></body></html>\n", f);
	return 0;
}

/* ---- Markdown ---- */

/* Markdown text for a table cell or list item: redacted, one line, pipes escaped. */
static void md(FILE *f, const char *s)
{
	char *red = pgc_report_redact(s ? s : "");

	for (const char *p = red ? red : ""; *p; p++) {
		if (*p == '|')
			fputs("\\|", f);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '\n' || *p == '\r' || *p == '\t')
			fputc(' ', f);
		else if ((unsigned char)*p >= 0x20)
			fputc(*p, f);
	}
	free(red);
}

static void md_code(FILE *f, const char *a, const char *b, const char *c)
{
	fputc('`', f);
	md(f, a);
	fputc('.', f);
	md(f, b);
	fputc('.', f);
	md(f, c);
	fputc('`', f);
}

static void sparkline(FILE *f, const struct analysis *a, const struct series *x)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	int first = a->nruns > 20 ? a->nruns - 20 : 0;
	double lo = INFINITY, hi = -INFINITY;

	for (int i = first; i < a->nruns; i++)
		if (!isnan(x->v[i])) {
			lo = fmin(lo, x->v[i]);
			hi = fmax(hi, x->v[i]);
		}
	for (int i = first; i < a->nruns; i++) {
		int k;

		if (isnan(x->v[i])) {
			fputs("·", f);
			continue;
		}
		k = hi > lo ? (int)((x->v[i] - lo) / (hi - lo) * 7 + 0.5) : 0;
		fputs(bars[k < 0 ? 0 : k > 7 ? 7 : k], f);
	}
}

static int write_md(FILE *f, const struct history *hist, const struct analysis *a)
{
	const struct pgc_run *r = a->latest;
	struct group *g = NULL;
	int p, fl, sk, ng;
	char v[32], m[32];

	pgc_run_counts(r, &p, &fl, &sk);
	fprintf(f, "# pgconform conformance report\n\n**%s** · latest run `",
		fl ? "❌ FAIL" : "✅ PASS");
	md(f, r->run_id);
	fputs("` started ", f);
	md(f, r->started);
	if (r->commit[0]) {
		char commit[13];

		snprintf(commit, sizeof(commit), "%.12s", r->commit);
		fputs(" · commit `", f);
		md(f, commit);
		fputc('`', f);
	}
	fprintf(f,
		" · **%d passed, %d failed, %d skipped** · %d metric regression%s · %d newly "
		"failing · %d run%s in history\n\n",
		p, fl, sk, a->nflagged, a->nflagged == 1 ? "" : "s", a->nfailing, hist->n,
		hist->n == 1 ? "" : "s");
	if (!a->prev)
		fputs("_First run in the history: nothing to compare with yet._\n\n", f);
	else if (!a->nflagged && !a->nfailing && !a->nfixed && !a->nversions)
		fputs("Nothing new since the previous run: no metric regressions, no newly failing "
		      "or fixed checks, no component version changes.\n\n",
		      f);
	if (a->nflagged) {
		fprintf(
		    f,
		    "## ⚠️ Metric regressions\n\nLatest value > %.2f × the median of up to %d "
		    "previous runs (larger is worse).\n\n| check | metric | latest | median | "
		    "ratio | trend |\n|---|---|---|---|---|---|\n",
		    a->threshold, a->window);
		for (int s = 0; s < a->nseries; s++) {
			const struct series *x = &a->series[s];

			if (!x->flagged)
				continue;
			fmt_value(v, sizeof(v), x->last);
			fmt_value(m, sizeof(m), x->median);
			fputs("| ", f);
			md_code(f, x->topology, x->suite, x->check);
			fputs(" | ", f);
			md(f, x->metric);
			fprintf(f, " **REGRESSION** | **%s** ", v);
			md(f, x->unit);
			fprintf(f, " | %s ", m);
			md(f, x->unit);
			fprintf(f, " | ×%.2f | ", ratio_of(x));
			sparkline(f, a, x);
			fputs(" |\n", f);
		}
		fputs("\n", f);
	}
	if (a->nfailing) {
		fprintf(f, "## ❌ Newly failing (%d)\n\n", a->nfailing);
		for (int i = 0; i < a->nfailing; i++) {
			const struct pgc_check *c = a->failing[i].c;

			fputs("- ", f);
			md_code(f, c->topology, c->suite, c->name);
			fprintf(f, " (was %s): ", status_word(a->failing[i].prev));
			md(f, c->message);
			fputs("\n", f);
		}
		fputs("\n", f);
	}
	if (a->nfixed) {
		fprintf(f, "## ✅ Fixed (%d)\n\n", a->nfixed);
		for (int i = 0; i < a->nfixed; i++) {
			fputs("- ", f);
			md_code(f, a->fixed[i].c->topology, a->fixed[i].c->suite,
				a->fixed[i].c->name);
			fputs("\n", f);
		}
		fputs("\n", f);
	}
	if (a->nversions) {
		fprintf(f,
			"## 🔄 Component version changes (%d)\n\n| topology | component | previous "
			"| latest |\n|---|---|---|---|\n",
			a->nversions);
		for (int i = 0; i < a->nversions; i++) {
			fputs("| ", f);
			md(f, a->versions[i].topology);
			fputs(" | ", f);
			md(f, a->versions[i].component);
			fputs(" | ", f);
			md(f, a->versions[i].before ? a->versions[i].before : "(not present)");
			fputs(" | **", f);
			md(f, a->versions[i].after ? a->versions[i].after : "(removed)");
			fputs("** |\n", f);
		}
		fputs("\n", f);
	}
	ng = groups_of(r, &g);
	if (ng < 0)
		return -1;
	fputs("## Latest run by topology and suite\n\n| topology | suite | passed | failed | "
	      "skipped |\n|---|---|---|---|---|\n",
	      f);
	for (int k = 0; k < ng; k++) {
		fputs("| ", f);
		md(f, g[k].topology);
		fputs(" | ", f);
		md(f, g[k].suite);
		fprintf(f, " | %d | %s%d%s | %d |\n", g[k].n[0], g[k].n[1] ? "**" : "", g[k].n[1],
			g[k].n[1] ? "**" : "", g[k].n[2]);
	}
	free(g);
	for (int i = 0; i < r->ntopologies; i++) {
		const struct pgc_topology_result *t = &r->topologies[i];

		if (!strcmp(t->status, "up") || !strcmp(t->status, "attached"))
			continue;
		fputs("\n**Topology ", f);
		md(f, t->name);
		fputs("**: ", f);
		md(f, t->status[0] ? t->status : "unknown status");
		if (t->message[0]) {
			fputs(": ", f);
			md(f, t->message);
		}
		fputs("\n", f);
	}
	if (fl) {
		fprintf(f, "\n## Failures in the latest run (%d)\n\n", fl);
		for (int i = 0; i < r->nchecks; i++) {
			const struct pgc_check *c = &r->checks[i];

			if (c->status != PGC_FAILED)
				continue;
			fputs("- ", f);
			md_code(f, c->topology, c->suite, c->name);
			fputs(": ", f);
			md(f, c->message);
			fputs("\n", f);
		}
	}
	if (hist->nignored) {
		fputs("\n## Ignored history files\n\n", f);
		for (int i = 0; i < hist->nignored; i++) {
			fputs("- ", f);
			md(f, hist->ignored[i]);
			fputs("\n", f);
		}
	}
	fputs("\nCharts: see report.html.\n", f);
	return 0;
}

/* ---- files ---- */

static int mkdirs(const char *dir, char *err, size_t errlen)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot create the output folder: %s", path, strerror(errno));
	return -1;
}

typedef int (*writer_fn)(FILE *f, const struct history *hist, const struct analysis *a);

static int write_file(const char *dir, const char *name, writer_fn fn, const struct history *hist,
		      const struct analysis *a, char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	if (fn(f, hist, a)) {
		snprintf(err, errlen, "%s: out of memory while writing", path);
		fclose(f);
		goto out_unlink;
	}
	if (ferror(f) || fclose(f)) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "%s: cannot rename %s into place: %s", path, tmp,
			 strerror(errno));
		goto out_unlink;
	}
	return 0;
out_unlink:
	unlink(tmp);
	return -1;
}

int pgc_report_write(const char *history_dir, const char *out_dir, double threshold, int window,
		     char *err, size_t errlen)
{
	struct history hist;
	struct analysis a;
	int rc = -1;

	if (!(threshold > 0) || window < 1) {
		snprintf(err, errlen,
			 "report: threshold must be above 0 and window at least 1 "
			 "(got %g and %d)",
			 threshold, window);
		return -1;
	}
	if (history_read(history_dir, &hist, err, errlen))
		goto out_history;
	if (analyse(&a, &hist, threshold, window)) {
		snprintf(err, errlen, "%s: out of memory analysing %d runs", history_dir, hist.n);
		goto out_analysis;
	}
	if (mkdirs(out_dir, err, errlen) ||
	    write_file(out_dir, "report.html", write_html, &hist, &a, err, errlen) ||
	    write_file(out_dir, "summary.md", write_md, &hist, &a, err, errlen))
		goto out_analysis;
	rc = 0;
out_analysis:
	analysis_free(&a);
out_history:
	history_free(&hist);
	return rc;
}
