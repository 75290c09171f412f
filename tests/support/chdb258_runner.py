"""Run SQL in ClickHouse 25.8 (chdb==4.0.0 embeds 25.8.2, the server version compose pins) as
a `readonly = 1` user. Standalone: it runs in the .venv-chdb258 interpreter (`make chdb258`),
reads a job as JSON on stdin and writes the results as JSON on stdout.

Job: {"ddl": [statement, ...], "data": {table: "JSONEachRow text"},
      "profile": {setting: value} (set before readonly, as a settings profile does),
      "grants": [query, ...] (optional: the <grants> of a users.d user, see below),
      "queries": [{"name": ..., "sql": ..., "settings": {name: value}}]}
Result: {"version": "25.8.2.1", "results": [{"name", "ok", "error", "columns", "rows"}]}

With "grants", the queries run as a user that holds those grants and nothing else, checked by
ClickHouse's own access control: the schema and data are loaded in one process, then a second
process opens the same directory with a users.xml (the `config-file` connection parameter,
clickhouse-local's `--config-file`) whose `default` user - the user chDB runs as; chDB 4.0.0
ignores a `user` parameter - has exactly those `<grants><query>` (the users.d syntax). chDB
holds one embedded server per process, hence the two processes.
"""

import json
import os
import subprocess
import sys
import tempfile
from typing import Any
from xml.sax.saxutils import escape

USERS_XML = """<clickhouse>
  <profiles><default/></profiles>
  <quotas><default/></quotas>
  <users><default><password/><profile>default</profile><quota>default</quota>
    <networks><ip>::/0</ip></networks>
    <grants>{grants}</grants></default></users>
</clickhouse>
"""


def load(s: Any, job: dict[str, Any]) -> None:
    s.query("CREATE DATABASE IF NOT EXISTS welfare")
    s.query("USE welfare")
    for statement in job["ddl"]:
        s.query(statement)
    for table, rows in job["data"].items():
        if rows.strip():
            s.query(f"INSERT INTO {table} FORMAT JSONEachRow\n{rows}")


def run(s: Any, job: dict[str, Any]) -> dict[str, Any]:
    s.query("USE welfare")
    for name, value in job.get("profile", {}).items():
        s.query(f"SET {name} = {value}")
    s.query("SET readonly = 1")
    version = json.loads(s.query("SELECT version() AS v", "JSON").bytes())["data"][0]["v"]
    results = []
    for query in job["queries"]:
        sql = query["sql"]
        if query.get("settings"):
            sql += "\nSETTINGS " + ", ".join(f"{k} = {v}" for k, v in query["settings"].items())
        try:
            out = json.loads(s.query(sql, "JSON").bytes())
            results.append(
                {
                    "name": query["name"],
                    "ok": True,
                    "error": "",
                    "columns": [m["name"] for m in out["meta"]],
                    "rows": len(out["data"]),
                }
            )
        except Exception as e:  # every error is a result
            results.append(
                {"name": query["name"], "ok": False, "error": str(e), "columns": [], "rows": 0}
            )
    return {"version": version, "results": results}


def phase(step: str, directory: str, job: dict[str, Any]) -> None:
    """One process's part of a job with grants: `load` as the unrestricted user, or `query` as
    the user with the grants."""
    from chdb import session

    uri = f"file:{directory}/db"
    if step == "query":
        uri += f"?config-file={directory}/config.xml"
    s = session.Session(uri)
    try:
        if step == "load":
            load(s, job)
        else:
            json.dump(run(s, job), sys.stdout)
    finally:
        s.close()


def with_grants(job: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="chdb258-") as tmp:
        grants = "".join(f"<query>{escape(g)}</query>" for g in job["grants"])
        with open(os.path.join(tmp, "users.xml"), "w") as f:
            f.write(USERS_XML.format(grants=grants))
        with open(os.path.join(tmp, "config.xml"), "w") as f:
            f.write(f"<clickhouse><users_config>{tmp}/users.xml</users_config></clickhouse>\n")
        for step in ("load", "query"):
            done = subprocess.run(
                [sys.executable, __file__, step, tmp],
                input=json.dumps(job),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                sys.exit(done.returncode)
        sys.stdout.write(done.stdout)


def main() -> None:
    job = json.load(sys.stdin)
    if len(sys.argv) == 3:
        phase(sys.argv[1], sys.argv[2], job)
        return
    if job.get("grants") is not None:
        with_grants(job)
        return
    from chdb import session

    with tempfile.TemporaryDirectory(prefix="chdb258-") as tmp:
        s = session.Session(tmp)
        try:
            load(s, job)
            result = run(s, job)
        finally:
            s.close()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
