"""Every animation of the book, rendered twice: our player and matplotlib's default jshtml.

No list of animations is kept here. The benchmark finds the animations in the built pages
(``<div class="descent-anim" data-content-id=…>``, read by :func:`descent.player.read_players`),
re-runs each chapter that has one — its code cells, from
the executed notebook, in an IPython shell in a subprocess, in the chapter's own directory of a
scratch copy — and records every :class:`descent.animation.JsAnimation` the chapter creates.
So the animation measured is built by the chapter's own call with the chapter's own arguments.
An animation counts as the page's when its ``to_html()`` is byte-for-byte in the page (the
content id is a hash of the frames, so a different animation cannot match by accident).

For each one: frames, our HTML bytes, ``default_jshtml()`` bytes (matplotlib's own
``to_jshtml()`` of the same figure and frames), both frames-only payloads, and the visible loss:
our palette frames decoded against matplotlib's RGBA frames decoded and flattened onto white.

Usage (the subprocess): ``python bench/animations.py OUT_DIR NOTEBOOK CWD``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

# matplotlib's frames: data URIs whose base64 is split over lines by backslash continuations.
_DATA_URI = re.compile(r"data:image/png;base64,((?:[A-Za-z0-9+/=]|\\\n)+)")


def our_frames(html: str) -> list:
    """The stored frames (:class:`descent.codec.Frame` s, keyframes and deltas) of the first
    of our players in `html`, as the page holds them; [] if there is none."""
    from descent.player import read_players

    players = read_players(html)
    return players[0].frames if players else []


def default_frames(html: str) -> list[str]:
    """The base64 PNG of every frame of matplotlib's default jshtml."""
    return [m.group(1).replace("\\\n", "") for m in _DATA_URI.finditer(html)]


def frame_payloads(html: str) -> list[str]:
    """The base64 frame data an animation's HTML holds (ours or matplotlib's)."""
    ours = our_frames(html)
    if ours:
        return [base64.b64encode(frame.png).decode("ascii") for frame in ours]
    return default_frames(html)


def animation_ids(page: str, base: Path | None = None) -> list[str]:
    """The content ids of our players on a page, in page order (a copy repeats its id);
    `base` is the page's folder, where the site's players' data files are found."""
    from descent.player import read_players

    return [player.content_id for player in read_players(page, base=base)]


def decode_rgb(payload: str):
    """A base64 PNG as an RGB uint8 array, transparent pixels flattened onto white exactly as
    :attr:`JsAnimation.rgb_frames` does (:func:`descent.codec.on_white`)."""
    from descent.codec import on_white, read_png

    return on_white(read_png(base64.b64decode(payload)))


def visible_loss(shown, reference) -> dict:
    """Frames as shown (RGB arrays) against reference RGB frames: the worst frame's PSNR (dB),
    the largest and the mean absolute difference of a channel (0–255), the share of pixels
    that differ at all."""
    import numpy as np

    worst_psnr, max_abs, total_abs, changed, pixels, count = math.inf, 0, 0.0, 0, 0, 0
    for mine, ref in zip(shown, reference, strict=True):
        diff = np.abs(np.asarray(mine, dtype=np.int16) - np.asarray(ref, dtype=np.int16))
        mse = float(np.mean(diff.astype(np.float64) ** 2))
        psnr = math.inf if mse == 0 else 10 * math.log10(255**2 / mse)
        worst_psnr = min(worst_psnr, psnr)
        max_abs = max(max_abs, int(diff.max()))
        total_abs += float(diff.mean())
        changed += int(np.count_nonzero(diff.max(axis=-1)))
        pixels += diff.shape[0] * diff.shape[1]
        count += 1
    return {
        "psnr_min_db": worst_psnr,
        "max_abs_diff": max_abs,
        "mean_abs_diff": total_abs / max(count, 1),
        "pixels_changed": changed / max(pixels, 1),
    }


