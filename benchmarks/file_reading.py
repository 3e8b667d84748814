"""Reading data files: `read_data_file` on a generated 200,000-row file, in each format.

The file has the spam template's columns (an id, an author, a nullable date-time, a free text
of ~60 characters with commas and quotes, an integer label) plus a number column, written as
comma-separated, tab-separated and Parquet. Each format is read --repeat times; the median
wall time and the median CPU time of the process are printed (CPU time moves less when other
work shares the machine); with --json, the numbers as JSON as well.

    python benchmarks/file_reading.py --rows 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from champion.config import ModelSettings
from champion.data.validation import read_data_file
from champion.startup import configure_process

MODEL = {
    "recipe": "text-classifier", "data": ["data/*.csv"], "features": ["CONTENT"], "target": "CLASS",
    "labels": [0, 1], "id": ["COMMENT_ID"],
    "columns": {"COMMENT_ID": "string", "AUTHOR": "string", "DATE": {"type": "datetime", "nullable": True},
                "CONTENT": "text", "SCORE": "number", "CLASS": "label"},
}
WORDS = ["check", "out", "my", "channel", "great", "song", "love", "this", "video,", '"best"', "ever",
         "subscribe", "please", "lol"]


def rows(count: int, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(10))
        date = "" if i % 10 == 0 else f"2014-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00"
        out.append([f"c{i:07d}", f"author {i % 997}", date, text, f"{rng.random() * 100:.3f}", str(i % 2)])
    return out


def write_files(folder: Path, count: int) -> dict[str, Path]:
    header = list(MODEL["columns"])  # type: ignore[arg-type]
    data = rows(count)
    paths = {"csv": folder / "data.csv", "tsv": folder / "data.tsv"}
    for kind, delimiter in (("csv", ","), ("tsv", "\t")):
        with open(paths[kind], "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows(data)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return paths
    from datetime import datetime

    columns = list(zip(*data, strict=True))
    table = pa.table({
        "COMMENT_ID": pa.array(columns[0]), "AUTHOR": pa.array(columns[1]),
        "DATE": pa.array([datetime.fromisoformat(d) if d else None for d in columns[2]], pa.timestamp("us")),
        "CONTENT": pa.array(columns[3]), "SCORE": pa.array([float(v) for v in columns[4]]),
        "CLASS": pa.array([int(v) for v in columns[5]]),
    })
    paths["parquet"] = folder / "data.parquet"
    pq.write_table(table, paths["parquet"])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--formats", default="csv,tsv,parquet")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_process()  # as every champion command does (the collector's thresholds among others)
    model = ModelSettings.model_validate(MODEL)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_files(Path(tmp), args.rows)
        for kind in args.formats.split(","):
            if kind not in paths:
                continue
            times, cpu = [], []
            for _ in range(args.repeat):
                start, start_cpu = time.perf_counter(), time.process_time()
                result = read_data_file(paths[kind], model)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            assert result.rows == args.rows
            results[kind] = {"median_s": statistics.median(times), "min_s": min(times),
                             "median_cpu_s": statistics.median(cpu), "bytes": paths[kind].stat().st_size}
            print(f"{kind:8s} {args.rows:,} rows, {paths[kind].stat().st_size / 1e6:.1f} MB: "
                  f"median {statistics.median(times):.2f} s (min {min(times):.2f}), "
                  f"CPU {statistics.median(cpu):.2f} s ({args.repeat} runs)")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
