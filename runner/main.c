/* main.c - pgconform: bring PostgreSQL topologies up, prove their claims, report. */
#include "deadline.h"
#include "runner.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: pgconform [-q] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  list                      topologies (with their claims) and suites (with their checks)\n"
    "  up TOPOLOGY...            build, start and wait until healthy; left running\n"
    "  down TOPOLOGY...|all      remove containers, networks and volumes of the topology\n"
    "  status TOPOLOGY...        one health observation (exit 0 healthy, 1 not)\n"
    "  run TOPOLOGY...|all [--suite S] [--check GLOB] [--results DIR] [--keep] [--repeat N]\n"
    "      [--attach [--descriptor FILE] [--allow-destructive]]\n"
    "                            bring up (unless --attach), run the suites, tear down,\n"
    "                            write results JSON and JUnit XML to DIR (default results/)\n"
    "  report --history DIR [--out DIR] [--threshold F] [--window N]\n"
    "                            regression report (HTML + Markdown) over a history of runs\n"
    "  reap [--all]              remove what killed runs left (--all: every project of ours)\n"
    "  bench [TOPOLOGY...] [--full] [--results DIR]\n"
    "                            measure time to healthy, warm build, idle memory, probe period\n"
    "                            (--full: also `run all` wall time and suite overhead)\n"
    "  variant [--results DIR] FILE...\n"
    "                            run a deliberately broken variant (tests/variants/*.json);\n"
    "                            exit 0 only when exactly its expected checks fail\n"
    "\n"
    "TOPOLOGY is a name (standalone-15, standalone-16, standalone-17, patroni, patroni-strict,\n"
    "pgpool) or a descriptor file. Exit status: 0 all passed or skipped, 1 a check failed,\n"
    "2 usage or setup error, 130 interrupted.\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"list", cmd_list},     {"up", cmd_up},           {"down", cmd_down},
		    {"status", cmd_status}, {"run", cmd_run},         {"report", cmd_report},
		    {"reap", cmd_reap},     {"variant", cmd_variant}, {"bench", cmd_bench}};
	int i = 1, rc;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			pgc_quiet = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "pgconform: unknown option %s (see pgconform --help).\n",
				argv[i]);
			return PGC_EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return PGC_EXIT_USAGE;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (!strcmp(argv[i], cmds[k].name)) {
			curl_global_init(CURL_GLOBAL_DEFAULT);
			pgc_install_signals();
			rc = cmds[k].fn(argc - i, argv + i);
			curl_global_cleanup();
			return rc;
		}
	if (!strcmp(argv[i], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "pgconform: unknown command \"%s\" (see pgconform --help).\n", argv[i]);
	return PGC_EXIT_USAGE;
}
