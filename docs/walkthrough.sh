#!/usr/bin/env bash
# The README's walk-through, top to bottom, against a fresh embedded
# `go run ./cmd/jifen serve` (SQLite + in-process Redis + WeChat simulator).
# Needs bash, curl, jq and openssl. cmd/jifen's TestWalkthrough runs this very
# file against a real server, so it cannot go stale. The README shows the
# "# --- " sections, the core journey, as its blocks (a test checks they do
# not drift); the "# +++ " sections go further (sign-in, tasks, referral,
# lottery, a campaign, a shop guide) and run here only.
#
#   JIFEN_URL   where serve listens (default http://127.0.0.1:8080)
#   JIFEN       how to run the jifen command (default: go run ./cmd/jifen)
set -euo pipefail
shopt -s inherit_errexit

# --- setup
B=${JIFEN_URL:-http://127.0.0.1:8080}
JIFEN=${JIFEN:-go run ./cmd/jifen}
# RUN makes names and keys unique, so the script runs again on the same server.
RUN=$(date +%s)
# call: a JSON request; a 4xx/5xx prints the error and stops the script.
call() {
  local out
  out=$(curl -sS --fail-with-body -H 'Content-Type: application/json' "$@") || { echo "$out" >&2; return 1; }
  echo "$out"
}

# --- a shopper logs in; the console adjusts points
# Simulator codes: sim:<user>:<nonce> logs in <user> (once), sim-phone:<digits> a phone.
ALICE_LOGIN=$(call -X POST "$B/api/v1/shopper/login" -d "{\"code\":\"sim:alice-$RUN:1\"}")
ALICE=$(jq -r .access_token <<<"$ALICE_LOGIN")
ALICE_ID=$(jq -r .member.id <<<"$ALICE_LOGIN")
call -X POST "$B/api/v1/shopper/phone" -H "Authorization: Bearer $ALICE" \
  -d "{\"code\":\"sim-phone:139${RUN: -8}\"}"
call "$B/api/v1/shopper/me" -H "Authorization: Bearer $ALICE"

ADMIN=$(call -X POST "$B/api/v1/console/login" \
  -d '{"username":"admin","password":"admin123"}' | jq -r .access_token)
# A goodwill 200 points; the Idempotency-Key makes a retry pay once.
call -X POST "$B/api/v1/console/members/$ALICE_ID/adjustments" \
  -H "Authorization: Bearer $ADMIN" -H "Idempotency-Key: goodwill-$RUN" \
  -d '{"delta":200,"reason":"客服补偿"}'

# --- rules and an order
# 1 point per yuan (exclusive: a second run's rule does not add to the first's); the order event
# is signed: hex HMAC-SHA256(secret, ts + "." + body).
call -X POST "$B/api/v1/console/rules" -H "Authorization: Bearer $ADMIN" \
  -d '{"name":"基础","trigger":"order_paid","stacking":"exclusive","effect":{"kind":"rate","brackets":[{"from_fen":0,"per_mille":1000}]}}'
ORDER_ID="O-$RUN"
ORDER=$(jq -nc --arg ev "ev-$RUN" --arg order "$ORDER_ID" --arg openid "sim-openid-alice-$RUN" \
  --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  '{event_id:$ev,type:"paid",order_id:$order,member:{openid:$openid},store_id:"S001",channel:"mini",
    occurred_at:$at,total_fen:12000,lines:[{sku:"A1",category:"A",qty:1,amount_fen:12000}]}')
WEBHOOK_SECRET=jifen-dev-webhook-secret-NOT-FOR-PRODUCTION   # the embedded default's
TS=$(date +%s)
SIG=$(printf '%s' "$TS.$ORDER" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" -hex | sed 's/.* //')
call -X POST "$B/api/v1/hooks/orders" -H "X-Jifen-Timestamp: $TS" -H "X-Jifen-Signature: $SIG" -d "$ORDER"
# 120 points, pending until the return window (7 days) ends
call "$B/api/v1/shopper/orders/$ORDER_ID/points" -H "Authorization: Bearer $ALICE"

# +++ sign-in, a task, referral
call -X POST "$B/api/v1/shopper/signin" -H "Authorization: Bearer $ALICE"
MONTH=$(TZ=Asia/Shanghai date +%Y-%m)   # days are Asia/Shanghai days
call "$B/api/v1/shopper/signin/calendar?month=$MONTH" -H "Authorization: Bearer $ALICE"

SHARE_TASK_ID=$(call -X POST "$B/api/v1/console/tasks" -H "Authorization: Bearer $ADMIN" \
  -d '{"type":"share","title":"分享好物","period":"daily","target":1,"reward_points":15}' | jq -r .task.id)
call -X POST "$B/api/v1/shopper/events/share" -H "Authorization: Bearer $ALICE" -d '{"page":"/pages/home"}'
call -X POST "$B/api/v1/shopper/tasks/$SHARE_TASK_ID/claim" -H "Authorization: Bearer $ALICE" \
  -H "Idempotency-Key: share-claim-$RUN"

INVITE_CODE=$(call "$B/api/v1/shopper/referral" -H "Authorization: Bearer $ALICE" | jq -r .code)
BOB=$(call -X POST "$B/api/v1/shopper/login" \
  -d "{\"code\":\"sim:bob-$RUN:1\",\"invite_code\":\"$INVITE_CODE\"}" | jq -r .access_token)
call -X POST "$B/api/v1/shopper/phone" -H "Authorization: Bearer $BOB" \
  -d "{\"code\":\"sim-phone:138${RUN: -8}\"}"
call "$B/api/v1/shopper/referral" -H "Authorization: Bearer $ALICE" | jq .rewards_earned   # 100

# +++ a lottery draw and a reminder campaign
STARTS=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
ENDS=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
LOTTERY_ID=$(call -X POST "$B/api/v1/console/lottery/campaigns" -H "Authorization: Bearer $ADMIN" \
  -d "{\"name\":\"周末抽奖\",\"starts_at\":\"$STARTS\",\"ends_at\":\"$ENDS\",\"cost_points\":20,\"free_per_day\":1,
       \"limit_daily\":5,\"pity_after\":5,\"prizes\":[{\"name\":\"100积分\",\"kind\":\"points\",\"points\":100,\"weight\":10,\"stock\":50},
       {\"name\":\"谢谢参与\",\"kind\":\"nothing\",\"weight\":90}]}" | jq -r .campaign.id)
call -X POST "$B/api/v1/shopper/lottery/campaigns/$LOTTERY_ID/draws" -H "Authorization: Bearer $ALICE" \
  -H "Idempotency-Key: draw-$RUN"

# Alice accepts the expiry subscription; the simulated WeChat grants that quota.
call -X POST "$B/api/v1/shopper/subscriptions" -H "Authorization: Bearer $ALICE" \
  -d '{"results":{"sim-tmpl-expiry":"accept"}}'
call -X POST "$B/_sim/subscriptions" \
  -d "{\"openid\":\"sim-openid-alice-$RUN\",\"template_id\":\"sim-tmpl-expiry\",\"count\":1}"
SEND_AT=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
CAMPAIGN_ID=$(call -X POST "$B/api/v1/console/campaigns" -H "Authorization: Bearer $ADMIN" \
  -d "{\"name\":\"积分提醒 $RUN\",\"audience\":{\"expiring_within_days\":366,\"min_points\":100},
       \"channels\":[\"subscribe\"],\"quiet_hours\":\"\",\"schedule\":{\"once_at\":\"$SEND_AT\"}}" | jq -r .campaign.id)
call -X POST "$B/api/v1/console/campaigns/$CAMPAIGN_ID/dry-run" -H "Authorization: Bearer $ADMIN"
call -X POST "$B/api/v1/console/campaigns/$CAMPAIGN_ID/schedule" -H "Authorization: Bearer $ADMIN"
# serve's dispatcher runs every reminder.dispatch_every (5s): wait for the run
for _ in $(seq 60); do
  STATUS=$(call "$B/api/v1/console/campaigns/$CAMPAIGN_ID/report" -H "Authorization: Bearer $ADMIN" | jq -r .campaign.status)
  [ "$STATUS" = done ] && break
  sleep 1
done
call "$B/api/v1/console/campaigns/$CAMPAIGN_ID/report" -H "Authorization: Bearer $ADMIN"
call "$B/_sim/delivered?to=sim-openid-alice-$RUN"

# +++ a shop guide: binding and grant
STORE_ID=$(call -X POST "$B/api/v1/console/stores" -H "Authorization: Bearer $ADMIN" \
  -d "{\"name\":\"静安店 $RUN\",\"robot_key\":\"robot-$RUN\"}" | jq -r .store.id)
GUIDE_SCENE=$(call -X POST "$B/api/v1/console/guides" -H "Authorization: Bearer $ADMIN" \
  -d "{\"userid\":\"zhangsan-$RUN\",\"name\":\"张三\",\"store_id\":$STORE_ID,\"monthly_budget\":5000}" | jq -r .guide.scene)
# Carol opens the mini-program from the guide's code: bound at first login.
CAROL_ID=$(call -X POST "$B/api/v1/shopper/login" \
  -d "{\"code\":\"sim:carol-$RUN:1\",\"scene\":\"$GUIDE_SCENE\"}" | jq -r .member.id)
# The guide logs in through WeCom OAuth (simulator code sim-wecom:<userid>:<nonce>).
GUIDE=$(call -X POST "$B/api/v1/guide/login" -d "{\"code\":\"sim-wecom:zhangsan-$RUN:1\"}" | jq -r .access_token)
call -X POST "$B/api/v1/guide/grants" -H "Authorization: Bearer $GUIDE" -H "Idempotency-Key: grant-$RUN" \
  -d "{\"member_id\":$CAROL_ID,\"points\":100,\"reason\":\"到店体验\"}"
call "$B/api/v1/guide/me" -H "Authorization: Bearer $GUIDE"

# --- the points mall
COUPON_ID=$(call -X POST "$B/api/v1/console/mall/items" -H "Authorization: Bearer $ADMIN" \
  -d "{\"kind\":\"coupon\",\"name\":\"咖啡券 $RUN\",\"category\":\"coffee\",\"points\":100,\"stock\":3,
       \"limit_total\":1,\"enabled\":true}" | jq -r .item.id)
printf 'code\nCF-%s-1\nCF-%s-2\nCF-%s-3\n' "$RUN" "$RUN" "$RUN" |
  curl -sS --fail-with-body -H 'Content-Type: text/csv' -H "Authorization: Bearer $ADMIN" \
    --data-binary @- "$B/api/v1/console/mall/items/$COUPON_ID/codes" | jq -c .   # {"added":3,"skipped":0}
call -X POST "$B/api/v1/shopper/mall/items/$COUPON_ID/redemptions" -H "Authorization: Bearer $ALICE" \
  -H "Idempotency-Key: coupon-$RUN" | jq '{status: .redemption.status, code: .redemption.coupon_code}'
call "$B/api/v1/shopper/me" -H "Authorization: Bearer $ALICE" | jq .points   # 100 points fewer available

# --- points as cash at checkout, then reconcile
# hook PATH BODY [IDEMPOTENCY-KEY]: a signed server-to-server POST, as the order event above.
hook() {
  local ts sig
  ts=$(date +%s)
  sig=$(printf '%s' "$ts.$2" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" -hex | sed 's/.* //')
  call -X POST "$B$1" -H "X-Jifen-Timestamp: $ts" -H "X-Jifen-Signature: $sig" ${3:+-H "Idempotency-Key: $3"} -d "$2"
}
CART=$(jq -nc --argjson m "$ALICE_ID" \
  '{member_id:$m,currency:"CNY",total_fen:2000,lines:[{sku:"B1",category:"A",qty:1,amount_fen:2000}]}')
# Quote: by default 100 points = 1 元, at most half the order, so up to 1,000 points here.
USE=$(hook /api/v1/hooks/checkout/quote "$CART" | jq .quote.usable_points)
# Hold them for order C-$RUN until it is paid (15 minutes by default).
HOLD_ID=$(hook /api/v1/hooks/checkout/holds "$(jq -c --arg o "C-$RUN" --argjson p "$USE" \
  '. + {order_id:$o,points:$p,value_fen:$p}' <<<"$CART")" "hold-$RUN" | jq .hold.id)
# The paid order event names the hold: captured in the event's own transaction.
hook /api/v1/hooks/orders "$(jq -nc --arg o "C-$RUN" --argjson m "$ALICE_ID" --argjson h "$HOLD_ID" \
  --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{event_id:("ev-"+$o),type:"paid",order_id:$o,member:{member_id:$m},
    occurred_at:$at,total_fen:2000,points_hold_id:$h,lines:[{sku:"B1",category:"A",qty:1,amount_fen:2000}]}')"
# Half the order refunded: half the points used come back, into the lots they came from.
hook /api/v1/hooks/orders "$(jq -nc --arg o "C-$RUN" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  '{event_id:("ev-r-"+$o),type:"refunded",order_id:$o,occurred_at:$at,
    refund_lines:[{sku:"B1",qty:1,amount_fen:1000}]}')" | jq .points_returned
call "$B/api/v1/shopper/orders/C-$RUN/points" -H "Authorization: Bearer $ALICE" | jq -c '{points_used, points_returned}'

# Every ledger invariant of every account: run where serve runs (it reads serve's ./data)
$JIFEN reconcile
