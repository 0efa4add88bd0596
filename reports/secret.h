/* secret.h - values that must never appear in anything reports/ writes (results JSON, JUnit XML,
 * HTML, Markdown, the recorder's lines). Thread-safe. */
#ifndef PGC_REPORTS_SECRET_H
#define PGC_REPORTS_SECRET_H

/* Registers s (copied); every later write replaces each occurrence with "***". Values shorter
 * than 4 bytes are ignored (they would mangle ordinary text); duplicates are kept once. */
void pgc_report_secret(const char *s);

/* Forgets every registered value (frees them). */
void pgc_report_secrets_clear(void);

/* A copy of s with every registered value replaced by "***"; NULL when s is NULL or memory is
 * exhausted. Caller frees with free(). */
char *pgc_report_redact(const char *s);

#endif
