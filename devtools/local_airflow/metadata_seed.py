"""A stack's metadata DB made ready: migrated, the pools, the Variables and `aws_default`, each added only when absent.

`python -m devtools.local_airflow.metadata_seed --variables '{"name": value, ...}' --aws-connection JSON_OR_URI`

Both stacks run it at every start: `make airflow` and docker-compose.yaml's init service. The
Variables and the connection live in the metadata DB, where the UI and the REST API edit them,
not in AIRFLOW_VAR_*/AIRFLOW_CONN_* environment variables, which Airflow reads first and which
silently won over any edit. Seeding skips a name that exists, so an edit made in the UI survives a
restart; to go back to the seeded value, delete the Variable or connection and restart. A seeded
`aws_default` whose endpoint differs from this stack's is kept too, and reported.

It runs Airflow's own CLI commands (`db migrate`, `pools import`, `variables import
--action-on-existing-key skip`, `connections import`), in one interpreter: four `airflow`
processes would cost ~3 s each in imports.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from devtools.local_airflow.environment import POOLS_FILE

CONNECTION_ID = "aws_default"


def parse_connection(value: str) -> dict[str, Any] | str:
    """A connection as Airflow's import file holds it: a URI string, or a JSON object with `extra` as text."""
    if not value.lstrip().startswith("{"):
        return value
    try:
        connection = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"--aws-connection is neither a URI nor valid JSON: {error}") from None
    if not isinstance(connection, dict) or "conn_type" not in connection:
        raise ValueError('--aws-connection JSON must be an object with "conn_type" (and login, password, extra ...)')
    if isinstance(connection.get("extra"), dict):
        connection["extra"] = json.dumps(connection["extra"])
    return connection


def seed(variables: dict[str, Any], aws_connection: dict[str, Any] | str) -> list[str]:
    """Run the four commands; return what it reports (skipped names, a differing endpoint)."""
    from airflow.cli.cli_parser import get_parser

    notes = []
    with tempfile.TemporaryDirectory(prefix="metadata-seed-") as scratch:
        variables_file = Path(scratch) / "variables.json"
        variables_file.write_text(json.dumps(variables))
        connections_file = Path(scratch) / "connections.json"
        connections_file.write_text(json.dumps({CONNECTION_ID: aws_connection}))
        parser = get_parser()
        for command in (["db", "migrate"], ["pools", "import", str(POOLS_FILE)],
                        ["variables", "import", "--action-on-existing-key", "skip", str(variables_file)],
                        ["connections", "import", str(connections_file)]):
            arguments = parser.parse_args(command)
            arguments.func(arguments)
    notes += _endpoint_difference(aws_connection)
    return notes


def _endpoint_difference(wanted: dict[str, Any] | str) -> list[str]:
    """Say so when the kept aws_default points elsewhere than this stack's endpoint (e.g. another port)."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    expected = (Connection(conn_id=CONNECTION_ID, uri=wanted) if isinstance(wanted, str)
                else Connection(conn_id=CONNECTION_ID, **wanted)).extra_dejson.get("endpoint_url")
    with create_session() as session:
        stored = session.scalars(select(Connection).where(Connection.conn_id == CONNECTION_ID)).one_or_none()
        found = stored.extra_dejson.get("endpoint_url") if stored else None
    if found == expected:
        return []
    return [f"Connection {CONNECTION_ID} in the metadata DB has endpoint_url {found!r}, this stack's endpoint is "
            f"{expected!r}: kept as it is (edited in the UI?). Delete it (UI, or `airflow connections delete "
            f"{CONNECTION_ID}`) and restart to get this stack's."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.local_airflow.metadata_seed",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--variables", required=True, help="a JSON object: Variable name -> value (objects are "
                                                           "stored as JSON text)")
    parser.add_argument("--aws-connection", required=True, help=f"{CONNECTION_ID}, as a URI or a JSON object")
    options = parser.parse_args(argv)
    try:
        variables = json.loads(options.variables)
    except json.JSONDecodeError as error:
        parser.error(f"--variables is not valid JSON: {error}")
    if not isinstance(variables, dict):
        parser.error("--variables must be a JSON object: Variable name -> value")
    try:
        connection = parse_connection(options.aws_connection)
    except ValueError as error:
        parser.error(str(error))
    # Airflow's variables import stores a str as is, anything else as JSON.
    for note in seed({name: value if isinstance(value, str) else json.dumps(value)
                      for name, value in variables.items()}, connection):
        print(note, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
