"""Run SQL in ClickHouse 25.8 (chdb==4.0.0 embeds 25.8.2, the server version compose pins) as
a `readonly = 1` user. Standalone: it runs in the .venv-chdb258 interpreter (`make chdb258`),
reads a job as JSON on stdin and writes the results as JSON on stdout.

Job: {"ddl": [statement, ...], "data": {table: "JSONEachRow text"},
      "profile": {setting: value} (set before readonly, as a settings profile does),
      "queries": [{"name": ..., "sql": ..., "settings": {name: value}}]}
Result: {"version": "25.8.2.1", "results": [{"name", "ok", "error", "columns", "rows"}]}
"""

import json
import sys
import tempfile


def main() -> None:
    from chdb import session

    job = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix="chdb258-") as tmp:
        s = session.Session(tmp)
        try:
            s.query("CREATE DATABASE IF NOT EXISTS welfare")
            s.query("USE welfare")
            for statement in job["ddl"]:
                s.query(statement)
            for table, rows in job["data"].items():
                if rows.strip():
                    s.query(f"INSERT INTO {table} FORMAT JSONEachRow\n{rows}")
            for name, value in job.get("profile", {}).items():
                s.query(f"SET {name} = {value}")
            s.query("SET readonly = 1")
            version = json.loads(s.query("SELECT version() AS v", "JSON").bytes())["data"][0]["v"]
            results = []
            for query in job["queries"]:
                sql = query["sql"]
                if query.get("settings"):
                    sql += "\nSETTINGS " + ", ".join(
                        f"{k} = {v}" for k, v in query["settings"].items()
                    )
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
                        {
                            "name": query["name"],
                            "ok": False,
                            "error": str(e),
                            "columns": [],
                            "rows": 0,
                        }
                    )
        finally:
            s.close()
    json.dump({"version": version, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
