"""PreprocessMeasurements: read every CSV under the input prefix, check the schema, split 70/15/15 at random.

Runs unchanged in SageMaker's scikit-learn container and on the local endpoint. Writes headerless
CSVs with the target first, as the built-in XGBoost algorithm expects.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FEATURE_COLUMNS = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
TARGET_COLUMN = "progression"
SPLITS = {"train": 0.70, "validation": 0.15, "test": 0.15}
SEED = 42
MIN_ROWS = 20  # fewer leave a split empty


class SchemaError(ValueError):
    pass


def read_input(input_dir: Path):
    import pandas as pd

    files = sorted(path for path in input_dir.rglob("*.csv") if path.is_file())
    if not files:
        raise SchemaError(f"No CSV files under {input_dir}")
    frames = []
    for path in files:
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise SchemaError(f"{path.name} is empty: expected a header row and data") from None
        check_schema(frame, path.name)
        frames.append(frame[[TARGET_COLUMN, *FEATURE_COLUMNS]])
    data = pd.concat(frames, ignore_index=True)
    if len(data) < MIN_ROWS:
        raise SchemaError(f"The input under {input_dir} has {len(data)} rows; at least {MIN_ROWS} are needed")
    return data


def check_schema(frame, source: str) -> None:
    expected = [TARGET_COLUMN, *FEATURE_COLUMNS]
    missing = [column for column in expected if column not in frame.columns]
    unexpected = [column for column in frame.columns if column not in expected]
    if missing or unexpected:
        parts = [f"missing column(s) {', '.join(missing)}"] if missing else []
        parts += [f"unexpected column(s) {', '.join(map(str, unexpected))}"] if unexpected else []
        raise SchemaError(f"{source}: {'; '.join(parts)}; expected {', '.join(expected)}")
    for column in expected:
        if frame[column].dtype.kind not in "biuf" and not frame.empty:
            raise SchemaError(f"{source}: column {column} must be numeric; found type {frame[column].dtype}")
    if frame[TARGET_COLUMN].isna().any():
        raise SchemaError(f"{source}: the target {TARGET_COLUMN} has empty values")


def split(data):
    from sklearn.model_selection import train_test_split

    train, rest = train_test_split(data, train_size=SPLITS["train"], random_state=SEED)
    validation, test = train_test_split(rest, test_size=0.5, random_state=SEED)
    return {"train": train, "validation": validation, "test": test}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", default="/opt/ml/processing/input")
    parser.add_argument("--output-dir", default="/opt/ml/processing/output")
    options = parser.parse_args(argv)
    try:
        parts = split(read_input(Path(options.input_dir)))
    except SchemaError as error:
        print(f"Input data error: {error}", file=sys.stderr, flush=True)
        return 2
    for name, frame in parts.items():
        folder = Path(options.output_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / f"{name}.csv", header=False, index=False)
        print(f"{name}: {len(frame)} rows, mean {TARGET_COLUMN} {frame[TARGET_COLUMN].mean():.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
