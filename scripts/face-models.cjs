#!/usr/bin/env node
// Brings the face recognition weights into node_modules at install time (the project's postinstall),
// from the npm registry only, with every byte pinned.
//
// Why not a dependency: the weights' only registry package (faceplugin-face-recognition-js 0.0.1)
// declares its build tools (jest, webpack, eslint, ...) as runtime dependencies: 431 packages and
// 317 MB for one 4.9 MB file. So we take that one version's tarball with `npm pack` (npm's own
// registry client, cache and proxy settings), check the tarball against the registry integrity
// pinned below, extract only the files we use, check each against a pinned SHA-256, and write them
// to node_modules/.face-models/. Nothing is fetched at run time: the engine reads that folder and
// refuses to start if a file is missing or differs (src/face/onnx-models.ts).
//
// Plain Node (no dependency, Node 20+), because npm itself may run it with the system Node.
'use strict';
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const SOURCE = {
  spec: 'faceplugin-face-recognition-js@0.0.1',
  // dist.integrity of that version in the registry (npm view faceplugin-face-recognition-js@0.0.1 dist.integrity).
  integrity: 'sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw==',
};
/** Files taken from the tarball: path inside it → name in node_modules/.face-models, SHA-256. */
const FILES = [
  { from: 'package/model/fr_feature.onnx', to: 'fr_feature.onnx', sha256: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581' },
  { from: 'package/LICENSE', to: 'LICENSE.faceplugin', sha256: null },
];

const root = path.resolve(__dirname, '..');
const dest = path.join(root, 'node_modules', '.face-models');

function sha256(buf) { return crypto.createHash('sha256').update(buf).digest('hex'); }

function upToDate() {
  return FILES.every((f) => {
    const p = path.join(dest, f.to);
    if (!fs.existsSync(p)) return false;
    return f.sha256 === null || sha256(fs.readFileSync(p)) === f.sha256;
  });
}

/** Minimal ustar reader: the regular files of a tar archive as a Map path → bytes. */
function untar(tar) {
  const out = new Map();
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a, n) => { const s = h.subarray(a, a + n); const z = s.indexOf(0); return s.subarray(0, z < 0 ? n : z).toString('utf8'); };
    const name = str(0, 100);
    const prefix = str(345, 155);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const full = prefix ? `${prefix}/${name}` : name;
    if (type === '0' || type === '\0') out.set(full, tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function npmCommand() {
  // Inside an npm lifecycle script npm_execpath is npm's own CLI: run that one, with this Node.
  const cli = process.env.npm_execpath;
  if (cli && /\.c?js$/.test(cli) && fs.existsSync(cli)) return [process.execPath, [cli]];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
}

function main() {
  if (upToDate()) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'selfie-idp-face-models-'));
  try {
    const [cmd, pre] = npmCommand();
    const json = execFileSync(cmd, [...pre, 'pack', SOURCE.spec, '--json', '--ignore-scripts', '--pack-destination', tmp], {
      cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
    });
    const file = JSON.parse(json)[0].filename;
    const tgz = fs.readFileSync(path.join(tmp, path.basename(file)));
    const got = 'sha512-' + crypto.createHash('sha512').update(tgz).digest('base64');
    if (got !== SOURCE.integrity) throw new Error(`${SOURCE.spec}: tarball integrity ${got} differs from the pinned ${SOURCE.integrity}`);
    const entries = untar(zlib.gunzipSync(tgz));
    fs.mkdirSync(dest, { recursive: true });
    for (const f of FILES) {
      const bytes = entries.get(f.from);
      if (!bytes) throw new Error(`${SOURCE.spec}: ${f.from} missing from the tarball`);
      if (f.sha256 !== null && sha256(bytes) !== f.sha256) throw new Error(`${SOURCE.spec}: ${f.from} does not match its pinned SHA-256`);
      // Write then rename, so an interrupted install never leaves a truncated model behind.
      const target = path.join(dest, f.to);
      fs.writeFileSync(target + '.part', bytes);
      fs.renameSync(target + '.part', target);
    }
    process.stdout.write(`face models: ${FILES.map((f) => f.to).join(', ')} from ${SOURCE.spec} (integrity checked) → node_modules/.face-models\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`face models: ${e.message}\n`);
  process.exit(1);
}
