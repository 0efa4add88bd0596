#!/bin/sh
# etcd member entrypoint: private copy of the certificates, then etcd with client and peer mTLS.
# Env: PGC_ETCD_NAME (etcd1..3), PGC_ETCD_IP (its cluster address).
set -eu
name=${PGC_ETCD_NAME:?}
ip=${PGC_ETCD_IP:?}

install -d -m 0700 /certs
install -m 0644 /certs-src/ca.crt /certs/ca.crt
install -m 0644 "/certs-src/$name.crt" /certs/server.crt
install -m 0600 "/certs-src/$name.key" /certs/server.key

exec etcd \
  --name "$name" \
  --data-dir /var/lib/etcd/data \
  --listen-client-urls https://0.0.0.0:2379 \
  --advertise-client-urls "https://$ip:2379" \
  --listen-peer-urls https://0.0.0.0:2380 \
  --initial-advertise-peer-urls "https://$ip:2380" \
  --initial-cluster etcd1=https://10.20.0.21:2380,etcd2=https://10.20.0.22:2380,etcd3=https://10.20.0.23:2380 \
  --initial-cluster-state new \
  --initial-cluster-token pgc-patroni \
  --client-cert-auth --trusted-ca-file /certs/ca.crt \
  --cert-file /certs/server.crt --key-file /certs/server.key \
  --peer-client-cert-auth --peer-trusted-ca-file /certs/ca.crt \
  --peer-cert-file /certs/server.crt --peer-key-file /certs/server.key \
  --logger zap --log-level warn
