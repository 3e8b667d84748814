"""Score comment CSV files through an endpoint, as production traffic (used by the demo).

Each row is sent with its COMMENT_ID, so labels that come back later (`champion feedback`)
find their predictions. Standard library only.
"""

from __future__ import annotations

import csv
import json
import sys
import urllib.request


def main(url: str, files: list[str], batch: int = 25) -> None:
    rows = []
    for name in files:
        with open(name, newline="", encoding="utf-8") as handle:
            rows += [{"CONTENT": r["CONTENT"], "COMMENT_ID": r["COMMENT_ID"]} for r in csv.DictReader(handle)]
    spam = 0
    for start in range(0, len(rows), batch):
        body = json.dumps({"data": rows[start:start + batch]}).encode()
        request = urllib.request.Request(url + "/score", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            spam += sum(json.load(response)["result"])
    print(f"scored {len(rows)} comments through {url}: {spam} flagged as spam")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
