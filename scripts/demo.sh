#!/usr/bin/env bash
# The demo story: a spam model is built on three videos and released through staging to
# production; two more videos arrive; `retrain` ingests them, rebuilds, lets the gate decide
# and releases the winner, while production keeps answering every request.
set -uo pipefail
DEMO=${DEMO_DIR:-demo}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$DEMO"
say "champion init $DEMO --template youtube-spam"
champion init "$DEMO" --template youtube-spam || exit 1
cd "$DEMO"
trap 'say "champion down   (stop the endpoints)"; champion down' EXIT

say "champion build spam   (first model: trained on Psy, KatyPerry, LMFAO)"
champion build spam || exit 1

say "champion release spam   (staging -> smoke test -> production -> smoke test)"
champion release spam || exit 1

PROD=$(champion ps production --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["url"])')
say "curl -X POST $PROD/score -d '{\"data\": [...]}'"
curl -sS -X POST "$PROD/score" -H 'content-type: application/json' \
  -d '{"data": ["Check out my channel, subscribe!!! http://example.com", "This song never gets old"]}'
echo

say "Eminem and Shakira arrive: champion retrain spam --new-data data/retraining/*.csv"
echo "(meanwhile a client scores against production every 50 ms and counts failures)"
: > ../.demo-load.log
( while [ ! -f ../.demo-load.stop ]; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST "$PROD/score" -H 'content-type: application/json' \
      -d '{"data": ["Free iPhone giveaway, click the link in my profile"]}' >> ../.demo-load.log
    sleep 0.05
  done ) &
LOAD=$!
rm -f ../.demo-load.stop
args=()
for f in data/retraining/*.csv; do args+=(--new-data "$f"); done
champion retrain spam "${args[@]}"
code=$?
touch ../.demo-load.stop; wait $LOAD; rm -f ../.demo-load.stop
total=$(wc -l < ../.demo-load.log); failed=$(grep -vc '^200$' ../.demo-load.log)
echo "production answered $total requests during the retrain: $failed failed"
rm -f ../.demo-load.log
case $code in
  0) echo "(exit 0: promoted and released)" ;;
  3) echo "(exit 3: rejected, the champion stays in production)" ;;
  *) exit $code ;;
esac

say "champion history spam   (every alias move: who, when, from which version to which)"
champion history spam || exit 1

say "champion status && champion ps"
champion status || exit 1
champion ps || exit 1
echo
echo "The project is in $PWD; browse its runs with: mlflow ui --backend-store-uri sqlite:///$PWD/.champion/mlflow.db"
