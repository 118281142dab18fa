// The player of descent's animations (src/descent/player/render.py puts it in the page).
//
// This script runs once per copy of the player on a page and looks after the player it sits
// in: its root is the script's parent element, its data the JSON block beside it. So one
// animation shown twice gives two independent players, with no element id at all. (A page
// that runs the script some other way, without document.currentScript, gets every player
// on it that is not running yet.)
//
// The data: alt (the whole animation's text alternative), labels (one per frame), interval
// (ms per frame while playing), rest (frames 1, 2, …: base64 PNGs, "" for a frame that
// equals the one before) and at (at[k] is null if frame k is a keyframe, else the [x, y] at
// which its delta is drawn over frame k - 1, or [x, y, 1] for a delta whose box replaces what
// was there). Frame 0 is the <img>'s own picture. In a notebook the data are inside the JSON
// block; on the site (src/descent/player/datafile.py) the block is empty and its data-src names
// a file, fetched once the page has loaded (or at the first press of a control, if sooner),
// so that the frames do not hold up the article.
//
// Frame k is composited on an offscreen canvas (its keyframe, then the deltas after it, or
// just the next delta when stepping on from the frame drawn last) and shown in the <img>.
//
// On paper a player cannot play: once its frames are ready, filmstrip() below composites a
// few of them, evenly spaced, into a print-only grid (see player.css, @media print) and marks
// the root data-filmstrip="ready", the signal a PDF printer waits for.
//
// What runs after the page has loaded (reading the data, making the frames into images, the
// filmstrip) makes no long task: on a phone a task over 50 ms delays the reader's taps
// (Lighthouse counts it as blocking time, on a CPU 4× slower than a desktop's). The PNGs are
// read (fetch) and decoded (createImageBitmap) off the main thread, and the rest works in
// slices of a few milliseconds with a turn for the browser in between.
(() => {
  "use strict";

  // A frame's picture (null for "same as before") composited over the frame before on the 2D
  // context `pen`, where `place` (its at[k]) says: null for a keyframe, else [x, y, replace] for a
  // delta; a keyframe, or a replacing delta, first clears what it covers (it may be
  // translucent). The one place frames are composited, on screen and on paper.
  const drawFrame = (pen, picture, place) => {
    const [x, y, replace] = place || [0, 0, 1];
    if (!place) pen.clearRect(0, 0, pen.canvas.width, pen.canvas.height);
    else if (replace && picture) pen.clearRect(x, y, picture.width, picture.height);
    if (picture) pen.drawImage(picture, x, y);
  };

  // The frames to composite, in order, to show frame k when frame `drawn` (-1 for none) is on
  // the canvas: on from `drawn` if it lies between k's keyframe and k, else from that keyframe.
  const framesUpTo = (at, drawn, k) => {
    let from = k;
    while (at[from]) from--;
    if (drawn >= from && drawn < k) from = drawn + 1;
    return Array.from({ length: k - from + 1 }, (_, j) => from + j);
  };

  // Work in slices of at most SLICE_MS, then give the browser a turn: `await pause()` between
  // two pieces of work yields only once the slice is used up.
  const SLICE_MS = 8;
  const breathe = () => new Promise((resolve) => setTimeout(resolve));
  let sliceStart = performance.now();
  const pause = async () => {
    if (performance.now() - sliceStart < SLICE_MS) return;
    await breathe();
    sliceStart = performance.now();
  };

  // The print-only filmstrip of one player: FILMSTRIP_FRAMES frames (or all, if fewer), first
  // and last included, each under its label, composited from the player's own frames (pngs:
  // each frame's PNG as a Blob, null for "same as before"; at: where each is drawn). Each PNG is
  // decoded by createImageBitmap, off the main thread (drawing an <img> decodes it on it).
  const FILMSTRIP_FRAMES = 6;
  const filmstrip = async (root, { alt, labels, at, pngs, width, height }) => {
    const count = pngs.length;
    const n = Math.min(FILMSTRIP_FRAMES, count);
    const wanted = new Set();
    for (let j = 0; j < n; j++) wanted.add(n === 1 ? 0 : Math.round((j * (count - 1)) / (n - 1)));
    const canvas = Object.assign(document.createElement("canvas"), { width, height });
    const pen = canvas.getContext("2d");
    const make = (tag, props) => Object.assign(document.createElement(tag), props);
    const grid = make("figure", { className: "descent-filmstrip" });
    grid.style.setProperty("--descent-columns", width > 1.8 * height ? 2 : 3);
    const shown = [];
    let drawn = -1;
    for (const k of wanted) {  // in ascending order, as added
      for (const j of framesUpTo(at, drawn, k)) {
        const picture = pngs[j] && (await createImageBitmap(pngs[j]));
        drawFrame(pen, picture, at[j]);
        picture?.close();
      }
      drawn = k;
      const cell = make("figure", { className: "descent-filmstrip-frame" });
      cell.dataset.frame = k;
      // toBlob encodes the PNG off the main thread (toDataURL would block it)
      const blob = await new Promise((resolve) => canvas.toBlob(resolve));
      const src = URL.createObjectURL(blob);
      const shot = make("img", { src, width, height, alt: labels[k] });
      shown.push(shot.decode());
      cell.append(shot, make("figcaption", { textContent: labels[k] }));
      grid.append(cell);
    }
    const caption = `${n} of ${count} frames, evenly spaced. ${alt}`;
    grid.append(make("figcaption", { className: "descent-filmstrip-caption", textContent: caption }));
    await Promise.all(shown);
    root.querySelector(".descent-filmstrip")?.remove();
    root.append(grid);
    root.dataset.filmstrip = "ready";
  };

  // The response to fetching `url`, or an error naming it.
  const fetchOk = async (url) => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
    return response;
  };

  // A frame's PNG as a Blob, from its URL (a data: URL in a notebook and for every frame but
  // the first on the site): fetched, or read here from a data: URL where fetch fails (a host
  // whose Content-Security-Policy forbids fetching data: URLs, connect-src).
  const DATA_PNG = "data:image/png;base64,";
  const png = (src) =>
    fetchOk(src).then(
      (response) => response.blob(),
      (error) => {
        if (!src.startsWith(DATA_PNG)) throw error;
        const bytes = Uint8Array.from(atob(src.slice(DATA_PNG.length)), (c) => c.charCodeAt(0));
        return new Blob([bytes], { type: "image/png" });
      },
    );

  // The player's data: parsed from its JSON block, or fetched from the file its data-src names.
  const readData = async (block) => {
    const url = block.dataset.src;
    return url ? (await fetchOk(url)).json() : JSON.parse(block.textContent);
  };

  const start = (root) => {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    const $ = (name) => root.querySelector(".descent-" + name);
    const img = $("frame"), slider = $("slider"), counter = $("counter"), play = $("play");
    const count = Number(slider.max) + 1;
    // The data are read, and the frames decoded, when first needed or once the page has
    // loaded: decoding hundreds of images must not hold up the page's load. The frames are
    // ready once framesReady() resolves; then the filmstrip is made. Each frame is read by
    // png() and shown through a blob: URL.
    let data = null, pngs = null, pictures = null, decoded = null;
    const decode = async (read) => {
      data = read;
      const reading = [png(img.getAttribute("src"))];
      for (const frame of data.rest) {
        await pause();
        reading.push(frame && png(DATA_PNG + frame));
      }
      pngs = await Promise.all(reading);
      const found = [];
      for (const blob of pngs) {
        await pause();
        found.push(blob && Object.assign(new Image(), { src: URL.createObjectURL(blob) }));
      }
      await Promise.all(found.map((picture) => picture && picture.decode()));
      pictures = found;
    };
    const framesReady = () => (decoded ??= readData($("data")).then(decode));
    const width = Number(img.getAttribute("width")), height = Number(img.getAttribute("height"));
    const later = () =>
      framesReady().then(() => {
        const { alt, labels, at } = data;
        return filmstrip(root, { alt, labels, at, pngs, width, height });
      });
    // Once the page has loaded and painted (the browser is idle), whether or not the player
    // is in view. Without its data (a site opened from disk: browsers fetch no file:// URL)
    // the player is its first frame, without controls that would do nothing.
    const fetched = () =>
      (window.requestIdleCallback || setTimeout)(() =>
        later().catch(() => ($("controls").hidden = true)),
      );
    if (document.readyState === "complete") fetched();
    else window.addEventListener("load", fetched, { once: true });
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const pen = canvas.getContext("2d");
    let i = 0, drawn = -1, shown = 0, timer = null;
    const paint = () => {
      if (shown === i) return;
      const { alt, labels, at } = data;
      for (const k of framesUpTo(at, drawn, i)) drawFrame(pen, pictures[k], at[k]);
      drawn = shown = i;
      img.src = canvas.toDataURL();
      img.alt = alt + " Showing " + labels[i] + ".";
      slider.value = i;
      slider.setAttribute("aria-valuetext", labels[i]);
      counter.textContent = labels[i];
      root.dataset.frame = i;
    };
    const show = (k) => {
      i = (k + count) % count;
      framesReady().then(paint);
    };
    const stop = () => {
      clearInterval(timer);
      timer = null;
      play.classList.remove("descent-on");
    };
    const tick = () => (root.isConnected ? show(i + 1) : stop());
    play.onclick = () => {
      play.classList.add("descent-on");
      framesReady().then(() => {
        const on = play.classList.contains("descent-on"); // not paused while the data came
        if (on && timer === null) timer = setInterval(tick, data.interval);
      });
    };
    $("pause").onclick = stop;
    const jump = (k) => () => {
      stop();
      show(k());
    };
    $("first").onclick = jump(() => 0);
    $("prev").onclick = jump(() => i - 1);
    $("next").onclick = jump(() => i + 1);
    $("last").onclick = jump(() => count - 1);
    slider.oninput = () => show(Number(slider.value));
    $("controls").hidden = false;
  };

  const script = document.currentScript;
  const root = script && script.closest(".descent-anim");
  if (root) start(root);
  else document.querySelectorAll(".descent-anim:not([data-ready])").forEach(start);
})();
