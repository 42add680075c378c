#!/usr/bin/env bash
# System packages the test suite uses, from Debian: headless Chromium and its driver for the
# browser tests (tests/integration/test_web.py, test_dashboard.py; Selenium never downloads a driver) and
# redis-server for the distributed-crawl tests (tests/integration/test_distributed.py).
# Installs only what is missing; needs root (or sudo) the first time.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/redis-server ]; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver redis-server >/dev/null
