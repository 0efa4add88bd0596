/* common.c - topology names, signals and the engine, shared by the commands. */
#include "deadline.h"
#include "docker.h"
#include "engine.h"
#include "log.h"
#include "runner.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PGC_BUILD_SOURCE_DIR
#define PGC_BUILD_SOURCE_DIR "."
#endif

const char *const pgc_all_topologies[] = {"standalone-15", "standalone-16", "standalone-17",
					  "patroni",       "pgpool",        NULL};

static const struct {
	const char *name;
	const char *file;
} known[] = {
    {"standalone-15", "docker/standalone/standalone-15.json"},
    {"standalone-16", "docker/standalone/standalone-16.json"},
    {"standalone-17", "docker/standalone/standalone-17.json"},
    {"patroni", "docker/patroni/patroni.json"},
    {"patroni-strict", "docker/patroni/patroni-strict.json"},
    {"pgpool", "docker/pgpool/pgpool.json"},
};

const char *pgc_source_dir(void)
{
	const char *s = getenv("PGC_SOURCE_DIR");

	return s && s[0] ? s : PGC_BUILD_SOURCE_DIR;
}

int pgc_resolve_topology(const char *name, char *path, size_t len, char *err, size_t errlen)
{
	if (strchr(name, '/') || strstr(name, ".json")) {
		if (access(name, R_OK)) {
			pgc_fmt(err, errlen, "cannot read descriptor %s", name);
			return -1;
		}
		pgc_fmt(path, len, "%s", name);
		return 0;
	}
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i].name, name)) {
			pgc_fmt(path, len, "%s/%s", pgc_source_dir(), known[i].file);
			if (access(path, R_OK)) {
				pgc_fmt(err, errlen, "topology %s: its descriptor %s is missing",
					name, path);
				return -1;
			}
			return 0;
		}
	pgc_fmt(err, errlen,
		"unknown topology \"%s\" (known: standalone-15, standalone-16, standalone-17, "
		"patroni, patroni-strict, pgpool, or a descriptor file)",
		name);
	return -1;
}

static int children[16];
static int nchildren;

static void on_signal(int sig)
{
	pgc_interrupted = 1;
	for (int i = 0; i < nchildren; i++)
		if (children[i] > 0)
			kill(children[i], sig);
}

void pgc_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void pgc_signal_forward_to(int pid)
{
	if (nchildren < (int)(sizeof(children) / sizeof(children[0])))
		children[nchildren++] = pid;
}

void pgc_engine_release(void)
{
	struct pgc_docker *d = NULL;
	cJSON *list = NULL;
	char err[256];
	int n = 1;

	if (pgc_docker_open(&d, err, sizeof(err)) == 0 &&
	    pgc_docker_list(d, "containers", NULL, &list, err, sizeof(err)) == 0)
		n = cJSON_GetArraySize(list);
	cJSON_Delete(list);
	pgc_docker_close(d);
	if (n == 0)
		pgc_engine_stop_started();
}
