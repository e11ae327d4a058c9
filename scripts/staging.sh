#!/usr/bin/env bash
# scripts/staging.sh — the staging walk-through of issue #19: `jifen wechat-sim`
# as a process of its own and two `jifen serve` instances sharing one MariaDB
# database and one Redis, then login, phone, reminders, guide binding, robot
# summaries and the follower sync, alternating between the instances.
#
#   scripts/staging.sh            run it; exit 0 when every step passed
#
#   JIFEN_STAGING_MYSQL   host:port of MariaDB, user root without password
#                         (default 127.0.0.1:3306); a database
#                         jifen_staging_<pid> is created and dropped
#   JIFEN_STAGING_REDIS   Redis host:port (default 127.0.0.1:6379); keys
#                         under the prefix staging-<pid>:
#   JIFEN_STAGING_DIR     state folder (default a fresh mktemp -d; removed)
#   JIFEN_STAGING_BIN     a built jifen binary (default: go build into the folder)
#
# Needs bash, curl, jq and the mariadb client. Every process it starts is
# stopped by its PID on exit.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MYSQL_ADDR=${JIFEN_STAGING_MYSQL:-127.0.0.1:3306}
REDIS_ADDR=${JIFEN_STAGING_REDIS:-127.0.0.1:6379}
DIR=${JIFEN_STAGING_DIR:-$(mktemp -d /tmp/jifen-staging.XXXXXX)}
DB=jifen_staging_$$
RUN=$$-$(date +%s)
START=$(date +%s)
PIDS=()

log() { echo "staging: $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
sql() { mariadb -uroot -h"${MYSQL_ADDR%:*}" -P"${MYSQL_ADDR#*:}" -N -e "$1"; }

cleanup() {
  local rc=$? p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    for f in "$DIR"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  fi
  sql "DROP DATABASE IF EXISTS $DB" 2>/dev/null || true
  [ -n "${JIFEN_STAGING_DIR:-}" ] || rm -rf "$DIR"
  exit $rc
}
trap cleanup EXIT

# free_port: a loopback port nobody listens on right now.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

wait_up() { # url what
  for _ in $(seq 1 300); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "$2 did not come up at $1 within 60 s"
}

# call: a JSON request; a 4xx/5xx prints the answer and stops the script.
call() {
  local out
  out=$(curl -sS --fail-with-body -H 'Content-Type: application/json' "$@") || { echo "$out" >&2; fail "curl $*"; }
  echo "$out"
}

# --- the processes
BIN=${JIFEN_STAGING_BIN:-}
if [ -z "$BIN" ]; then
  log "building jifen"
  (cd "$ROOT" && go build -o "$DIR/jifen" ./cmd/jifen)
  BIN=$DIR/jifen
fi
sql "CREATE DATABASE $DB CHARACTER SET utf8mb4"

SIM_PORT=$(free_port)
SIM=http://127.0.0.1:$SIM_PORT
"$BIN" wechat-sim --addr "127.0.0.1:$SIM_PORT" >"$DIR/sim.log" 2>&1 &
PIDS+=($!)
wait_up "$SIM/_sim/calls" "jifen wechat-sim"

CONSOLE_PASSWORD=staging-admin-password
cat >"$DIR/jifen.yaml" <<EOF
rate_limit:
  per_ip_per_minute: 1000000
guides:
  summary_window_days: 366  # carol's granted points expire within it: her store has a summary today
console:
  users:
    - {username: admin, role: admin, password_hash: "$(echo "$CONSOLE_PASSWORD" | "$BIN" hash-password)"}
EOF

PORTS=("$(free_port)" "$(free_port)")
jifen_env() { # instance index 0 or 1
  echo "JIFEN_SERVER_ADDR=127.0.0.1:${PORTS[$1]}"
  echo "JIFEN_SERVER_METRICS_ADDR=off"
  echo "JIFEN_MYSQL_DSN=root@tcp($MYSQL_ADDR)/$DB?parseTime=true"
  echo "JIFEN_REDIS_ADDR=$REDIS_ADDR"
  echo "JIFEN_REDIS_PREFIX=staging-$$:"
  echo "JIFEN_AUTH_JWT_KEY=staging-jwt-key-0123456789abcdef0123456789abcdef"
  echo "JIFEN_ORDERS_WEBHOOK_SECRET=staging-webhook-secret-0123456789abcdef"
  echo "JIFEN_TASKS_TOKEN_KEY=staging-task-token-key-0123456789abcdef"
  echo "JIFEN_TASKS_REVIEW_HOOK_SECRET=staging-review-hook-secret-0123456789"
  echo "JIFEN_WECHAT_SIMULATOR=true"
  echo "JIFEN_WECHAT_SIMULATOR_URL=$SIM"
}
# jifen: a subcommand with instance 0's settings (the jobs honour the same
# WeChat settings as serve: they reach the simulator process, never Tencent).
jifen() { (cd "$DIR" && env $(jifen_env 0) "$BIN" "$@" --config "$DIR/jifen.yaml"); }

log "migrating $DB"
jifen migrate >"$DIR/migrate.log" 2>&1 || fail "jifen migrate"
for i in 0 1; do
  (cd "$DIR" && exec env $(jifen_env $i) "$BIN" serve --config "$DIR/jifen.yaml" >"$DIR/serve$i.log" 2>&1) &
  PIDS+=($!)
done
A=http://127.0.0.1:${PORTS[0]}
B=http://127.0.0.1:${PORTS[1]}
wait_up "$A/readyz" "serve A"
wait_up "$B/readyz" "serve B"
log "up in $(($(date +%s) - START)) s: simulator $SIM, serve $A and $B"

# --- login on A; the same session on B
LOGIN=$(call -X POST "$A/api/v1/shopper/login" -d "{\"code\":\"sim:alice-$RUN:1\"}")
ALICE=$(jq -r .access_token <<<"$LOGIN")
ALICE_ID=$(jq -r .member.id <<<"$LOGIN")
[ "$(call "$B/api/v1/shopper/me" -H "Authorization: Bearer $ALICE" | jq -r .member.id)" = "$ALICE_ID" ] ||
  fail "B does not know A's session"
# A login code works once, whichever instance sees it again.
ST=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -X POST "$B/api/v1/shopper/login" \
  -d "{\"code\":\"sim:alice-$RUN:1\"}")
