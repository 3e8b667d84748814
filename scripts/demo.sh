#!/usr/bin/env bash
# The demo story (the seeds'): a spam model is built on three videos and released through
# staging to production; comments of two new videos flow through production; the monitor
# flags the drift and, once their labels come back, the drop in performance; the agent
# retrains on all five videos, the gate decides, and production swaps to the winner while it
# keeps answering every request; the report shows before and after.
set -uo pipefail
DEMO=${DEMO_DIR:-demo}
HERE=$(cd "$(dirname "$0")" && pwd)
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

say "Eminem and Shakira comments reach production (scored with their COMMENT_ID)"
python "$HERE/send_comments.py" "$PROD" data/retraining/*.csv || exit 1
sleep 1   # the endpoint writes its prediction log in the background, within a second

say "champion monitor spam   (the last hour of production against the model's reference profile)"
champion monitor spam --window 1h || exit 1

say "their labels come back: champion feedback spam data/retraining/*.csv"
for f in data/retraining/*.csv; do champion feedback spam "$f" || exit 1; done
champion monitor spam --window 1h || exit 1

say "the labelled files land in data/incoming/; champion agent --once --monitor"
echo "(the new files and the monitor's alert are one retraining: ingest, build, gate, release;"
echo " meanwhile a client scores against production every 50 ms and counts failures)"
cp data/retraining/*.csv data/incoming/
: > ../.demo-load.log
( while [ ! -f ../.demo-load.stop ]; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST "$PROD/score" -H 'content-type: application/json' \
      -d '{"data": ["Free iPhone giveaway, click the link in my profile"]}' >> ../.demo-load.log
    sleep 0.05
  done ) &
LOAD=$!
rm -f ../.demo-load.stop
champion agent --once --monitor
code=$?
touch ../.demo-load.stop; wait $LOAD; rm -f ../.demo-load.stop
total=$(wc -l < ../.demo-load.log); failed=$(grep -vc '^200$' ../.demo-load.log)
echo "production answered $total requests during the retraining: $failed failed"
rm -f ../.demo-load.log
[ "$code" = 0 ] || exit $code

say "after the swap: more new comments, and the report with metrics before and after"
python "$HERE/send_comments.py" "$PROD" data/retraining/Youtube05-Shakira.csv || exit 1
sleep 1
champion monitor spam --window 1h || exit 1
echo "open the report: $(ls -t .champion/reports/spam/production-2*.html | head -1)"

say "champion history spam   (every alias move: who, when, from which version to which)"
champion history spam || exit 1

say "champion status && champion ps"
champion status || exit 1
champion ps || exit 1
echo
echo "The project is in $PWD; browse its runs with: mlflow ui --backend-store-uri sqlite:///$PWD/.champion/mlflow.db"
echo "Open its control room with: $(dirname "$(command -v champion)")/champion ui --project $PWD   (set CHAMPION_ADMIN_KEY to act from it)"
