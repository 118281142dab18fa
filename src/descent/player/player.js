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
// was there). Frame 0 is the <img>'s own picture.
//
// Frame k is composited on an offscreen canvas (its keyframe, then the deltas after it, or
// just the next delta when stepping on from the frame drawn last) and shown in the <img>.
//
// On paper a player cannot play: once its frames are ready, filmstrip() below composites a
// few of them, evenly spaced, into a print-only grid (see player.css, @media print) and marks
// the root data-filmstrip="ready", the signal a PDF printer waits for.
(() => {
  "use strict";

  // Frame k composited over frame k - 1 on the 2D context `pen`: at[k] is null for a keyframe,
  // else [x, y, replace] for a delta; a keyframe, or a replacing delta, first clears what it
  // covers (it may be translucent). The one place frames are composited, on screen and on paper.
  const drawFrame = (pen, pictures, at, k) => {
    const picture = pictures[k], [x, y, replace] = at[k] || [0, 0, 1];
    if (!at[k]) pen.clearRect(0, 0, pen.canvas.width, pen.canvas.height);
    else if (replace && picture) pen.clearRect(x, y, picture.width, picture.height);
    if (picture) pen.drawImage(picture, x, y);
  };

  // The print-only filmstrip of one player: FILMSTRIP_FRAMES frames (or all, if fewer), first
  // and last included, each under its label, composited from the player's own frames
  // (pictures: decoded images, null for "same as before"; at: where each is drawn).
  const FILMSTRIP_FRAMES = 6;
  const filmstrip = (root, { alt, labels, at, pictures, width, height }) => {
    const count = pictures.length;
    const n = Math.min(FILMSTRIP_FRAMES, count);
    const wanted = new Set();
    for (let j = 0; j < n; j++) wanted.add(n === 1 ? 0 : Math.round((j * (count - 1)) / (n - 1)));
    const canvas = Object.assign(document.createElement("canvas"), { width, height });
    const pen = canvas.getContext("2d");
    const make = (tag, props) => Object.assign(document.createElement(tag), props);
    const grid = make("figure", { className: "descent-filmstrip" });
    grid.style.setProperty("--descent-columns", width > 1.8 * height ? 2 : 3);
    for (let k = 0; k < count; k++) {
      drawFrame(pen, pictures, at, k);
      if (!wanted.has(k)) continue;
      const cell = make("figure", { className: "descent-filmstrip-frame" });
      cell.dataset.frame = k;
      const src = canvas.toDataURL();
      cell.append(make("img", { src, width, height, alt: labels[k] }));
      cell.append(make("figcaption", { textContent: labels[k] }));
      grid.append(cell);
    }
    const caption = `${n} of ${count} frames, evenly spaced. ${alt}`;
    grid.append(make("figcaption", { className: "descent-filmstrip-caption", textContent: caption }));
    root.querySelector(".descent-filmstrip")?.remove();
    root.append(grid);
    root.dataset.filmstrip = "ready";
  };

  const start = (root) => {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    const $ = (name) => root.querySelector(".descent-" + name);
    const { alt, labels, interval, rest, at } = JSON.parse($("data").textContent);
    const img = $("frame"), slider = $("slider"), counter = $("counter"), play = $("play");
    const count = rest.length + 1;
    // The frames are decoded when first needed, or once the page has loaded and the browser
    // is idle: decoding hundreds of images must not hold up the page's load.
    let pictures = null, decoded = null;
    const prepare = () => {
      if (decoded === null) {
        pictures = [img.getAttribute("src")]
          .concat(rest.map((f) => f && "data:image/png;base64," + f))
          .map((src) => src && Object.assign(new Image(), { src }));
        decoded = Promise.all(pictures.map((p) => p && p.decode()));
      }
      return decoded;
    };
    // The frames are ready (decoded) once prepare() resolves: then the filmstrip is made.
    const framesReady = () => prepare();
    const width = Number(img.getAttribute("width")), height = Number(img.getAttribute("height"));
    const later = () =>
      (window.requestIdleCallback || setTimeout)(() =>
        framesReady().then(() => filmstrip(root, { alt, labels, at, pictures, width, height })),
      );
    if (document.readyState === "complete") later();
    else window.addEventListener("load", later, { once: true });
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const pen = canvas.getContext("2d");
    let i = 0, drawn = -1, shown = 0, timer = null;
    const paint = () => {
      if (shown === i) return;
      let k = i;
      while (at[k]) k--; // back to frame i's keyframe,
      if (drawn >= k && drawn < i) k = drawn + 1; // or on from the frame drawn last
      for (; k <= i; k++) drawFrame(pen, pictures, at, k);
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
      prepare().then(paint);
    };
    const stop = () => {
      clearInterval(timer);
      timer = null;
      play.classList.remove("descent-on");
    };
    const tick = () => (root.isConnected ? show(i + 1) : stop());
    play.onclick = () => {
      if (timer === null) timer = setInterval(tick, interval);
      play.classList.add("descent-on");
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
