#!/bin/sh
# Patroni node entrypoint (starts as root): private copy of the certificates owned by postgres
# with keys 0600, the Patroni configuration, then Patroni as user postgres.
# Env: PGC_NODE_NAME (node1..3), PGC_NODE_IP (cluster address = connect address),
#      PATRONI_SUPERUSER_PASSWORD (read by Patroni itself), PATRONI_SYNC_STRICT (true|false).
set -eu
name=${PGC_NODE_NAME:?}
ip=${PGC_NODE_IP:?}
case "${PATRONI_SYNC_STRICT:-false}" in
  true|false) strict=${PATRONI_SYNC_STRICT:-false} ;;
  *) echo "PATRONI_SYNC_STRICT must be true or false" >&2; exit 2 ;;
esac
unset PATRONI_SYNC_STRICT

install -d -o postgres -g postgres -m 0700 /certs
install -o postgres -g postgres -m 0644 /certs-src/ca.crt /certs/ca.crt
for stem in "$name" postgres replicator; do
  install -o postgres -g postgres -m 0644 "/certs-src/$stem.crt" "/certs/$stem.crt"
  install -o postgres -g postgres -m 0600 "/certs-src/$stem.key" "/certs/$stem.key"
done
install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data /etc/patroni
install -d -o postgres -g postgres -m 0775 /var/run/postgresql

umask 077
cat > /etc/patroni/patroni.yml <<YAML
scope: pgc-patroni
namespace: /service/
name: $name

log:
  level: INFO

restapi:
  listen: 0.0.0.0:8008
  connect_address: $ip:8008
  certfile: /certs/$name.crt
  keyfile: /certs/$name.key
  cafile: /certs/ca.crt
  verify_client: required

ctl:
  insecure: false
  certfile: /certs/$name.crt
  keyfile: /certs/$name.key
  cacert: /certs/ca.crt

etcd3:
  hosts: 10.20.0.21:2379,10.20.0.22:2379,10.20.0.23:2379
  protocol: https
  cacert: /certs/ca.crt
  cert: /certs/$name.crt
  key: /certs/$name.key

bootstrap:
  dcs:
    ttl: 20
    loop_wait: 1
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: $strict
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_connections: 100
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
        wal_sender_timeout: 5s
        wal_receiver_timeout: 5s
        password_encryption: scram-sha-256
  initdb:
    - encoding: UTF8
    - data-checksums

postgresql:
  listen: 0.0.0.0:5432
  connect_address: $ip:5432
  data_dir: /var/lib/postgresql/data/pgdata
  bin_dir: /usr/lib/postgresql/17/bin
  pgpass: /tmp/pgpass
  use_unix_socket: true
  use_unix_socket_repl: false
  authentication:
    superuser:
      username: postgres
      sslmode: verify-full
      sslrootcert: /certs/ca.crt
      sslcert: /certs/postgres.crt
      sslkey: /certs/postgres.key
    replication:
      username: replicator
      sslmode: verify-full
      sslrootcert: /certs/ca.crt
      sslcert: /certs/replicator.crt
      sslkey: /certs/replicator.key
  parameters:
    unix_socket_directories: /var/run/postgresql
    ssl: "on"
    ssl_cert_file: /certs/$name.crt
    ssl_key_file: /certs/$name.key
    ssl_ca_file: /certs/ca.crt
    ssl_min_protocol_version: TLSv1.2
  pg_hba:
    - local all all trust
    - hostssl replication replicator 0.0.0.0/0 cert
    - hostssl all all 0.0.0.0/0 scram-sha-256 ${PATRONI_HBA_CERT-clientcert=verify-full}
    - hostnossl all all 0.0.0.0/0 reject

tags:
  nofailover: ${PATRONI_NOFAILOVER:-false}
  noloadbalance: false
  clonefrom: false
  nosync: false
YAML
chown postgres:postgres /etc/patroni/patroni.yml

export HOME=/var/lib/postgresql
exec setpriv --reuid=postgres --regid=postgres --init-groups patroni /etc/patroni/patroni.yml
