"""Every animation of the book, rendered twice: our player and matplotlib's default jshtml.

No list of animations is kept here. The benchmark finds the animations in the built pages
(``<div class="descent-anim" id=…>``), re-runs each chapter that has one — its code cells, from
the executed notebook, in an IPython shell in a subprocess, in the chapter's own directory of a
scratch copy — and records every :class:`descent.animation.JsAnimation` the chapter creates.
So the animation measured is built by the chapter's own call with the chapter's own arguments.
An animation counts as the page's when its ``to_html()`` is byte-for-byte in the page (the
element id is a hash of the frames, so a different animation cannot match by accident).

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

# Frames as data URIs: ours ("data:image/png;base64,…" up to a quote), matplotlib's split over
# lines with backslash continuations.
_DATA_URI = re.compile(r"data:image/png;base64,((?:[A-Za-z0-9+/=]|\\\n)+)")
_OUR_FRAMES = re.compile(r'"((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)"')
ANIM_ID = re.compile(r'<div class="descent-anim" id="([^"]+)"')


def frame_payloads(html: str) -> list[str]:
    """The base64 payload of every PNG frame in an animation's HTML (ours or matplotlib's).

    Ours: the first frame is a data URI, the others bare base64 strings in a JS array.
    matplotlib's: every frame is a data URI, its base64 split by backslash-newlines.
    """
    uris = [m.group(1).replace("\\\n", "") for m in _DATA_URI.finditer(html)]
    script = html.split("const rest = ", 1)
    if len(script) == 2:  # our player: the rest of the frames follow `const rest = [`
        rest = script[1].split("];", 1)[0]
        uris = uris[:1] + [m.group(1) for m in _OUR_FRAMES.finditer(rest) if m.group(1)]
    return uris


def animation_ids(page: str) -> list[str]:
    """The element ids of our players on a page, in page order."""
    return ANIM_ID.findall(page)


def decode_rgb(payload: str):
    """A base64 PNG as an RGB uint8 array, transparent pixels flattened onto white exactly as
    :attr:`JsAnimation.rgb_frames` does."""
    import numpy as np
    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(payload)))
    rgba = np.asarray(image.convert("RGBA")).astype(np.uint16)
    alpha = rgba[..., 3:]
    return ((rgba[..., :3] * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def visible_loss(ours: list[str], reference: list) -> dict:
    """Our decoded frames against reference RGB frames: the worst frame's PSNR (dB), the largest
    and the mean absolute difference of a channel (0–255), the share of pixels that differ."""
    import numpy as np

    worst_psnr, max_abs, total_abs, changed, pixels = math.inf, 0, 0.0, 0, 0
    for payload, ref in zip(ours, reference, strict=True):
        mine = decode_rgb(payload).astype(np.int16)
        diff = np.abs(mine - np.asarray(ref, dtype=np.int16))
        mse = float(np.mean(diff.astype(np.float64) ** 2))
        psnr = math.inf if mse == 0 else 10 * math.log10(255**2 / mse)
        worst_psnr = min(worst_psnr, psnr)
        max_abs = max(max_abs, int(diff.max()))
        total_abs += float(diff.mean())
        changed += int(np.count_nonzero(diff.max(axis=-1)))
        pixels += diff.shape[0] * diff.shape[1]
    return {
        "psnr_min_db": worst_psnr,
        "max_abs_diff": max_abs,
        "mean_abs_diff": total_abs / max(len(ours), 1),
        "pixels_changed": changed / max(pixels, 1),
    }


def _measure(animation, out_dir: Path) -> dict:
    """Render one animation both ways, write both HTMLs to `out_dir`, return its numbers."""
    ours = animation.to_html()
    default = animation.default_jshtml()
    element_id = animation.element_id
    (out_dir / f"{element_id}.ours.html").write_text(ours, encoding="utf-8")
    (out_dir / f"{element_id}.default.html").write_text(default, encoding="utf-8")
    ours_frames, default_frames = frame_payloads(ours), frame_payloads(default)
    reference = [decode_rgb(p) for p in default_frames]
    compared_with = "matplotlib's default frames, decoded"
    same_shape = bool(reference) and reference[0].shape == decode_rgb(ours_frames[0]).shape
    if len(reference) != len(ours_frames) or not same_shape:
        reference, compared_with = None, "nothing: the default frames differ in number or size"
        if hasattr(animation, "rgb_frames"):
            reference, compared_with = list(animation.rgb_frames), "the Agg frames (RGB)"
    loss = (
        visible_loss(ours_frames, reference)
        if reference is not None
        else dict.fromkeys(["psnr_min_db", "max_abs_diff", "mean_abs_diff", "pixels_changed"])
    )
    width, height = animation.size
    return {
        "id": element_id,
        "alt": animation.alt,
        "frames": animation.frame_count,
        "width": width,
        "height": height,
        "ours_bytes": len(ours.encode()),
        "default_bytes": len(default.encode()),
        "ours_frame_bytes": sum(len(p) for p in ours_frames),
        "default_frame_bytes": sum(len(p) for p in default_frames),
        "default_frames_found": len(default_frames),
        "compared_with": compared_with,
        **loss,
    }


def run_chapter(notebook: Path, cwd: Path, out_dir: Path) -> dict:
    """Run a chapter's code cells in an IPython shell, recording each JsAnimation created."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(cwd)
    sys.path.insert(0, str(cwd))
    from IPython.core.interactiveshell import InteractiveShell

    from descent import animation as animation_module

    created: list = []
    original_init = animation_module.JsAnimation.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        created.append(self)

    animation_module.JsAnimation.__init__ = recording_init
    # The chapter may render the default jshtml itself (to compare): keep it, don't render twice.
    original_default = animation_module.JsAnimation.default_jshtml
    rendered: dict[int, str] = {}

    def remembered_default(self):
        if id(self) not in rendered:
            rendered[id(self)] = original_default(self)
        return rendered[id(self)]

    animation_module.JsAnimation.default_jshtml = remembered_default
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


def measure_chapter(notebook: Path, cwd: Path, out_dir: Path, timeout: float = 900) -> dict:
    """:func:`run_chapter` in a fresh Python process (its own imports, figures and state)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result_file = out_dir / (notebook.stem + ".json")
    result_file.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, __file__, str(out_dir), str(notebook), str(cwd), str(result_file)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "MPLBACKEND": "Agg"},
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
