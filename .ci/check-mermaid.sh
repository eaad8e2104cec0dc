#!/usr/bin/env bash
# The Mermaid diagrams of the golden trees' Markdown (the README's topology,
# a ```mermaid flowchart that GitHub and GitLab draw) parsed by the real
# Mermaid parser, headless (.ci/mermaid/check.mjs says what else fails: a
# node referenced but never declared, an unclosed fence, a tree with sites/
# and no diagram). It first proves it can fail: known-broken diagrams must be
# refused and a known-good one accepted.
# Tools, pinned in .ci/mermaid/package-lock.json and installed there with
# `npm ci` (git-ignored node_modules; reinstalled when the lock changes):
# mermaid 11.17.2, and happy-dom 21.0.4 as the DOM Mermaid's DOMPurify needs
# when it loads (no browser). Needs Node 20 or later; under CI=true a missing
# node or npm fails (.ci/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
need_cmd node "install Node.js 20 or later" || exit 0
need_cmd npm "install npm (it comes with Node.js)" || exit 0
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "FAIL check-mermaid: Node $(node --version) is too old (happy-dom needs 20 or later)"; exit 1
fi

dir=.ci/mermaid
if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"; then
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"
fi
node "$dir/check.mjs" "$@"
