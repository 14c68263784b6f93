#!/usr/bin/env node
// Entry point for `npx selfie-idp`. The code is TypeScript run by Node's built-in type
// stripping (Node 22.18+); if the Node on PATH is older, re-run with the Node that this package
// installs from the npm registry (devDependency `node`), so the CLI works on any machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'src', 'cli.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 18);

if (supported) {
  const { main } = await import(cli);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const bundled = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(bundled)) {
    console.error(`selfie-idp needs Node.js 22.18 or newer (this is ${process.version}). Run \`npm ci\` in ${root} to install it locally, or install a newer Node.`);
    process.exit(1);
  }
  const result = spawnSync(bundled, [cli, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
