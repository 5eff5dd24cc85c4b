"""`zhichan import-records`: the file sent as its type, a large file's job followed to its end with
a progress bar, a refusal printed row by row."""

import httpx
import pytest

from zhichan import cli

COUNTS = {"created": 2, "updated": 1, "unchanged": 0, "refused": 0, "rows": 3, "dry_run": False}


@pytest.fixture
def gateway(monkeypatch):
    """The gateway's answers, in order; the requests it received."""
    answers: list[httpx.Response] = []
    received: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return answers.pop(0)

    real_client = httpx.Client  # the command imports httpx when it runs: its Client, answered here
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(handle), **kw))
    monkeypatch.setattr(cli, "JOB_POLL_SECONDS", 0)
    return answers, received


def test_a_small_file_answers_its_counts(gateway, tmp_path, capsys):
    answers, received = gateway
    answers.append(httpx.Response(200, json={**COUNTS, "dry_run": True}))
    path = tmp_path / "cases.csv"
    path.write_text("立案号\n1\n")
    cli.main(["import-records", "cases", str(path), "--dry-run", "--url", "http://gw"])
    assert str(received[0].url) == "http://gw/api/cases/import?dry_run=true"
    assert received[0].headers["content-type"].startswith("text/csv")
    assert "checked (dry run, nothing stored): 3 rows, 2 created, 1 updated, 0 unchanged" in capsys.readouterr().out


def test_a_large_file_is_followed_to_the_end_of_its_job(gateway, tmp_path, capsys):
    answers, received = gateway
    job = {"id": "J1", "status": "running", "rows": 3, "phase": "checking", "done": 0, "errors": []}
    answers += [
        httpx.Response(202, json=job, headers={"Location": "/api/cases/import/jobs/J1"}),
        httpx.Response(200, json=job),
        httpx.Response(200, json={**job, "status": "succeeded", "done": 3, "result": COUNTS}),
    ]
    path = tmp_path / "cases.xlsx"
    path.write_bytes(b"PK")
    cli.main(["import-records", "cases", str(path), "--url", "http://gw"])
    assert [r.url.path for r in received[1:]] == ["/api/cases/import/jobs/J1"] * 2
    out = capsys.readouterr().out
    assert f"checking [{'#' * 40}] 3/3 rows" in out
    assert "imported: 3 rows, 2 created, 1 updated, 0 unchanged" in out


def test_a_refusal_is_printed_row_by_row(gateway, tmp_path):
    answers, _ = gateway
    error = {"loc": ["rows", 3, "filed_date"], "msg": "'2024-02-30' is not a date", "row": 3, "column": "立案日期"}
    answers.append(
        httpx.Response(422, json={"detail": "1 problem(s) in the file; nothing was stored", "errors": [error]})
    )
    path = tmp_path / "cases.csv"
    path.write_text("立案号\n1\n")
    with pytest.raises(SystemExit) as refused:
        cli.main(["import-records", "cases", str(path), "--url", "http://gw"])
    assert "row 3, 立案日期: '2024-02-30' is not a date" in str(refused.value)
