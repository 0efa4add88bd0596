/* registry.c - every suite, in the order a run executes them: read-only first, faults last. */
#include "suite.h"

extern const struct pgc_suite pgc_suite_connect, pgc_suite_crud, pgc_suite_tls;
extern const struct pgc_suite pgc_suite_roles, pgc_suite_routing, pgc_suite_sync,
    pgc_suite_failover, pgc_suite_switchover, pgc_suite_dcs, pgc_suite_partition;
extern const struct pgc_suite pgc_suite_pool_nodes, pgc_suite_pool_routing, pgc_suite_pool_balance,
    pgc_suite_pool_pooling, pgc_suite_pool_replication, pgc_suite_pool_standby_loss,
    pgc_suite_pool_primary_loss;

const struct pgc_suite *const pgc_all_suites[] = {
    &pgc_suite_connect,
    &pgc_suite_tls,
    &pgc_suite_roles,
    &pgc_suite_routing,
    &pgc_suite_sync,
    &pgc_suite_pool_nodes,
    &pgc_suite_pool_routing,
    &pgc_suite_pool_balance,
    &pgc_suite_pool_pooling,
    &pgc_suite_pool_replication,
    &pgc_suite_crud,
    &pgc_suite_failover,
    &pgc_suite_switchover,
    &pgc_suite_dcs,
    &pgc_suite_partition,
    &pgc_suite_pool_standby_loss,
    &pgc_suite_pool_primary_loss,
    NULL,
};
