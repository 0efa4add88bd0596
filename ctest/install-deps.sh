#!/usr/bin/env bash
# Installs what pgconform needs from Debian's packages; quick when everything is there.
# Idempotent: only missing packages are fetched. Docker is taken as found when an engine or
# CLI is already installed; chromium (for the report screenshot test) only where apt has it.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libcmocka-dev check libpq-dev libcurl4-openssl-dev
      libcjson-dev postgresql-client libxml2-utils openssl debootstrap clang-format valgrind
      curl ca-certificates iproute2)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
command -v dockerd >/dev/null 2>&1 || pkgs+=(docker.io)
{ command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; } ||
	pkgs+=(docker-compose)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ! command -v chromium >/dev/null 2>&1 && apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
	missing+=(chromium)
fi
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
