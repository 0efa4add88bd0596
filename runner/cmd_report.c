/* cmd_report.c - pgconform report: the regression report over a history of runs. */
#include "log.h"
#include "report.h"
#include "runner.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_report(int argc, char **argv)
{
	static const struct option longs[] = {{"history", required_argument, NULL, 'h'},
					      {"out", required_argument, NULL, 'o'},
					      {"threshold", required_argument, NULL, 't'},
					      {"window", required_argument, NULL, 'w'},
					      {NULL, 0, NULL, 0}};
	const char *history = NULL, *out = NULL;
	double threshold = 1.5;
	int window = 5, ch;
	char err[1024], *end;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'h':
			history = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			threshold = strtod(optarg, &end);
			if (*end || !(threshold > 1.0)) {
				fprintf(stderr,
					"pgconform: --threshold needs a factor above 1 (e.g. "
					"1.5), not \"%s\".\n",
					optarg);
				return PGC_EXIT_USAGE;
			}
			break;
		case 'w':
			window = (int)strtol(optarg, &end, 10);
			if (*end || window < 1 || window > 100) {
				fprintf(stderr,
					"pgconform: --window needs a count from 1 to 100, "
					"not \"%s\".\n",
					optarg);
				return PGC_EXIT_USAGE;
			}
			break;
		default:
			fprintf(stderr, "pgconform: report: unknown or incomplete option \"%s\".\n",
				argv[optind - 1]);
			return PGC_EXIT_USAGE;
		}
	}
	if (!history || optind < argc) {
		fprintf(stderr, "pgconform: report needs --history DIR (a folder of results JSON) "
				"and no other arguments.\n");
		return PGC_EXIT_USAGE;
	}
	if (!out)
		out = history;
	if (pgc_report_write(history, out, threshold, window, err, sizeof(err))) {
		fprintf(stderr, "pgconform: %s.\n", err);
		return PGC_EXIT_USAGE;
	}
	printf("report: %s/report.html and %s/summary.md\n", out, out);
	return 0;
}
