#!/usr/bin/env bash
# A private, throw-away Dovecot IMAP server on 127.0.0.1 for the email importer's tests.
#   scripts/dovecot.sh up     -> writes a minimal config, starts dovecot, waits for "* OK"
#   scripts/dovecot.sh down   -> stops it
# Settings: DOVECOT_DIR (default /tmp/frontline-dovecot), DOVECOT_PORT (default 10143).
# One user: support@example.test, password "secret" (plain IMAP, no TLS: local tests only).
# Deliver like an MTA would:
#   /usr/lib/dovecot/dovecot-lda -c "$DOVECOT_DIR/dovecot.conf" -d support@example.test < mail.eml
set -euo pipefail
D=${DOVECOT_DIR:-/tmp/frontline-dovecot}
PORT=${DOVECOT_PORT:-10143}
CONF=$D/dovecot.conf
action=${1:-up}

dovecot_bin() {
  command -v dovecot 2>/dev/null || { [ -x /usr/sbin/dovecot ] && echo /usr/sbin/dovecot; } || true
}

greeting_ok() {
  # Read the "* OK" greeting and log out politely (a bare connect makes dovecot complain).
  local line=""
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null || return 1
  IFS= read -r -t 2 line <&3 || true
  printf 'a LOGOUT\r\n' >&3 || true
  exec 3<&- 3>&- || true
  [[ $line == "* OK"* ]]
}

case "$action" in
  up)
    BIN=$(dovecot_bin)
    if [ -z "$BIN" ]; then
      if [ "$(id -u)" != 0 ]; then
        echo "dovecot.sh: dovecot is not installed (apt-get install dovecot-imapd)" >&2
        exit 1
      fi
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
      BIN=$(dovecot_bin)
    fi
    if [ -f "$D/run/master.pid" ] && kill -0 "$(cat "$D/run/master.pid")" 2>/dev/null \
      && greeting_ok; then
      exit 0  # already running
    fi
    install -d -m 755 "$D" "$D/run" "$D/state"
    if [ "$(id -u)" = 0 ]; then
      mail_user=nobody
      mail_group=nogroup
      getent group nogroup >/dev/null || mail_group=nobody
      install -d -o "$mail_user" -g "$mail_group" -m 755 "$D/mail"
      extra=""
    else
      # Unprivileged: every dovecot process runs as the calling user.
      mail_user=$(id -un)
      mail_group=$(id -gn)
      install -d -m 755 "$D/mail"
      extra="default_login_user = $mail_user
default_internal_user = $mail_user"
    fi
    printf 'support@example.test:{PLAIN}secret::::::\n' >"$D/users"
    chmod 644 "$D/users"
    cat >"$CONF" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests log in with wrong passwords on purpose: no failure delay, and no per-IP auth penalty
# (auth cannot reach the anvil penalty socket, which disables it).
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_uid = $mail_user
mail_gid = $mail_group
first_valid_uid = 1
first_valid_gid = 1
$extra
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/users
}
userdb {
  driver = static
  args = home=$D/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol lda {
  postmaster_address = postmaster@example.test
}
CONF
    # Dovecot daemonises; its stdio must not hold the caller's pipes open.
    "$BIN" -c "$CONF" </dev/null >>"$D/dovecot.stdio.log" 2>&1
    for _ in $(seq 1 100); do
      if greeting_ok; then
        echo "127.0.0.1:$PORT"
        exit 0
      fi
      sleep 0.1
    done
    echo "dovecot.sh: no IMAP greeting on 127.0.0.1:$PORT; see $D/dovecot.log" >&2
    tail -n 20 "$D/dovecot.log" "$D/dovecot.stdio.log" >&2 2>/dev/null || true
    exit 1
    ;;
  down)
    BIN=$(dovecot_bin)
    if [ -f "$D/run/master.pid" ]; then
      pid=$(cat "$D/run/master.pid")
      if [ -n "$BIN" ] && [ -f "$CONF" ]; then
        "$BIN" -c "$CONF" stop </dev/null >>"$D/dovecot.stdio.log" 2>&1 || true
      fi
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    fi
    ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
