/* runner.h - the pgconform commands. */
#ifndef PGC_RUNNER_H
#define PGC_RUNNER_H

#define PGC_EXIT_OK          0
#define PGC_EXIT_FAILED      1
#define PGC_EXIT_USAGE       2
#define PGC_EXIT_INTERRUPTED 130

/* The folder holding docker/ (env PGC_SOURCE_DIR, else where we were built from). */
const char *pgc_source_dir(void);

/* Resolves a topology name ("patroni", "standalone-17") or a descriptor path to a descriptor
 * path. 0, or -1 with err naming the unknown topology and the known ones. */
int pgc_resolve_topology(const char *name, char *path, size_t len, char *err, size_t errlen);

/* Names of the topologies of `all`, NULL-terminated. */
extern const char *const pgc_all_topologies[];

int cmd_list(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_reap(int argc, char **argv);
int cmd_variant(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Installs SIGINT/SIGTERM handlers that set pgc_interrupted (and forward to our children). */
void pgc_install_signals(void);
void pgc_signal_forward_to(int pid);

/* Stops the Docker engine if this pgconform started it and nothing of anyone runs on it. */
void pgc_engine_release(void);

#endif
