#!/usr/bin/env bash
# Installs what the viewer's browser test needs: Debian's chromium (scripts/deps.sh installs it
# too) and puppeteer-core from npm into build/npm/ (once; its version is pinned).
# Usage: bash tests/browser/install.sh [NPM_DIR]   (default: build/npm)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${1:-build/npm}"
version=24.8.2  # runs on Debian 12's Node.js 18 (puppeteer-core 25 needs Node.js 22)
if ! command -v chromium >/dev/null || ! command -v npm >/dev/null; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium npm
fi
installed=$(node -p "require(require('path').resolve('$dir/node_modules/puppeteer-core/package.json')).version" \
  2>/dev/null || true)
if [[ "$installed" != "$version" ]]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "puppeteer-core@$version" >&2
fi
