"""PreprocessData: read every CSV under the input prefix, check the schema, split 70/15/15.

Runs unchanged in SageMaker's scikit-learn container and on the local endpoint. Writes
headerless CSVs with the label first, as the built-in XGBoost algorithm expects.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FEATURE_COLUMNS = [
    "rate_marriage", "age", "yrs_married", "children",
    "religious", "educ", "occupation", "occupation_husb",
]
LABEL_COLUMN = "had_affair"
SPLITS = {"train": 0.70, "validation": 0.15, "test": 0.15}
SEED = 42


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
        frames.append(frame[[LABEL_COLUMN, *FEATURE_COLUMNS]])
    data = pd.concat(frames, ignore_index=True)
    if data.empty:
        raise SchemaError(f"The input under {input_dir} has no rows")
    return data


def check_schema(frame, source: str) -> None:
    expected = {LABEL_COLUMN, *FEATURE_COLUMNS}
    missing = [column for column in [LABEL_COLUMN, *FEATURE_COLUMNS] if column not in frame.columns]
    unexpected = [column for column in frame.columns if column not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unexpected:
            parts.append(f"unexpected column(s) {', '.join(map(str, unexpected))}")
        raise SchemaError(f"{source}: {'; '.join(parts)}; expected {LABEL_COLUMN}, {', '.join(FEATURE_COLUMNS)}")
    if frame.empty:
        return  # a header-only file adds nothing; an input with no rows at all is refused later
    labels = set(frame[LABEL_COLUMN].dropna().unique().tolist())
    if not labels <= {0, 1} or frame[LABEL_COLUMN].isna().any():
        shown = sorted(map(str, labels - {0, 1}))[:5] or ["empty values"]
        raise SchemaError(f"{source}: label column {LABEL_COLUMN} must be 0 or 1; found {', '.join(shown)}")
    for column in FEATURE_COLUMNS:
        if frame[column].dtype.kind not in "biuf":
            raise SchemaError(f"{source}: column {column} must be numeric; found type {frame[column].dtype}")


def split(data):
    from sklearn.model_selection import train_test_split

    if data[LABEL_COLUMN].nunique() < 2:
        raise SchemaError(f"label column {LABEL_COLUMN} has a single class; both 0 and 1 are needed")
    train, rest = train_test_split(data, train_size=SPLITS["train"], stratify=data[LABEL_COLUMN], random_state=SEED)
    validation, test = train_test_split(rest, test_size=0.5, stratify=rest[LABEL_COLUMN], random_state=SEED)
    return {"train": train, "validation": validation, "test": test}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", default="/opt/ml/processing/input")
    parser.add_argument("--output-dir", default="/opt/ml/processing/output")
    options = parser.parse_args(argv)
    try:
        data = read_input(Path(options.input_dir))
        parts = split(data)
    except SchemaError as error:
        print(f"Input data error: {error}", file=sys.stderr, flush=True)
        return 2
    for name, frame in parts.items():
        folder = Path(options.output_dir) / name
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / f"{name}.csv", header=False, index=False)
        print(f"{name}: {len(frame)} rows, {frame[LABEL_COLUMN].mean():.3f} positive", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
