#!/usr/bin/env bash
# The report tests render HTML in headless Chromium (Debian's package). Install it when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-chromium: chromium is missing and this user cannot apt-get install it" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: installing Debian's chromium for the report tests" >&2
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