[ "$ST" = 400 ] || fail "a used login code answered $ST on B, want 400"
log "login: member $ALICE_ID on A, the same on B; the used code refused"

# --- phone: a code from the simulator, used once
PHONE=139$(printf '%08d' $(($$ % 100000000)))
PCODE=$(call -X POST "$SIM/_sim/phone_codes" -d "{\"phone\":\"$PHONE\"}" | jq -r .code)
call -X POST "$B/api/v1/shopper/phone" -H "Authorization: Bearer $ALICE" -d "{\"code\":\"$PCODE\"}" >/dev/null
ANSWER=$(curl -sS -H 'Content-Type: application/json' -H "Authorization: Bearer $ALICE" -X POST "$A/api/v1/shopper/phone" \
  -d "{\"code\":\"$PCODE\"}")
[ "$(jq -r .error.code <<<"$ANSWER")" = INVALID_CODE ] || fail "a used phone code on A: $ANSWER"
log "phone: bound on B, the used code refused on A (INVALID_CODE)"

# --- reminders: a campaign made on B, sent by whichever dispatcher claims it
ADMIN=$(call -X POST "$B/api/v1/console/login" -d "{\"username\":\"admin\",\"password\":\"$CONSOLE_PASSWORD\"}" | jq -r .access_token)
call -X POST "$A/api/v1/console/members/$ALICE_ID/adjustments" -H "Authorization: Bearer $ADMIN" \
  -H "Idempotency-Key: staging-$RUN" -d '{"delta":200,"reason":"staging"}' >/dev/null
call -X POST "$A/api/v1/shopper/subscriptions" -H "Authorization: Bearer $ALICE" \
  -d '{"results":{"sim-tmpl-expiry":"accept"}}' >/dev/null
call -X POST "$SIM/_sim/subscriptions" \
  -d "{\"openid\":\"sim-openid-alice-$RUN\",\"template_id\":\"sim-tmpl-expiry\",\"count\":1}" >/dev/null
SEND_AT=$(date -u -d '+8 seconds' +%Y-%m-%dT%H:%M:%SZ)
CAMPAIGN=$(call -X POST "$B/api/v1/console/campaigns" -H "Authorization: Bearer $ADMIN" \
  -d "{\"name\":\"staging $RUN\",\"audience\":{\"expiring_within_days\":366,\"min_points\":100},
       \"channels\":[\"subscribe\"],\"quiet_hours\":\"\",\"schedule\":{\"once_at\":\"$SEND_AT\"}}" | jq -r .campaign.id)
