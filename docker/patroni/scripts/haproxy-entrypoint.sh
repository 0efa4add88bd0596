#!/bin/sh
# HAProxy entrypoint: private copy of the certificates (readable only by root, which loads them
# before HAProxy drops to user haproxy), then HAProxy in the foreground (master-worker).
set -eu
install -d -m 0700 /certs
install -m 0644 /certs-src/ca.crt /certs/ca.crt
install -m 0600 /certs-src/haproxy.pem /certs/haproxy.pem
export PGC_RO_CHECK="${PGC_RO_CHECK:-/replica}"
exec haproxy -W -db -f /pgc/haproxy.cfg
