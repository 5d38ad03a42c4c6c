#!/usr/bin/env bash
# What REDIS_WAIT_REPLICAS=1 costs (BENCHMARKS.md "Redis WAIT"): answer -> ack with a Redis
# primary and one replica on loopback (AOF, fsync always), a pool with one worker, 3 matches of
# 100 players (the README's load tool), WAIT 0 and 1 alternating, two rounds. Needs
# `npm run build` first and redis-server; ports from the environment (defaults below) must be free.
set -u
cd "$(dirname "$0")/../.."
P0=${PRIMARY_PORT:-16390}; P1=${REPLICA_PORT:-16391}; MP=${MATCH_PORT:-13901}
D=$(mktemp -d)
redis-server --port $P0 --bind 127.0.0.1 --save '' --appendonly yes --appendfsync always --dir $D --daemonize no >/dev/null 2>&1 & R0=$!
mkdir -p $D/r; redis-server --port $P1 --bind 127.0.0.1 --save '' --appendonly yes --appendfsync always --dir $D/r --replicaof 127.0.0.1 $P0 --daemonize no >/dev/null 2>&1 & R1=$!
sleep 2
for round in 1 2; do
  for W in 0 1; do
    REDIS_URL=redis://127.0.0.1:$P0 REDIS_WAIT_REPLICAS=$W MATCH_PORT=$MP HOST=127.0.0.1 HOST_ID=wait-$W MAX_WORKERS=1 MAX_MATCHES=3 LOG_LEVEL=warn QUESTION_INTRO_MS=0 FINISH_GRACE_MS=1000 \
      node dist/matchServerMaster.js > $D/master-$W-$round.log 2>&1 & M=$!
    for i in $(seq 1 50); do curl -sf http://127.0.0.1:$MP/health >/dev/null && break; sleep 0.2; done
    echo "=== round $round REDIS_WAIT_REPLICAS=$W"
    npx ts-node --transpile-only scripts/loadtest.ts --url http://127.0.0.1:$MP --matches 3 --players 100 --questions 5 --question-time 5 --duration 90 2>&1 | grep -E "answer -> ack|Answers"
    kill -TERM $M; wait $M 2>/dev/null; redis-cli -p $P0 flushall >/dev/null
  done
done
kill $R0 $R1; wait $R0 $R1 2>/dev/null; rm -rf $D
