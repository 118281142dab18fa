"""A player's data in a file of its own (`descent.player.datafile`), the site's form of a player:
moved out and put back byte for byte, named by the hash of its bytes, read back by
`read_players` from the page's folder, and listed by `referenced_urls`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from descent.codec import encode_frames
from descent.player import inline_data, read_players, referenced_urls, render_html
from descent.player.datafile import (
    DATA_FOLDER,
    data_file_name,
    data_urls,
    move_data_out,
    put_data_back,
)
from test_codec import COUNT, HEIGHT, WIDTH, synthetic_frames


@pytest.fixture(scope="module")
def player_html() -> str:
    labels = [f"frame {k} ü" for k in range(COUNT)]  # not ASCII: the file is UTF-8
    frames = encode_frames(synthetic_frames(), keyframe_interval=8)
    return render_html(frames, size=(WIDTH, HEIGHT), alt="A test.", labels=labels, interval=40)


def site_page(html: str, folder: Path) -> tuple[str, Path]:
    """`html` as a page at ``folder/book/page.html`` of a site at `folder`, its data in files."""
    page, files = move_data_out(html, lambda name: f"../{DATA_FOLDER}/{name}")
    (folder / DATA_FOLDER).mkdir(parents=True)
    for name, data in files.items():
        (folder / DATA_FOLDER / name).write_bytes(data)
    (folder / "book").mkdir()
    return page, folder / "book"


def test_the_data_move_to_files_named_by_their_hash_and_come_back(player_html, tmp_path):
    page, files = move_data_out(player_html + "<p>x</p>" + player_html, lambda n: f"d/{n}")
    soup = BeautifulSoup(page, "html.parser")
    blocks = soup.select('script[type="application/json"].descent-data')
    assert len(blocks) == 2 and all(block.string is None for block in blocks), "blocks emptied"
    assert sorted(Path(name).suffix for name in files) == [".json", ".png"]  # one animation twice
    (name,) = (name for name in files if name.endswith(".json"))
    (png,) = (name for name in files if name.endswith(".png"))
    data = files[name]
    assert name == hashlib.sha256(data).hexdigest()[:16] + ".json" == data_file_name(data)
    assert png == hashlib.sha256(files[png]).hexdigest()[:16] + ".png"
    assert files[png] == read_players(player_html)[0].frames[0].png
    assert [block["data-src"] for block in blocks] == [f"d/{name}"] * 2
    posters = soup.select("img.descent-frame")
    assert [(img["src"], img["loading"]) for img in posters] == [(f"d/{png}", "lazy")] * 2
    assert [img["width"] for img in posters] == [str(WIDTH)] * 2, "its size still reserved"
    assert data_urls(page) == [f"d/{png}", f"d/{name}"] * 2
    assert json.loads(data)["labels"][1] == "frame 1 ü"
    assert put_data_back(page, lambda url: files[url.removeprefix("d/")]) == (
        player_html + "<p>x</p>" + player_html
    )
    assert move_data_out("<p>no player</p>", lambda n: n) == ("<p>no player</p>", {})


def test_read_players_reads_the_data_file_from_the_pages_folder(player_html, tmp_path):
    page, base = site_page(player_html, tmp_path)
    (inline,) = read_players(player_html)
    (site,) = read_players(page, base=base)
    assert dataclasses.replace(site, source=inline.source) == inline, "frames and texts"
    assert site.source == page and inline_data(page, base) == player_html
    # however the markup is written out: BeautifulSoup sorts the attributes, for one
    (again,) = read_players(str(BeautifulSoup(page, "html.parser")), base=base)
    assert again.frames == inline.frames and again.labels == inline.labels
    assert len(site.frames) == COUNT and site.interval == 40
    urls = [u for u in referenced_urls(page) if u.startswith("../")]
    assert urls == data_urls(page) and len(urls) == 2, "the first frame, then the data file"
    for url in urls:
        assert (base / url).resolve().parent == (tmp_path / DATA_FOLDER).resolve()


def test_read_players_names_a_missing_or_wrong_data_file(player_html, tmp_path):
    page, base = site_page(player_html, tmp_path)
    with pytest.raises(ValueError, match=r"player 1: .*pass base"):
        read_players(page)
    with pytest.raises(ValueError, match="pass base"):
        inline_data(page, None)
    (path,) = (tmp_path / DATA_FOLDER).glob("*.json")
    original = path.read_bytes()
    path.write_bytes(original.replace(b'"interval":40', b'"interval":41'))
    with pytest.raises(ValueError, match=f"{path.name}: the file's name is not the hash"):
        read_players(page, base=base)
    path.unlink()
    with pytest.raises(ValueError, match=f"{path.name}: the player's data file cannot be read"):
        read_players(page, base=base)
    path.write_bytes(original)
    (png,) = (tmp_path / DATA_FOLDER).glob("*.png")
    png.write_bytes(png.read_bytes() + b"\0")
    with pytest.raises(ValueError, match=f"{png.name}: the file's name is not the hash"):
        read_players(page, base=base)


def test_move_data_out_refuses_bad_arguments(player_html):
    with pytest.raises(TypeError, match="html"):
        move_data_out(player_html.encode(), lambda n: n)
    with pytest.raises(ValueError, match="not a plain URL"):
        move_data_out(player_html, lambda n: f'"{n}')
    with pytest.raises(TypeError, match="data"):
        data_file_name("text")
