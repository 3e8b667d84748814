#!/usr/bin/env bash
# The demo story: a spam model is built on three videos, two more videos arrive, the model
# is rebuilt, and the gate decides whether the new one replaces the champion.
set -uo pipefail
DEMO=${DEMO_DIR:-demo}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$DEMO"
say "champion init $DEMO --template youtube-spam"
champion init "$DEMO" --template youtube-spam || exit 1
cd "$DEMO"

say "champion build spam   (first model: trained on Psy, KatyPerry, LMFAO)"
champion build spam || exit 1

say "champion ingest spam data/retraining/*.csv   (Eminem and Shakira arrive)"
champion ingest spam data/retraining/*.csv || exit 1

say "champion build spam   (challenger on all five videos vs the champion, same golden set)"
champion build spam
code=$?
case $code in
  0) echo "(exit 0: promoted)" ;;
  3) echo "(exit 3: rejected, the champion stays; a CI pipeline stops here)" ;;
  *) exit $code ;;
esac

say "champion history spam"
champion history spam || exit 1

say "champion status"
champion status || exit 1
echo
echo "The project is in $PWD; browse its runs with: mlflow ui --backend-store-uri sqlite:///$PWD/.champion/mlflow.db"
