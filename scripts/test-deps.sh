#!/usr/bin/env bash
# System packages the test suite uses for real servers (Debian/Ubuntu). Idempotent; quiet.
#   postgresql     - the suite's second run, on PostgreSQL
#   dovecot-imapd  - the IMAP server the email importer is tested against
#   swaks          - a real SMTP client for the SMTP receiver tests
#   redis-server   - the Redis channel layer test (an idle websocket must keep its pushes)
#   chromium       - the browser Playwright drives in tests/browser (its own download is not
#                    used: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD); chromium-driver for Selenium users
set -euo pipefail
packages=(postgresql postgresql-contrib dovecot-imapd swaks redis-server chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "test-deps: missing ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
