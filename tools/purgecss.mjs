#!/usr/bin/env node
// Cut stylesheets, in place, to the rules whose selectors the site's pages and scripts use,
// with PurgeCSS (the npm package `purgecss`, pinned in package.json). Called by
// _ext/usedcss.py after an html build; it decides the files and the safelist.
//
// Usage: node tools/purgecss.mjs < options.json
//   options.json: {"css": [path, ...], "content": [path, ...],
//                  "safelist": {"standard": [regex, ...], "deep": [...], "greedy": [...]},
//                  "fontFace": bool, "keyframes": bool}
//   Each safelist entry is a regular expression's source (JSON has no RegExp).
// Prints one JSON line per stylesheet: {"file", "before", "after"} (bytes).
// Exit status: 0 done, 2 bad options (a listed file missing, an unknown key).
import { readFile, writeFile } from "node:fs/promises";
import process from "node:process";
import { PurgeCSS } from "purgecss";

const KEYS = new Set(["css", "content", "safelist", "fontFace", "keyframes"]);

function fail(message) {
  console.error(`purgecss.mjs: ${message}`);
  process.exit(2);
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf-8");
}

const options = JSON.parse(await readStdin());
for (const key of Object.keys(options)) {
  if (!KEYS.has(key)) fail(`unknown option ${key}`);
}
const safelist = {};
for (const [kind, sources] of Object.entries(options.safelist ?? {})) {
  safelist[kind] = sources.map((source) => new RegExp(source));
}
// Raw content and css (not globs): the caller lists every file, in a fixed order.
const content = [];
for (const file of options.content) {
  const extension = file.split(".").pop();
  content.push({ raw: await readFile(file, "utf-8").catch(() => fail(`no file ${file}`)), extension });
}
const results = [];
for (const file of options.css) {
  const raw = await readFile(file, "utf-8").catch(() => fail(`no file ${file}`));
  // One PurgeCSS per stylesheet: its font-face and keyframes bookkeeping is per instance.
  const [result] = await new PurgeCSS().purge({
    content,
    css: [{ raw, name: file }],
    safelist,
    fontFace: Boolean(options.fontFace),
    keyframes: Boolean(options.keyframes),
  });
  results.push({ file, before: Buffer.byteLength(raw), css: result.css });
}
for (const { file, before, css } of results) {
  await writeFile(file, css);
  console.log(JSON.stringify({ file, before, after: Buffer.byteLength(css) }));
}
