#!/usr/bin/env node
// Compiles every contracts/**/*.sol with solc-js (the native compiler cannot be downloaded here) and writes one
// typed module per contract for viem: src/chain/generated/<Name>.ts with `<Name>Abi` (as const), `<Name>Bytecode`,
// and the runtime code a deployment must have (`<Name>DeployedBytecode`, zeros where `<Name>Immutables` lists the
// [start, length] byte ranges that the constructor fills in), which nodes check against the chain (chain/code.ts). `@openzeppelin/...` imports resolve from node_modules. Skips all work when the hash of the
// inputs (sources, compiler and OpenZeppelin versions, settings, this script) matches the last build.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const contractsDir = join(root, 'contracts');
const outDir = join(root, 'src', 'chain', 'generated');
const hashFile = join(outDir, '.inputs-hash');
const require = createRequire(import.meta.url);

// cancun: the newest EVM that every target (anvil, OP Stack L2s, testnets) runs; solc's newer defaults may
// emit opcodes (clz) that older chains lack.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences'] } },
};

/** contracts/**\/*.sol as source unit names relative to the repository root ('contracts/F32.sol'). */
function listSources(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listSources(path));
    else if (entry.name.endsWith('.sol')) found.push(relative(root, path).split(sep).join('/'));
  }
  return found.sort();
}

function packageVersion(name) {
  return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
}

const sources = listSources(contractsDir);
const hash = createHash('sha256');
hash.update(`solc ${packageVersion('solc')}\nopenzeppelin ${packageVersion('@openzeppelin/contracts')}\n`);
hash.update(JSON.stringify(SETTINGS));
hash.update(readFileSync(fileURLToPath(import.meta.url)));
const contents = {};
for (const name of sources) {
  contents[name] = readFileSync(join(root, name), 'utf8');
  hash.update(`\0${name}\0${contents[name]}`);
}
const inputsHash = hash.digest('hex');

function upToDate() {
  if (!existsSync(hashFile) || readFileSync(hashFile, 'utf8').trim() !== inputsHash) return false;
  const listed = readFileSync(join(outDir, 'index.ts'), 'utf8').match(/'\.\/(\w+)\.js'/g) ?? [];
  return listed.every((m) => existsSync(join(outDir, `${m.slice(3, -4)}.ts`)));
}

if (upToDate()) {
  console.log(`build-contracts: ${sources.length} sources unchanged, skipped`);
  process.exit(0);
}

const solc = require('solc');

/** Import callback: repository files first (relative imports arrive already resolved), then node_modules. */
function findImports(path) {
  const candidates = [resolve(root, path), join(root, 'node_modules', path)];
  for (const file of candidates) {
    if ((file.startsWith(root + sep)) && existsSync(file)) return { contents: readFileSync(file, 'utf8') };
  }
  return { error: `not found in the repository or node_modules (looked for ${candidates.join(', ')})` };
}

const started = performance.now();
const input = {
  language: 'Solidity',
  sources: Object.fromEntries(sources.map((name) => [name, { content: contents[name] }])),
  settings: SETTINGS,
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const problems = output.errors ?? [];
for (const p of problems.filter((p) => p.severity !== 'error')) process.stderr.write(p.formattedMessage);
const errors = problems.filter((p) => p.severity === 'error');
if (errors.length > 0) {
  for (const e of errors) process.stderr.write(e.formattedMessage);
  console.error(`build-contracts: solc ${solc.version()} failed with ${errors.length} error(s); nothing was written`);
  process.exit(1);
}

/** The byte ranges [start, length] of the runtime code that the constructor fills with immutables, in order. */
function immutableRanges(artifact) {
  const refs = Object.values(artifact.evm.deployedBytecode.immutableReferences ?? {}).flat();
  return refs.map((r) => [r.start, r.length]).sort((a, b) => a[0] - b[0]);
}

const modules = new Map();
for (const source of sources) {
  for (const [name, artifact] of Object.entries(output.contracts?.[source] ?? {})) {
    // Libraries with only internal functions are inlined into their users: nothing to deploy or call.
    if (artifact.abi.length === 0) continue;
    if (modules.has(name)) {
      console.error(`build-contracts: contract name ${name} is defined in ${modules.get(name).source} and ${source}; rename one`);
      process.exit(1);
    }
    const text = [
      `// Generated by scripts/build-contracts.mjs from ${source} (solc ${solc.version()}). Do not edit.`,
      `export const ${name}Abi = ${JSON.stringify(artifact.abi, null, 2)} as const;`,
      '',
      `export const ${name}Bytecode: \`0x\${string}\` = '0x${artifact.evm.bytecode.object}';`,
      '',
      `export const ${name}DeployedBytecode: \`0x\${string}\` = '0x${artifact.evm.deployedBytecode.object}';`,
      '',
      `export const ${name}Immutables: readonly (readonly [number, number])[] = ${JSON.stringify(immutableRanges(artifact))};`,
      '',
    ].join('\n');
    modules.set(name, { source, text });
  }
}

mkdirSync(outDir, { recursive: true });
for (const file of readdirSync(outDir)) {
  if (file.endsWith('.ts') && file !== 'index.ts' && !modules.has(file.slice(0, -3))) rmSync(join(outDir, file));
}
for (const [name, { text }] of modules) writeFileSync(join(outDir, `${name}.ts`), text);
const index = [
  '// Generated by scripts/build-contracts.mjs. Do not edit.',
  ...[...modules.keys()].sort().map((name) => `export * from './${name}.js';`),
  '',
].join('\n');
writeFileSync(join(outDir, 'index.ts'), index);
writeFileSync(hashFile, `${inputsHash}\n`);
console.log(
  `build-contracts: compiled ${sources.length} sources into ${modules.size} contract(s) with solc ${solc.version()} ` +
    `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
