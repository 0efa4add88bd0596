#!/bin/sh
# Entrypoint of pg_node1..3 (image pgconform/pgpool-pg:17). Starts as root, fixes volume ownership,
# initialises the data directory once, then execs postgres as user postgres.
#
# Environment:
#   PG_ROLE               primary | standby
#   PG_NODE_NAME          pg_nodeN (standby: application_name in primary_conninfo, slot <name>_slot)
#   PG_PRIMARY_HOST       standby: address of the primary (default 10.30.0.11)
#   PG_CLUSTER_NET        CIDR of the cluster network (pg_hba), default 10.30.0.0/24
#   PG_HAPROXY_IP         HAProxy's address (trust line for the no-privilege role haproxy_check)
#   PG_WAIT_PRIMARY_S     standby: deadline for the primary to accept connections (default 120)
#   DB_ROOT_PASSWORD      primary: password of superuser postgres
#   PGPOOL_REPL_PASSWORD  password of role replicator (primary creates it, standbys use it)
#   PGPOOL_CHECK_PASSWORD primary: password of role pgpool (health / streaming-replication checks)
set -eu

BASE=/var/lib/postgresql/data
PGDATA=${PGDATA:-$BASE/pgdata}
export PGDATA
PG_ROLE=${PG_ROLE:?PG_ROLE must be primary or standby}
PG_NODE_NAME=${PG_NODE_NAME:?PG_NODE_NAME is required}
PG_CLUSTER_NET=${PG_CLUSTER_NET:-10.30.0.0/24}
PG_HAPROXY_IP=${PG_HAPROXY_IP:-10.30.0.100}

log() { echo "pg-entrypoint[$PG_NODE_NAME]: $*" >&2; }
as_pg() { HOME=/var/lib/postgresql setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

mkdir -p "$BASE" /var/run/postgresql
chown postgres:postgres "$BASE" /var/run/postgresql
chmod 0700 "$BASE"
if [ -d "$PGDATA" ]; then
	chown -R postgres:postgres "$PGDATA"
	chmod 0700 "$PGDATA"
fi

write_config() {
	cat >>"$PGDATA/postgresql.conf" <<EOF

# ---- pgconform pgpool topology ----
listen_addresses = '*'
port = 5432
unix_socket_directories = '/var/run/postgresql'
max_connections = 100
password_encryption = 'scram-sha-256'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '256MB'
hot_standby = on
hot_standby_feedback = on
synchronous_commit = on
# asynchronous replication: no synchronous_standby_names
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = off
EOF
	cat >"$PGDATA/pg_hba.conf" <<EOF
# TYPE  DATABASE     USER           ADDRESS               METHOD
local   all          all                                  peer
# HAProxy's RO check (SELECT pg_is_in_recovery()) logs in as a role with no privileges, from
# HAProxy's address only: a tcp-check cannot do SCRAM.
host    postgres     haproxy_check  $PG_HAPROXY_IP/32     trust
host    replication  replicator     $PG_CLUSTER_NET       scram-sha-256
host    all          all            all                   scram-sha-256
EOF
}

init_primary() {
	: "${DB_ROOT_PASSWORD:?DB_ROOT_PASSWORD is required}"
	: "${PGPOOL_REPL_PASSWORD:?PGPOOL_REPL_PASSWORD is required}"
	: "${PGPOOL_CHECK_PASSWORD:?PGPOOL_CHECK_PASSWORD is required}"
	tmp="$BASE/pgdata.init"
	rm -rf "$tmp"
	pwfile=$(mktemp)
	printf '%s\n' "$DB_ROOT_PASSWORD" >"$pwfile"
	chown postgres "$pwfile"
	chmod 0600 "$pwfile"
	as_pg initdb -D "$tmp" -U postgres --pwfile="$pwfile" --auth-local=peer \
		--auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --data-checksums >/dev/null
	rm -f "$pwfile"
	PGDATA=$tmp write_config
	# Roles and the pooled database, with a server that listens on the unix socket only.
	as_pg pg_ctl -D "$tmp" -w -t 60 -o "-c listen_addresses=''" start >/dev/null
	as_pg psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -U postgres -d postgres \
		-v repl="$PGPOOL_REPL_PASSWORD" -v chk="$PGPOOL_CHECK_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD :'repl';
CREATE ROLE pgpool WITH LOGIN PASSWORD :'chk';
GRANT pg_monitor TO pgpool;
CREATE ROLE haproxy_check WITH LOGIN;
CREATE DATABASE pgconform;
SQL
	as_pg pg_ctl -D "$tmp" -w -t 60 -m fast stop >/dev/null
	mv "$tmp" "$PGDATA"
	log "primary initialised"
}

init_standby() {
	: "${PGPOOL_REPL_PASSWORD:?PGPOOL_REPL_PASSWORD is required}"
	host=${PG_PRIMARY_HOST:-10.30.0.11}
	slot="${PG_NODE_NAME}_slot"
	deadline=$(($(date +%s) + ${PG_WAIT_PRIMARY_S:-120}))
	until pg_isready -q -h "$host" -p 5432 -t 2; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			log "primary $host not ready before the deadline"
			exit 1
		fi
		sleep 0.5
	done
	export PGPASSWORD="$PGPOOL_REPL_PASSWORD"
	# A slot left over from an earlier attempt (standby volume removed, primary kept) blocks -C.
	as_pg psql -X -q -h "$host" -U replicator -d "host=$host dbname=postgres replication=database" \
		-c "DROP_REPLICATION_SLOT $slot" >/dev/null 2>&1 || true
	tmp="$BASE/pgdata.basebackup"
	rm -rf "$tmp"
	# Built into a scratch directory, renamed only when complete: a live data dir is never wiped.
	as_pg pg_basebackup -h "$host" -p 5432 -U replicator -D "$tmp" -R -X stream -C -S "$slot" \
		-c fast --no-password
	unset PGPASSWORD
	sed -i "s/^primary_conninfo = '/primary_conninfo = 'application_name=$PG_NODE_NAME /" \
		"$tmp/postgresql.auto.conf"
	grep -q "^primary_conninfo = 'application_name=$PG_NODE_NAME " "$tmp/postgresql.auto.conf"
	mv "$tmp" "$PGDATA"
	log "standby built from $host (slot $slot)"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	case "$PG_ROLE" in
	primary) init_primary ;;
	standby) init_standby ;;
	*)
		log "unknown PG_ROLE $PG_ROLE"
		exit 1
		;;
	esac
fi

exec setpriv --reuid=postgres --regid=postgres --init-groups -- postgres -D "$PGDATA"
