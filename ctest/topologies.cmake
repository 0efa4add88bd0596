# Patroni and PgPool: their own suites plus the common ones.
pgc_topology_tests(patroni patroni 17
  connect tls roles routing sync crud:destructive failover:destructive
  switchover:destructive dcs:destructive split-brain:destructive)
pgc_topology_tests(patroni-strict patroni 17 sync:destructive)
pgc_topology_tests(pgpool pgpool 17
  connect tls pool-nodes pool-routing load-balance pooling async-replication
  crud:destructive standby-loss:destructive primary-loss:destructive)
