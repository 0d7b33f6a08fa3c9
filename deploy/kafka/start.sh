#!/bin/bash
# The broker with SASL/SCRAM and ACLs (ADR 0027). The broker starts as the
# image does; once it answers on its loopback-only listener (whose anonymous
# principal is the only super user, unreachable from the network), every
# principal gets its SCRAM credential and its ACLs, then /tmp/hub-acls-ready
# tells the healthcheck the broker may serve. Passwords come from the
# environment: KAFKA_PASSWORD_<PRINCIPAL> (upper case).
set -euo pipefail
rm -f /tmp/hub-acls-ready
/etc/kafka/docker/run &
BROKER=$!
BIN=/opt/kafka/bin
LOCAL=127.0.0.1:9091
until "$BIN/kafka-broker-api-versions.sh" --bootstrap-server "$LOCAL" >/dev/null 2>&1; do
  kill -0 "$BROKER" || exit 1
  sleep 2
done
PREFIX="${HUB_TOPIC_PREFIX:-}"
acl() { "$BIN/kafka-acls.sh" --bootstrap-server "$LOCAL" "$@" >/dev/null; }
# shellcheck source=deploy/kafka/acls.sh
source /opt/hub/acls.sh
for principal in $PRINCIPALS; do
  variable="KAFKA_PASSWORD_${principal^^}"
  password="${!variable:?$variable is not set}"
  "$BIN/kafka-configs.sh" --bootstrap-server "$LOCAL" --alter --entity-type users \
    --entity-name "$principal" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=${password}]" >/dev/null
done
touch /tmp/hub-acls-ready
wait "$BROKER"
