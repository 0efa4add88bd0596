#!/usr/bin/env bash
# Installs what pgconform needs from Debian's packages; quick when all is there.
# Idempotent: only missing packages are fetched.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libcmocka-dev check libpq-dev libcurl4-openssl-dev
      libcjson-dev postgresql-client libxml2-utils openssl debootstrap docker.io docker-compose
      clang-format valgrind curl ca-certificates iproute2 chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "pgconform: missing packages (${missing[*]}) and not root; install them and retry." >&2
    exit 2
  fi
  echo "pgconform: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
