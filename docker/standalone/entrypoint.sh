#!/bin/sh
# pgconform standalone entrypoint, shared by the PostgreSQL 15, 16 and 17 images.
#
# As root: create the data and socket directories, give them to user postgres, then re-run this
# script as postgres (PostgreSQL refuses to run as root). As postgres: initdb on the first start
# only (PG_VERSION absent), optional self-signed TLS (PG_TLS=on), then exec postgres so it is
# PID 1 and receives docker's stop signal (STOPSIGNAL SIGINT = fast shutdown).
#
# Environment: PGBIN (set by the image), PGDATA (default /var/lib/postgresql/data),
# POSTGRES_PASSWORD (required for the first start; never printed), PG_TLS (on|off, default off).
# Extra arguments are passed to postgres.
set -eu

: "${PGBIN:?PGBIN must name the PostgreSQL bin directory}"
PGDATA=${PGDATA:-/var/lib/postgresql/data}
PG_TLS=${PG_TLS:-off}
SOCKDIR=/var/run/postgresql
export PGDATA

log() { printf 'pgc-entrypoint: %s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" "$SOCKDIR"
	# Only what is not already ours: cheap on every start, fixes a fresh volume's root-owned top.
	find "$PGDATA" "$SOCKDIR" ! -user postgres -exec chown postgres:postgres {} +
	chmod 700 "$PGDATA"
	chmod 2775 "$SOCKDIR"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		log "POSTGRES_PASSWORD is empty: refusing to initialise $PGDATA"
		exit 1
	fi
	pwfile=$(mktemp) # mode 0600, owned by postgres
	trap 'rm -f "$pwfile"' EXIT INT TERM
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	"$PGBIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8
	rm -f "$pwfile"
	trap - EXIT INT TERM
	cat >"$PGDATA/pg_hba.conf" <<'HBA'
# pgconform standalone: written by pgc-entrypoint at initdb
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   0.0.0.0/0     scram-sha-256
host    all       all   ::/0          scram-sha-256
HBA
	log "initialised $PGDATA"
fi
unset POSTGRES_PASSWORD

set -- -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories="$SOCKDIR" "$@"
case $PG_TLS in
on | true | 1)
	crt=$PGDATA/server.crt
	key=$PGDATA/server.key
	if [ ! -s "$crt" ] || [ ! -s "$key" ]; then
		host=$(hostname)
		(
			umask 077
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-days 3650 -subj "/CN=$host" \
				-addext "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1" \
				-keyout "$key" -out "$crt" 2>/dev/null
		)
		log "created self-signed server certificate for $host"
	fi
	set -- "$@" -c ssl=on -c ssl_cert_file="$crt" -c ssl_key_file="$key"
	;;
off | false | 0 | '')
	set -- "$@" -c ssl=off
	;;
*)
	log "PG_TLS must be on or off, not '$PG_TLS'"
	exit 1
	;;
esac

exec "$PGBIN/postgres" "$@"
