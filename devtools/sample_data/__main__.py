"""Seed daily partitions into an S3 endpoint:

python -m devtools.sample_data --endpoint-url http://127.0.0.1:4566 --bucket ml-pipeline-data \
    --from 2024-01-01 --to 2024-01-07 [--pipeline classification] [--rows 2000] [--drift-per-day 0.01] \
    [--fault drift:age=1.5] [--fault missing:educ] [--fault type:children]

--drift-per-day flips a growing share of labels (a label drift); each --fault gives every day one data-quality
fault (devtools/sample_data/data_faults.py): a feature drift, a missing column, a column of the wrong type.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from .data_faults import ALLOWED, DataFault
from .partitions import DEFAULT_PIPELINE, DEFAULT_ROWS, sample_pipelines, seed_partitions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.sample_data", description="Seed daily sample partitions into S3.")
    parser.add_argument("--endpoint-url", help="S3 endpoint (the local endpoint's URL); omit for AWS")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--from", dest="first", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, required=True, help="last day, YYYY-MM-DD")
    parser.add_argument("--pipeline", default=DEFAULT_PIPELINE, choices=sample_pipelines(),
                        help="whose data: the folder name under include/pipelines")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--drift-per-day", type=float, default=0.0)
    parser.add_argument("--fault", action="append", default=[], metavar="FAULT",
                        help=f"a data-quality fault for every day: {ALLOWED} (repeatable)")
    options = parser.parse_args(argv)
    try:
        faults = [DataFault.parse(text) for text in options.fault]
    except ValueError as error:
        parser.error(f"--fault: {error}")

    import boto3

    s3 = boto3.client("s3", endpoint_url=options.endpoint_url, region_name=options.region)
    try:
        written = seed_partitions(s3, options.bucket, options.first, options.last, options.rows, options.drift_per_day,
                                  options.pipeline, faults)
    except ValueError as error:
        parser.error(str(error))
    for uri in written:
        print(uri)
    return 0


if __name__ == "__main__":
    sys.exit(main())