call -X POST "$B/api/v1/console/campaigns/$CAMPAIGN/schedule" -H "Authorization: Bearer $ADMIN" >/dev/null
STATUS=
for _ in $(seq 1 60); do
  STATUS=$(call "$A/api/v1/console/campaigns/$CAMPAIGN/report" -H "Authorization: Bearer $ADMIN" | jq -r .campaign.status)
  [ "$STATUS" = done ] && break
  sleep 0.5
done
[ "$STATUS" = done ] || fail "campaign $CAMPAIGN is $STATUS after 30 s"
SENT=$(call "$SIM/_sim/delivered?to=sim-openid-alice-$RUN" | jq '[.[] | select(.api == "subscribe_send")] | length')
[ "$SENT" = 1 ] || fail "the simulator got $SENT subscribe messages for alice, want exactly 1 from two dispatchers"
log "reminders: campaign $CAMPAIGN done, one subscribe message delivered"

# --- guide binding (the guide's scene at first login), WeCom login, a grant
STORE=$(call -X POST "$B/api/v1/console/stores" -H "Authorization: Bearer $ADMIN" \
  -d "{\"name\":\"staging $RUN\",\"robot_key\":\"robot-$RUN\"}" | jq -r .store.id)
SCENE=$(call -X POST "$A/api/v1/console/guides" -H "Authorization: Bearer $ADMIN" \
  -d "{\"userid\":\"guide-$RUN\",\"name\":\"导购\",\"store_id\":$STORE,\"monthly_budget\":5000}" | jq -r .guide.scene)
CAROL=$(call -X POST "$B/api/v1/shopper/login" -d "{\"code\":\"sim:carol-$RUN:1\",\"scene\":\"$SCENE\"}" | jq -r .member.id)
GUIDE=$(call -X POST "$A/api/v1/guide/login" -d "{\"code\":\"sim-wecom:guide-$RUN:1\"}" | jq -r .access_token)
call -X POST "$B/api/v1/guide/grants" -H "Authorization: Bearer $GUIDE" -H "Idempotency-Key: grant-$RUN" \
  -d "{\"member_id\":$CAROL,\"points\":100,\"reason\":\"staging\"}" >/dev/null
log "guides: carol ($CAROL) bound through guide-$RUN's scene, granted 100 points"

# --- robot summaries: the daily job, run apart from serve, reaches the simulator process
OUT=$(jifen store-summaries 2>>"$DIR/jobs.log") || fail "jifen store-summaries"
ROBOT=$(call "$SIM/_sim/calls?api=webhook_send" | jq --arg k "robot-$RUN" '[.[] | select(.params.key == $k and .errcode == 0)] | length')
[ "$ROBOT" -ge 1 ] || fail "no robot message for robot-$RUN ($OUT)"
log "robot summaries: $OUT"

# --- follower sync: alice follows the official account; the job finds her unionid
call -X POST "$SIM/_sim/followers" -d "{\"user\":\"alice-$RUN\",\"subscribe\":true}" >/dev/null
OUT=$(jifen followers-sync 2>>"$DIR/jobs.log") || fail "jifen followers-sync"
LOOKED=$(call "$SIM/_sim/calls?api=user/info" | jq --arg o "sim-oa-openid-alice-$RUN" '[.[] | select(.params.openid == $o and .errcode == 0)] | length')
[ "$LOOKED" -ge 1 ] || fail "followers-sync did not look alice up ($OUT)"
[ "$(sql "SELECT COUNT(*) FROM $DB.official_followers WHERE openid = 'sim-oa-openid-alice-$RUN' AND unionid = 'sim-unionid-alice-$RUN' AND subscribed")" = 1 ] ||
  fail "alice is not a stored follower with her unionid: $(sql "SELECT openid, unionid, subscribed, updated_at FROM $DB.official_followers")"
log "followers: $OUT"

# --- nothing reached Tencent, nothing failed
for i in 0 1; do
  if grep -q '"level":"ERROR"' "$DIR/serve$i.log"; then
    grep '"level":"ERROR"' "$DIR/serve$i.log" | head -5 >&2
    fail "serve $i logged errors"
  fi
done
log "passed in $(($(date +%s) - START)) s"