def _measure(animation, out_dir: Path) -> dict:
    """Render one animation both ways, write both HTMLs to `out_dir`, return its numbers."""
    ours = animation.to_html()
    default = animation.default_jshtml()
    from descent.codec import decode_frames, on_white

    content_id = animation.content_id
    (out_dir / f"{content_id}.ours.html").write_text(ours, encoding="utf-8")
    (out_dir / f"{content_id}.default.html").write_text(default, encoding="utf-8")
    stored, theirs = our_frames(ours), default_frames(default)
    keyframes = sum(1 for frame in stored if frame.is_key)
    if not len(theirs) == len(stored) == animation.frame_count:  # no ratio of unequal things
        raise RuntimeError(
            f"{content_id}: {len(stored)} frames of ours and {len(theirs)} of matplotlib's "
            f"found, for an animation of {animation.frame_count}"
        )
    loss = visible_loss(on_white(decode_frames(stored)), (decode_rgb(p) for p in theirs))
    compared_with = "matplotlib's default frames, decoded and flattened onto white"
    width, height = animation.size
    return {
        "id": content_id,
        "alt": animation.alt,
        "frames": animation.frame_count,
        "keyframes": keyframes,
        "width": width,
        "height": height,
        "ours_bytes": len(ours.encode()),
        "default_bytes": len(default.encode()),
        "ours_frame_bytes": sum(len(base64.b64encode(frame.png)) for frame in stored),
        "default_frame_bytes": sum(len(p) for p in theirs),
        "default_frames_found": len(theirs),
        "compared_with": compared_with,
        **loss,
    }


def run_chapter(notebook: Path, cwd: Path, out_dir: Path) -> dict:
    """Run a chapter's code cells in an IPython shell, recording each JsAnimation created."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(cwd)
    sys.path.insert(0, str(cwd))
    from IPython.core.interactiveshell import InteractiveShell

    from descent.animation import JsAnimation

    created: list = []
    original_init, original_of = JsAnimation.__init__, JsAnimation.of.__func__

    # Every JsAnimation made, by either constructor, once it is made (a call that raises makes
    # none): JsAnimation.of() (the player of any matplotlib animation, as descent.use_player()
    # shows one) makes its instance without __init__.
    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        created.append(self)

    def recording_of(cls, *args, **kwargs):
        made = original_of(cls, *args, **kwargs)
        created.append(made)
        return made

    JsAnimation.__init__ = recording_init
    JsAnimation.of = classmethod(recording_of)
    # The chapter may render the default jshtml itself (to compare): keep it, don't render twice.
    original_default = JsAnimation.default_jshtml
    rendered: dict[int, str] = {}

    def remembered_default(self):
        if id(self) not in rendered:
            rendered[id(self)] = original_default(self)
        return rendered[id(self)]

    JsAnimation.default_jshtml = remembered_default
    shell = InteractiveShell.instance()
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    errors = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            result = shell.run_cell(source, store_history=False, silent=False)
        if not result.success and "raises-exception" not in tags:
            errors.append(f"cell {index}: {result.error_in_exec or result.error_before_exec!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    seen: set[int] = set()
    measured = []
    for animation in created:
        if id(animation) in seen:
            continue
        seen.add(id(animation))
        measured.append(_measure(animation, out_dir))
    return {"notebook": str(notebook), "errors": errors, "animations": measured}


def measure_chapter(
    notebook: Path, cwd: Path, out_dir: Path, timeout: float = 900, env: dict | None = None
) -> dict:
    """:func:`run_chapter` in a fresh Python process (its own imports, figures and state)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result_file = out_dir / (notebook.stem + ".json")
    result_file.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, __file__, str(out_dir), str(notebook), str(cwd), str(result_file)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**(env or os.environ), "MPLBACKEND": "Agg"},
    )
    if done.returncode or not result_file.exists():
        return {
            "notebook": str(notebook),
            "animations": [],
            "errors": [f"exit {done.returncode}: {done.stderr[-2000:]}"],
        }
    return json.loads(result_file.read_text(encoding="utf-8"))


if __name__ == "__main__":
    out, nb, where, result_path = (Path(a) for a in sys.argv[1:5])
    found = run_chapter(nb.resolve(), where.resolve(), out.resolve())
    Path(result_path).write_text(json.dumps(found, indent=1), encoding="utf-8")
