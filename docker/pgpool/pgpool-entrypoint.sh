#!/bin/sh
# Entrypoint of the pgpool container (image pgconform/pgpool:4.6). Starts as root, renders
# pgpool.conf and pool_passwd from the environment into /etc/pgpool-run (never in git), waits until
# both standbys stream from the primary, then execs pgpool as user postgres in the foreground.
#
# Environment:
#   DB_ROOT_PASSWORD       password of postgres (pool_passwd: pgpool does SCRAM on both sides)
#   PGPOOL_CHECK_PASSWORD  password of pgpool (health_check_user, sr_check_user)
#   PGPOOL_BACKENDS        "name=ip,..." in backend order, first is the primary
#                          (default pg_node1=10.30.0.11,pg_node2=10.30.0.12,pg_node3=10.30.0.13)
#   PGPOOL_WEIGHTS         backend weights "w0,w1,w2" (default 1,1,1)
#   PGPOOL_CHILDREN        num_init_children (default 8); max_pool is 2
#   PGPOOL_RESERVED        reserved_connections (default 0: clients over the limit queue)
#   PGPOOL_WAIT_STREAM_S   deadline for "2 standbys streaming" before starting anyway (default 60)
set -eu

RUN=/etc/pgpool-run
BACKENDS=${PGPOOL_BACKENDS:-pg_node1=10.30.0.11,pg_node2=10.30.0.12,pg_node3=10.30.0.13}
WEIGHTS=${PGPOOL_WEIGHTS:-1,1,1}
CHILDREN=${PGPOOL_CHILDREN:-8}
RESERVED=${PGPOOL_RESERVED:-0}
: "${DB_ROOT_PASSWORD:?DB_ROOT_PASSWORD is required}"
: "${PGPOOL_CHECK_PASSWORD:?PGPOOL_CHECK_PASSWORD is required}"

log() { echo "pgpool-entrypoint: $*" >&2; }

case "$CHILDREN$RESERVED" in
*[!0-9]*)
	log "PGPOOL_CHILDREN/PGPOOL_RESERVED must be integers"
	exit 1
	;;
esac

mkdir -p "$RUN" /var/run/pgpool /var/log/pgpool
chown postgres:postgres "$RUN" /var/run/pgpool /var/log/pgpool
chmod 0700 "$RUN"
conf="$RUN/pgpool.conf"

cat >"$conf" <<EOF
# Rendered by pgpool-entrypoint.sh at container start.
backend_clustering_mode = 'streaming_replication'
listen_addresses = '*'
port = 9999
unix_socket_directories = '/var/run/pgpool'
pcp_listen_addresses = ''
pcp_port = 9898
pcp_socket_dir = '/var/run/pgpool'
pid_file_name = '/var/run/pgpool/pgpool.pid'
logdir = '/var/log/pgpool'
log_destination = 'stderr'
log_line_prefix = '%m: %a pid %p: '
log_min_messages = warning
log_connections = off
log_statement = off
log_per_node_statement = off

# Authentication: no pool_hba; pool_passwd holds clear-text (TEXT) passwords, so pgpool can do
# SCRAM with the client and with every backend.
enable_pool_hba = off
pool_passwd = 'pool_passwd'
allow_clear_text_frontend_auth = off
authentication_timeout = 30
ssl = off

# Pooling: small on purpose (exhaustion is testable); 8 x 2 x 3 backends << max_connections 100.
num_init_children = $CHILDREN
max_pool = 2
reserved_connections = $RESERVED
listen_backlog_multiplier = 2
connection_cache = ${PGPOOL_CONNECTION_CACHE:-on}
child_life_time = 300
child_max_connections = 0
connection_life_time = 0
client_idle_limit = 0

# Load balancing.
load_balance_mode = on
# after a write, the session's reads stay on the primary (read-your-writes under async replication)
disable_load_balance_on_write = 'always'
statement_level_load_balance = off
delay_threshold = 0

# Streaming-replication check (fills replication_state / replication_sync_state of SHOW POOL_NODES).
sr_check_period = 1
sr_check_user = 'pgpool'
sr_check_password = ''
sr_check_database = 'postgres'

# Health check: a dead backend is detached within ~period + 2 x (timeout) + retry_delay.
health_check_period = 1
health_check_timeout = 2
health_check_user = 'pgpool'
health_check_password = ''
health_check_database = 'postgres'
health_check_max_retries = 1
health_check_retry_delay = 1
connect_timeout = 2000

# No automatic promotion: detach only. A standby that streams again is re-attached.
failover_command = ''
failback_command = ''
follow_primary_command = ''
failover_on_backend_error = off
failover_on_backend_shutdown = off
detach_false_primary = off
search_primary_node_timeout = 2
auto_failback = on
auto_failback_interval = 1

use_watchdog = off
memory_cache_enabled = off
EOF

i=0
for b in $(echo "$BACKENDS" | tr ',' ' '); do
	name=${b%%=*}
	ip=${b#*=}
	w=$(echo "$WEIGHTS" | cut -d, -f$((i + 1)))
	case "$w" in
	'' | *[!0-9.]*)
		log "PGPOOL_WEIGHTS=$WEIGHTS has no numeric weight for backend $i"
		exit 1
		;;
	esac
	cat >>"$conf" <<EOF
backend_hostname$i = '$ip'
backend_port$i = 5432
backend_weight$i = $w
backend_flag$i = 'ALLOW_TO_FAILOVER'
backend_application_name$i = '$name'
EOF
	i=$((i + 1))
done
if [ "$i" -lt 2 ]; then
	log "PGPOOL_BACKENDS needs a primary and at least one standby"
	exit 1
fi
primary_ip=$(echo "$BACKENDS" | cut -d, -f1 | cut -d= -f2)
standbys=$((i - 1))
# application_name of each standby, as a SQL list ('pg_node2','pg_node3'). Filtering on it matters:
# a standby's pg_basebackup -X stream shows up in pg_stat_replication as 'streaming' too.
names=$(echo "$BACKENDS" | tr ',' '\n' | tail -n +2 | sed "s/=.*//; s/.*/'&'/" | paste -sd, -)

umask 077
printf 'postgres:TEXT%s\npgpool:TEXT%s\n' "$DB_ROOT_PASSWORD" "$PGPOOL_CHECK_PASSWORD" >"$RUN/pool_passwd"
: >"$RUN/pcp.conf"
chown postgres:postgres "$RUN/pool_passwd" "$RUN/pcp.conf" "$conf"

# Start only when every standby streams from the primary (else pgpool marks them down at start;
# auto_failback would re-attach them later, so after the deadline start anyway).
deadline=$(($(date +%s) + ${PGPOOL_WAIT_STREAM_S:-60}))
while :; do
	n=$(PGPASSWORD="$PGPOOL_CHECK_PASSWORD" PGCONNECT_TIMEOUT=2 psql -X -A -t -h "$primary_ip" -U pgpool \
		-d postgres -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND application_name IN ($names)" \
		2>/dev/null || echo 0)
	[ "$n" -ge "$standbys" ] && break
	if [ "$(date +%s)" -ge "$deadline" ]; then
		log "WARNING: only $n of $standbys standbys streaming after the deadline; starting anyway"
		break
	fi
	sleep 0.5
done
log "$n standbys streaming; starting pgpool"

# -D: discard the pgpool_status of an earlier run (every node is probed afresh).
exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
	pgpool -n -D -f "$conf" -F "$RUN/pcp.conf"
