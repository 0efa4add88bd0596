/* registry.c - every suite, in the order a run executes them. */
#include "suite.h"

extern const struct pgc_suite pgc_suite_connect, pgc_suite_crud, pgc_suite_tls;
extern const struct pgc_suite pgc_suite_roles, pgc_suite_routing, pgc_suite_sync,
    pgc_suite_failover, pgc_suite_switchover, pgc_suite_dcs, pgc_suite_partition;

const struct pgc_suite *const pgc_all_suites[] = {
    &pgc_suite_connect,
    &pgc_suite_tls,
    &pgc_suite_roles,
    &pgc_suite_routing,
    &pgc_suite_sync,
    &pgc_suite_crud,
    &pgc_suite_failover,
    &pgc_suite_switchover,
    &pgc_suite_dcs,
    &pgc_suite_partition,
    NULL,
};
