/* secret.c - the redaction list shared by every writer in reports/. */
#include "secret.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECRETS 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[MAX_SECRETS];
static int nsecrets;

void pgc_report_secret(const char *s)
{
	if (!s || strlen(s) < 4)
		return;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], s) == 0)
			goto out_unlock;
	if (nsecrets < MAX_SECRETS) {
		secrets[nsecrets] = strdup(s);
		if (secrets[nsecrets])
			nsecrets++;
	}
out_unlock:
	pthread_mutex_unlock(&lock);
}

void pgc_report_secrets_clear(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < nsecrets; i++)
		free(secrets[i]);
	nsecrets = 0;
	pthread_mutex_unlock(&lock);
}

char *pgc_report_redact(const char *s)
{
	char *out;

	if (!s)
		return NULL;
	/* "***" is never longer than a secret (>= 4 bytes), so the copy only shrinks */
	out = strdup(s);
	if (!out)
		return NULL;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < nsecrets; i++) {
		size_t n = strlen(secrets[i]);
		char *p = out;

		while ((p = strstr(p, secrets[i])) != NULL) {
			memcpy(p, "***", 3);
			memmove(p + 3, p + n, strlen(p + n) + 1);
			p += 3;
		}
	}
	pthread_mutex_unlock(&lock);
	return out;
}
