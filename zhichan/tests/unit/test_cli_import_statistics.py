"""`zhichan import-statistics FILE [--dry-run]` sends the file to the gateway and prints the
counts, or every problem of a refused file with its row and column."""

import httpx
import pytest

from zhichan import cli

COUNTS = {"created": 2, "revised": 1, "unchanged": 0}


@pytest.fixture
def sent(monkeypatch):
    """What the command posted, and the answer it gets (set by the test)."""
    calls: list[dict] = []
    answer: dict = {}

    def post(url, **kwargs):
        calls.append({"url": url, **kwargs})
        return httpx.Response(answer["status"], json=answer["body"])

    monkeypatch.setattr(httpx, "post", post)
    return calls, answer


def test_a_file_imported_prints_its_counts(tmp_path, sent, capsys):
    calls, answer = sent
    answer.update(status=200, body={**COUNTS, "dry_run": False})
    (tmp_path / "releases.csv").write_bytes("地区代码\r\n".encode())
    cli.main(["import-statistics", str(tmp_path / "releases.csv"), "--url", "http://gw"])
    (call,) = calls
    assert call["url"] == "http://gw/api/statistics/import" and call["params"] is None
    assert call["headers"]["Content-Type"] == "text/csv" and call["content"] == "地区代码\r\n".encode()
    assert capsys.readouterr().out == "imported releases.csv: 2 created, 1 revised, 0 unchanged\n"


def test_a_dry_run_says_nothing_was_stored(tmp_path, sent, capsys):
    calls, answer = sent
    answer.update(status=200, body={**COUNTS, "dry_run": True})
    (tmp_path / "releases.xlsx").write_bytes(b"PK")
    cli.main(["import-statistics", str(tmp_path / "releases.xlsx"), "--dry-run"])
    assert calls[0]["params"] == {"dry_run": "true"}
    assert capsys.readouterr().out.startswith("checked (dry run, nothing stored) releases.xlsx: 2 created")


def test_a_refused_file_prints_every_problem_by_row_and_column(tmp_path, sent):
    _calls, answer = sent
    errors = [{"loc": [3, "期间"], "msg": "'2025-13' is not a period"}, {"loc": ["file"], "msg": "too many rows"}]
    answer.update(status=422, body={"status": 422, "errors": errors})
    (tmp_path / "releases.csv").write_bytes(b"")
    with pytest.raises(SystemExit) as refused:
        cli.main(["import-statistics", str(tmp_path / "releases.csv")])
    assert str(refused.value) == (
        "refused, nothing stored (2 problem(s)):\nrow 3, 期间: '2025-13' is not a period\nfile: too many rows"
    )


def test_only_csv_and_xlsx_files_are_sent(tmp_path, sent):
    calls, _answer = sent
    with pytest.raises(SystemExit, match=r"\.csv or \.xlsx"):
        cli.main(["import-statistics", str(tmp_path / "releases.ods")])
    assert calls == []
