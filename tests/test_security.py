"""Hostile folders and stores (issue 12, items 1, 2 and 7).

- Nothing outside the articles folder is read: a symlink (to a file or a folder) that leaves it
  is skipped with a one-line reason.
- Nothing in the store folder executes: the lexical index is never unpickled; a crafted or
  garbled index file is rebuilt from the store, and answers still work.
- One unreadable file or folder skips that entry only, with a one-line reason; the readable
  files are all ingested and no traceback reaches the user.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, SMALL_ARTICLES

from rag import Assistant

SECRET = "Private memo\n\nThe vault code of the Quillfeather estate is 4417, the steward wrote.\n"


def _sources(bot) -> set[str]:
    return {row["source"] for row in bot.articles()}


def _stored_text(bot) -> str:
    return "\n".join(r.text for r in bot.store.all_passages())


def _reason(report, name: str) -> str:
    reasons = [r for s, r in report.skipped if s == name or s.startswith(name + "/")]
    assert len(reasons) == 1, (name, report.skipped)
    assert "\n" not in reasons[0]
    return reasons[0]


# --- item 1: symlinks leave the folder ----------------------------------------------------------


def test_symlinks_out_of_the_folder_are_skipped_with_a_reason(make_bot, tmp_path):
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    (outside / "more.txt").write_text(SECRET.replace("4417", "9921"), encoding="utf-8")
    bot, data = make_bot()
    (data / "leak.txt").symlink_to(outside / "secret.txt")  # a file link
    (data / "linked").symlink_to(outside, target_is_directory=True)  # a folder link
    (data / "nested").mkdir()
    (data / "nested" / "deep.md").symlink_to(outside / "more.txt")

    report = bot.ingest()

    assert sorted(report.added) == sorted(SMALL_ARTICLES)
    assert _sources(bot) == set(SMALL_ARTICLES)
    assert "Quillfeather" not in _stored_text(bot)
    for name in ("leak.txt", "linked", "nested/deep.md"):
        reason = _reason(report, name)
        assert "link" in reason and "outside" in reason, reason
    for record in bot.store.all_passages():
        assert Path(record.metadata["path"]).is_relative_to(data.resolve())
    answer = bot.ask("What is the vault code of the Quillfeather estate?")
    assert "4417" not in answer.text


def test_a_file_replaced_by_a_link_out_of_the_folder_leaves_the_store(make_bot, tmp_path):
    bot, data = make_bot()
    bot.ingest()
    outside = tmp_path / "elsewhere.txt"
    outside.write_text(SECRET, encoding="utf-8")
    (data / "coffee.txt").unlink()
    (data / "coffee.txt").symlink_to(outside)
    report = bot.ingest()
    assert "Quillfeather" not in _stored_text(bot)
    assert report.removed == ["coffee.txt"]
    assert "outside" in _reason(report, "coffee.txt")
    assert _sources(bot) == set(SMALL_ARTICLES) - {"coffee.txt"}


def test_a_link_inside_the_folder_to_another_of_its_files_is_harmless(make_bot):
    bot, data = make_bot()
    (data / "sub").mkdir()
    (data / "sub" / "alias.txt").symlink_to(data / "coffee.txt")
    report = bot.ingest()
    assert set(SMALL_ARTICLES) <= set(report.added)
    for record in bot.store.all_passages():
        assert Path(record.metadata["path"]).is_relative_to(data.resolve())
    # The file is stored once, under its own name; the link is skipped naming it.
    assert "sub/alias.txt" not in _sources(bot)
    assert "coffee.txt" in _reason(report, "sub/alias.txt")


def test_one_file_reached_by_two_routes_is_stored_once_and_never_its_own_copy(make_bot, monkeypatch):
    import rag.ingest

    bot, data = make_bot()
    bot.ingest()
    (data / "sub").mkdir()
    (data / "sub" / "alias.txt").symlink_to(data / "coffee.txt")
    # A store from before kept the link as a second article: the next ingest removes it.
    with monkeypatch.context() as m:
        m.setattr(rag.ingest, "_drop_second_routes", lambda out, report: None)
        assert "sub/alias.txt" in bot.ingest().added
    report = bot.ingest([data, data / "coffee.txt", data / "." / "coffee.txt"])
    assert report.removed == ["sub/alias.txt"] and not report.added and not report.updated
    assert [s for s, _ in report.skipped] == ["sub/alias.txt"]  # the file named three times is no error
    assert "sub/alias.txt" not in _sources(bot)
    answer = bot.ask("How much coffee does the cooperative export?")
    for citation in answer.citations:
        assert citation.source not in {loc.source for loc in citation.also_in}
        assert "sub/alias.txt" not in {loc.source for loc in citation.also_in}


def test_a_data_folder_that_is_itself_a_link_is_read(make_bot, tmp_path):
    bot, data = make_bot()
    link = tmp_path / "via-link"
    link.symlink_to(data, target_is_directory=True)
    report = bot.ingest([link])
    assert sorted(report.added) == sorted(SMALL_ARTICLES)
    assert not report.skipped


# --- item 7: unreadable entries skip themselves only ----------------------------------------------


def test_dangling_links_and_odd_entries_are_skipped_not_fatal(make_bot, tmp_path):
    bot, data = make_bot()
    (data / "gone.txt").symlink_to(data / "deleted-long-ago.txt")  # dangling, inside
    (data / "away.md").symlink_to(tmp_path / "nowhere.md")  # dangling, outside
    (data / "folder.txt").mkdir()  # a folder named like an article: its files are read
    (data / "folder.txt" / "inner.txt").write_text(SMALL_ARTICLES["coffee.txt"].replace("12 percent", "14 percent"))
    report = bot.ingest()
    assert set(SMALL_ARTICLES) | {"folder.txt/inner.txt"} == set(report.added)
    assert "missing" in _reason(report, "gone.txt") or "does not exist" in _reason(report, "gone.txt")
    assert "outside" in _reason(report, "away.md")


@pytest.fixture
def shared_folder():
    """A folder under /tmp that a process without read-anything rights can reach."""
    folder = Path(tempfile.mkdtemp(prefix="rag-unreadable-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def _without_read_anything_rights() -> list[str]:
    """A command prefix under which chmod 000 really blocks reading, also when the tests run as root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_unreadable_file_and_folder_are_skipped_and_the_rest_ingested(shared_folder):
    data = shared_folder / "articles"
    data.mkdir()
    for name, text in SMALL_ARTICLES.items():
        (data / name).write_text(text, encoding="utf-8")
    (data / "locked.txt").write_text(SECRET, encoding="utf-8")
    (data / "closed").mkdir()
    (data / "closed" / "inside.txt").write_text(SECRET, encoding="utf-8")
    (data / "closed").chmod(0o755)
    store = shared_folder / "store"
    first = Assistant(data_dir=data, store_dir=store, collection="articles").ingest()
    assert "closed/inside.txt" in first.added  # read while it could be
    (data / "closed").chmod(0o000)
    command = _without_read_anything_rights()
    (data / "locked.txt").write_text(SECRET.replace("4417", "5550"), encoding="utf-8")  # changed, then locked
    (data / "locked.txt").chmod(0o000)
    probe = subprocess.run([*command, "cat", str(data / "locked.txt")], capture_output=True)
    assert probe.returncode != 0, "the file is still readable: the test would prove nothing"

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_DATA_DIR=str(data), RAG_STORE_DIR=str(store), RAG_COLLECTION="articles")
    run = subprocess.run(
        [*command, sys.executable, "-c", "from rag.cli import main; main()", "ingest", "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
    )
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert sorted(report["unchanged"]) == sorted(SMALL_ARTICLES)
    assert report["added"] == report["updated"] == report["removed"] == []  # what could not be read stays
    skipped = {row["file"]: row["reason"] for row in report["skipped"]}
    assert set(skipped) == {"locked.txt", "closed"}, skipped
    assert "permission denied" in skipped["locked.txt"].lower()
    assert "permission denied" in skipped["closed"].lower()
    assert all("\n" not in reason for reason in skipped.values())
    assert "earlier version stays" in skipped["locked.txt"]
    bot = Assistant(data_dir=data, store_dir=store, collection="articles")
    assert {row["source"] for row in bot.articles()} == set(SMALL_ARTICLES) | {"locked.txt", "closed/inside.txt"}
    assert "5550" not in _stored_text(bot)


# --- item 2: nothing in the store folder executes -------------------------------------------------


class _Payload:
    """Unpickling this writes a marker file: proof that loading ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def _reopen(bot) -> Assistant:
    return Assistant(store_dir=bot.settings.store_dir, data_dir=bot.settings.data_dir, collection="articles")


def _index_files(bot) -> list[Path]:
    folder = bot.settings.lexical_path.parent
    return [p for p in folder.iterdir() if ".sentences." not in p.name and not p.name.startswith(".")]


def test_a_crafted_pickle_in_the_store_folder_never_runs(make_bot, tmp_path):
    bot, _ = make_bot()
    bot.ingest()
    expected = bot.ask("How much paddy did the Mekong Delta produce last year?").text
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"version": 2, "fingerprints": {}, "entries": {}, "index": _Payload(marker)})
    # Where the pickle used to live, and in place of every index file kept there now.
    for path in {bot.settings.lexical_path, *_index_files(bot)}:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)

    again = _reopen(bot)
    assert len(again.lexical) == again.store.count() > 0
    assert again.ask("How much paddy did the Mekong Delta produce last year?").text == expected
    assert "24 million tonnes" in expected
    assert not marker.exists(), "loading the store folder ran code"
    # The index was written again in a form that cannot run code, and is trusted next time.
    for path in _index_files(again):
        assert not path.read_bytes().startswith(b"\x80"), f"{path.name} is still a pickle"
    assert len(_reopen(bot).lexical) == again.store.count()
    assert not marker.exists()


def test_a_garbled_or_mismatched_index_is_rebuilt(make_bot):
    bot, _ = make_bot()
    bot.ingest()
    count = bot.store.count()
    files = _index_files(bot)
    assert files, "no index kept beside the store"
    for path in files:
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2] + b"\x00garbage" + raw[len(raw) // 2 :])
    again = _reopen(bot)
    assert len(again.lexical) == count
    assert again.lexical.search("jasmine", 3)
    assert again.ask("How much paddy did the Mekong Delta produce last year?").citations


# --- a store's recorded paths -------------------------------------------------------------------


def test_a_store_s_recorded_paths_are_read_only_inside_the_folders_chosen(make_bot, tmp_path):
    """A store folder may come from someone else: the paths it records are read (for an article's
    headline, or the sentence before a quote) only inside the data folder or what this process
    ingested, never elsewhere on the disk."""
    from rag.article_names import name_rows

    body = "Farmers in the Mekong Delta harvested 24 million tonnes of paddy last year, officials said.\n"
    bot, data = make_bot({"paddy.txt": body})
    bot.ingest()
    assert name_rows(bot.articles())["paddy.txt"].label.startswith("Farmers in the Mekong Delta")
    # The store now names a file that lies outside the folders a new user chose; its words changed.
    (data / "paddy.txt").write_text(SECRET.replace("\n\n", " ").replace("\n", " ") + "\n" + body, encoding="utf-8")
    elsewhere = tmp_path / "chosen"
    elsewhere.mkdir()
    other = Assistant(store_dir=bot.settings.store_dir, data_dir=elsewhere, collection="articles")
    rows = other.articles()
    assert [r["path"] for r in rows] == [None]
    assert name_rows(rows)["paddy.txt"].label == "paddy.txt"
    answer = other.ask("How much paddy did the Mekong Delta harvest last year?")
    assert answer.citations and all(c.path is None for c in answer.citations)
    assert "vault" not in answer.text and "Quillfeather" not in answer.text
    # Once this process ingests that folder (the user chose it), its files are read again.
    other.ingest([data])
    assert [r["path"] for r in other.articles()] == [str((data / "paddy.txt").resolve())]
    assert "Quillfeather" not in str(data)  # the folder's name is not the secret
    assert name_rows(other.articles())["paddy.txt"].label.startswith("Private memo")
