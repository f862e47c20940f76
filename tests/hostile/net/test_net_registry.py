"""Hostile registries (`newsdesk feeds sync FILE`): each refused in one line naming the problem,
exit 2, fast and small, the message never holding an expanded value; no warehouse is touched."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from netcases import Elapsed

from newsdesk.cli import main

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))
GOOD_SOURCE = "  - name: Good Gazette\n    homepage: https://good.example/\n"


def billion_laughs() -> str:
    """Nine levels of nine aliases: about 400 bytes that expand to 9**9 strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\nsources:\n  - name: Laughs\n    homepage: *i\n"


CASES = {
    "billion_laughs": (billion_laughs(), "aliases (*name) are not allowed"),
    "merge_key_alias": ("defaults: &d {language: en}\nsources:\n  - <<: *d\n    name: X\n    homepage: https://x.example/\n",
                        "aliases (*name) are not allowed"),
    "single_alias": ("h: &h https://x.example/\nsources:\n  - name: X\n    homepage: *h\n", "aliases (*name)"),
    "python_object_apply_tag": ('sources: !!python/object/apply:os.system ["touch /tmp/newsdesk-pwned"]\n',
                                "could not determine a constructor"),
    "python_name_tag": ("sources: !!python/name:os.system\n", "could not determine a constructor"),
    "unknown_local_tag": ("sources: !evil {}\n", "could not determine a constructor for the tag '!evil'"),
    "non_utf8_latin1": ("sources:\n  - name: Caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 0xe9"),
    "utf16_with_bom": ("sources: []\n".encode("utf-16"), "not UTF-8 text"),
    "nul_byte": ("sources: [\x00]\n", "invalid YAML"),
    "malformed_yaml": ("sources: [\n  - name: x\n   bad: : :\n", "invalid YAML"),
    "unclosed_quote": ('sources:\n  - name: "unclosed\n', "invalid YAML"),
    "deeply_nested_flow": ("sources: " + "[" * 50000 + "]" * 50000 + "\n", "invalid YAML"),
    "empty_file": ("", "expected a mapping with a 'sources' list"),
    "top_level_list": ("- a\n- b\n", "expected a mapping with a 'sources' list"),
    "file_url_feed": ("sources:\n" + GOOD_SOURCE + '    feeds: ["file:///etc/passwd"]\n',
                      "must be an http(s) URL, got 'file:///etc/passwd'"),
    "ftp_url_feed": ("sources:\n" + GOOD_SOURCE + "    feeds: [ftp://good.example/feed.xml]\n",
                     "must be an http(s) URL, got 'ftp://good.example/feed.xml'"),
    "gopher_url_feed_mapping": ("sources:\n" + GOOD_SOURCE + "    feeds:\n      - url: gopher://good.example/1\n",
                                "must be an http(s) URL, got 'gopher://good.example/1'"),
    "file_url_homepage": ("sources:\n  - name: X\n    homepage: file:///etc/passwd\n", "'homepage' must be an http(s)"),
    "huge_value_in_error": ("sources:\n  - name: X\n    homepage: '" + "h" * 1_000_000 + "'\n", "'homepage' must be"),
    "huge_list_in_error": ("sources:\n  - name: X\n    homepage: [" + "1," * 20_000 + "1]\n", "a list of 20001 items"),
    "non_string_keys": ("sources:\n  - name: X\n    homepage: https://x.example/\n    1: a\n    b: c\n",
                        "unknown keys '1', 'b'"),
}


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh' / 'warehouse.db'}"
    return request.getfixturevalue("pg_url")


def refuse(capsys, *argv) -> str:
    with Elapsed() as took:
        code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("newsdesk: ") and "Traceback" not in err, err[:500]
    assert len(err) < 400, len(err)
    assert took.seconds < 5, took.seconds
    return err


@pytest.mark.parametrize("quirk", list(CASES))
def test_registry_refused_in_one_line(quirk, tmp_path, capsys, warehouse_url):
    content, reason = CASES[quirk]
    path = tmp_path / f"{quirk}.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    err = refuse(capsys, "feeds", "sync", str(path), "--database", warehouse_url)
    assert f"registry {path}" in err and reason in err, err
    assert "lol" not in err and "h" * 100 not in err
    assert not (tmp_path / "fresh").exists()  # refused before a warehouse was made


def test_billion_laughs_small_in_memory(tmp_path, capsys):
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs())
    tracemalloc.start()
    try:
        err = refuse(capsys, "feeds", "sync", str(path), "--database", f"sqlite:///{tmp_path / 'w.db'}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "aliases" in err and peak < 16 * 1024 * 1024, peak


def test_registry_missing_file(tmp_path, capsys, warehouse_url):
    err = refuse(capsys, "feeds", "sync", str(tmp_path / "nope.yaml"), "--database", warehouse_url)
    assert f"registry {tmp_path / 'nope.yaml'}: no such file" in err


def test_registry_is_a_directory(tmp_path, capsys, warehouse_url):
    err = refuse(capsys, "feeds", "sync", str(tmp_path), "--database", warehouse_url)
    assert "is a directory" in err


def test_registry_over_configured_cap(tmp_path, capsys, monkeypatch, warehouse_url):
    monkeypatch.setenv("NEWSDESK_MAX_REGISTRY_BYTES", "1000")
    path = tmp_path / "big.yaml"
    path.write_text("sources: []\n" + "# padding\n" * 200)
    err = refuse(capsys, "feeds", "sync", str(path), "--database", warehouse_url)
    assert "larger than 1000 bytes (NEWSDESK_MAX_REGISTRY_BYTES)" in err


def test_registry_over_default_cap_not_read_whole(tmp_path, capsys, warehouse_url):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.write(b"sources: []\n")
        handle.truncate(64 * 1024 * 1024)  # sparse: 64 MB of NULs
    err = refuse(capsys, "feeds", "sync", str(path), "--database", warehouse_url)
    assert "larger than 4194304 bytes" in err


def test_registry_missing_section(tmp_path, capsys, warehouse_url):
    path = tmp_path / "feeds.yaml"
    path.write_text("sources: []\n")
    err = refuse(capsys, "feeds", "sync", f"{path}#nosuch", "--database", warehouse_url)
    assert "expected a mapping with a 'nosuch' list" in err


def test_registry_refused_by_poll_and_dry_run_too(tmp_path, capsys, warehouse_url):
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs())
    assert "aliases" in refuse(capsys, "poll", "--registry", str(path), "--database", warehouse_url)
    assert "aliases" in refuse(capsys, "feeds", "sync", "--dry-run", str(path), "--database", warehouse_url)


@pytest.mark.slow  # a newsdesk process: seconds of imports
def test_billion_laughs_from_outside(tmp_path):
    """As run by hand: `newsdesk feeds sync` on 400 bytes of nested aliases, measured from outside."""
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs())
    assert len(billion_laughs()) < 500
    with Elapsed() as took:
        done = subprocess.run(["/usr/bin/time", "-f", "maxrss=%M", NEWSDESK, "feeds", "sync", str(path), "--database",
                               f"sqlite:///{tmp_path / 'w.db'}"], capture_output=True, text=True, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and lines[0].startswith("newsdesk: registry") and "aliases" in lines[0], done.stderr
    assert int(lines[-1].split("=")[1]) < 400_000, lines[-1]  # KB: the interpreter and its imports, no expansion
    assert took.seconds < 60 and not (tmp_path / "w.db").exists()
