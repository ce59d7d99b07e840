#!/usr/bin/env bash
# Debian packages the tests use: Chromium (browser tests) and a single-node Slurm (scheduler
# test). Installed only when missing and when we may (root); otherwise those tests skip and say so.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v slurmctld >/dev/null || need+=(slurmctld)
command -v slurmd >/dev/null || need+=(slurmd)
command -v sinfo >/dev/null || need+=(slurm-client)
command -v munged >/dev/null || [ -x /usr/sbin/munged ] || need+=(munge)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: missing ${need[*]}; not root or no apt-get, the tests that need them skip" >&2
  exit 0
fi
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
