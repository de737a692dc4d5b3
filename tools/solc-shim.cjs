#!/usr/bin/env node
// A `solc` command for forge, backed by the npm package `solc` (solc-js): it answers the two
// invocations forge makes, `--version` and `--standard-json` (input on stdin).
const path = require('path');
const fs = require('fs');
const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

const args = process.argv.slice(2);
if (args.includes('--version')) {
  const v = solc.version().replace('.Emscripten.clang', '.Linux.g++');
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${v}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('this solc shim supports only --version and --standard-json\n');
  process.exit(1);
}
const bases = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') bases.push(args[i + 1]);
}
const input = fs.readFileSync(0, 'utf8');
function findImports(p) {
  for (const b of ['.', ...bases]) {
    const full = path.resolve(b, p);
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
  }
  return { error: `file not found: ${p}` };
}
process.stdout.write(solc.compile(input, { import: findImports }));
