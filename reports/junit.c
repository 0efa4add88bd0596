/* junit.c - JUnit XML writer. */
#include "junit.h"
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum xml_mode { XML_TEXT, XML_ATTR, XML_CDATA };

/* Length of the valid UTF-8 sequence at p holding an XML 1.0 Char (into *cp), or 0. */
static int xml_char(const unsigned char *p, unsigned *cp)
{
	unsigned c = p[0];
	int n, i;

	if (c < 0x80) {
		*cp = c;
		return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 2;
		c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3;
		c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	/* overlong forms, surrogates, U+FFFE/U+FFFF and beyond U+10FFFF are not Chars */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF || c > 0x10FFFF)
		return 0;
	*cp = c;
	return n;
}

/* Writes s redacted, as valid XML in the given mode: control characters are dropped, broken
 * UTF-8 becomes U+FFFD, markup is escaped (CDATA: "]]>" is split across two sections). */
static void put_xml(FILE *f, const char *s, enum xml_mode mode)
{
	char *red = pgc_report_redact(s ? s : "");
	const unsigned char *p = (const unsigned char *)(red ? red : "");

	if (mode == XML_CDATA)
		fputs("<![CDATA[", f);
	while (*p) {
		unsigned cp;
		int n = xml_char(p, &cp);

		if (n == 0) {
			if (*p >= 0x80)
				fputs("\xEF\xBF\xBD", f);
			p++;
			continue;
		}
		if (mode == XML_CDATA && strncmp((const char *)p, "]]>", 3) == 0) {
			fputs("]]]]><![CDATA[>", f);
			n = 3;
		} else if (mode == XML_CDATA) {
			fwrite(p, 1, n, f);
		} else if (cp == '&') {
			fputs("&amp;", f);
		} else if (cp == '<') {
			fputs("&lt;", f);
		} else if (cp == '>') {
			fputs("&gt;", f);
		} else if (mode == XML_ATTR && cp == '"') {
			fputs("&quot;", f);
		} else if (mode == XML_ATTR && cp == '\'') {
			fputs("&apos;", f);
		} else if (mode == XML_ATTR && cp < 0x20) {
			fprintf(f, "&#%u;",
				cp); /* keeps \t \n \r through attribute normalisation */
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
	}
	if (mode == XML_CDATA)
		fputs("]]>", f);
	free(red);
}

/* A metric value without noise: integers plainly, else 10 significant digits. */
static void put_value(FILE *f, double v)
{
	if (!isfinite(v))
		fputs(isnan(v) ? "nan" : v > 0 ? "inf" : "-inf", f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.10g", v);
}

static double seconds(double s)
{
	return isfinite(s) && s > 0 ? s : 0;
}

/* "topology.suite" groups: index of the first check of each, in order of first appearance. */
static int same_group(const struct pgc_check *a, const struct pgc_check *b)
{
	return strcmp(a->topology, b->topology) == 0 && strcmp(a->suite, b->suite) == 0;
}

static int first_of_group(const struct pgc_run *r, int i)
{
	for (int k = 0; k < i; k++)
		if (same_group(&r->checks[k], &r->checks[i]))
			return 0;
	return 1;
}

static void put_testcase(FILE *f, const struct pgc_check *c)
{
	fputs("    <testcase name=\"", f);
	put_xml(f, c->name, XML_ATTR);
	fputs("\" classname=\"", f);
	put_xml(f, c->topology, XML_ATTR);
	fputc('.', f);
	put_xml(f, c->suite, XML_ATTR);
	fprintf(f, "\" time=\"%.3f\">\n", seconds(c->duration_s));
	if (c->nmetrics > 0) {
		fputs("      <properties>\n", f);
		for (int m = 0; m < c->nmetrics; m++) {
			fputs("        <property name=\"", f);
			put_xml(f, c->metrics[m].name, XML_ATTR);
			fputs("\" value=\"", f);
			put_value(f, c->metrics[m].value);
			if (c->metrics[m].unit[0]) {
				fputc(' ', f);
				put_xml(f, c->metrics[m].unit, XML_ATTR);
			}
			fputs("\"/>\n", f);
		}
		fputs("      </properties>\n", f);
	}
	if (c->status == PGC_FAILED) {
		fputs("      <failure message=\"", f);
		put_xml(f, c->message, XML_ATTR);
		fputs("\" type=\"assertion\">", f);
		put_xml(f, c->message, XML_TEXT);
		fputs("</failure>\n", f);
		if (c->evidence && c->evidence[0]) {
			fputs("      <system-out>", f);
			put_xml(f, c->evidence, XML_CDATA);
			fputs("</system-out>\n", f);
		}
	} else if (c->status == PGC_SKIPPED) {
		fputs("      <skipped message=\"", f);
		put_xml(f, c->message, XML_ATTR);
		fputs("\"/>\n", f);
	}
	fputs("    </testcase>\n", f);
}

static void put_testsuite(FILE *f, const struct pgc_run *r, int first, int id, const char *stamp,
			  const char *host)
{
	const struct pgc_check *g = &r->checks[first];
	int n[3] = {0, 0, 0};
	double time = 0;

	for (int i = first; i < r->nchecks; i++)
		if (same_group(&r->checks[i], g)) {
			n[(unsigned)r->checks[i].status < 3 ? r->checks[i].status : PGC_FAILED]++;
			time += seconds(r->checks[i].duration_s);
		}
	fputs("  <testsuite name=\"", f);
	put_xml(f, g->topology, XML_ATTR);
	fputc('.', f);
	put_xml(f, g->suite, XML_ATTR);
	fprintf(f,
		"\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\" "
		"timestamp=\"%s\" hostname=\"",
		n[0] + n[1] + n[2], n[PGC_FAILED], n[PGC_SKIPPED], time, stamp);
	put_xml(f, host, XML_ATTR);
	fprintf(f, "\" id=\"%d\" package=\"", id);
	put_xml(f, g->topology, XML_ATTR);
	fputs("\">\n", f);
	for (int i = first; i < r->nchecks; i++)
		if (same_group(&r->checks[i], g))
			put_testcase(f, &r->checks[i]);
	fputs("  </testsuite>\n", f);
}

/* The run's start as JUnit wants it: "YYYY-MM-DDTHH:MM:SS" (no zone); now when unknown. */
static void junit_stamp(const struct pgc_run *r, char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	if (strlen(r->started) >= 19 && r->started[10] == 'T') {
		snprintf(buf, len, "%.19s", r->started);
		return;
	}
	gmtime_r(&now, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

int pgc_junit_write(const struct pgc_run *r, const char *path, char *err, size_t errlen)
{
	char tmp[4096], stamp[32];
	int p, fl, sk, id = 0;
	double total = 0;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	junit_stamp(r, stamp, sizeof(stamp));
	pgc_run_counts(r, &p, &fl, &sk);
	for (int i = 0; i < r->nchecks; i++)
		total += seconds(r->checks[i].duration_s);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pgconform ", f);
	put_xml(f, r->run_id, XML_ATTR);
	fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">\n",
		p + fl + sk, fl, sk, total);
	for (int i = 0; i < r->nchecks; i++)
		if (first_of_group(r, i))
			put_testsuite(f, r, i, id++, stamp, r->host[0] ? r->host : "localhost");
	fputs("</testsuites>\n", f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		fclose(f);
		goto out_unlink;
	}
	if (fclose(f)) {
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
