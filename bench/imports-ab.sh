#!/usr/bin/env bash
# Same-sitting A/B of imports: `bash bench/imports-ab.sh <rev-before> [<rev-after>]`. Checks each
# revision out in a temporary worktree (the working tree's own uncommitted files stay out of it,
# so other engineers' changes in progress are not measured), then runs `bench/imports.ts` of each
# in turn, RUNS times (3), alternating which goes first, and prints the server and PostgreSQL CPU
# seconds per 1,000 rows of every file of every run, then the median of each side.
# Without <rev-after> the after side is HEAD plus the working tree's versions of the files named in
# FILES (space-separated paths): measure a change before committing it.
# BEFORE_PACKAGES: package folders side a uses instead of node_modules' own (an unpatched copy of a
# package a postinstall script patches). Knobs passed to bench/imports.ts: SIZES (20000), RECORDS
# (20000), RECORD_TYPES, RERUN (false), SERVER_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?usage: bench/imports-ab.sh <rev-before> [<rev-after>]}
after=${2:-HEAD}
runs=${RUNS:-3}
dir=$(mktemp -d)
cleanup () { for side in a b; do git worktree remove --force "$dir/$side" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
git worktree add -q --detach "$dir/a" "$before"
git worktree add -q --detach "$dir/b" "$after"
for side in a b; do ln -s "$PWD/node_modules" "$dir/$side/node_modules"; done
if [ -n "${BEFORE_PACKAGES:-}" ]; then
  # Side a's node_modules: links to every package of ours but these folders (e.g. an unpatched
  # copy of a package that a postinstall script patches: a patch is measured like a commit).
  rm "$dir/a/node_modules"; mkdir "$dir/a/node_modules"
  for entry in node_modules/* node_modules/.bin; do ln -s "$PWD/$entry" "$dir/a/$entry"; done
  for pkg in $BEFORE_PACKAGES; do rm "$dir/a/node_modules/$(basename "$pkg")"; ln -s "$pkg" "$dir/a/node_modules/$(basename "$pkg")"; done
fi
if [ -z "${2:-}" ]; then for f in ${FILES:-}; do cp "$f" "$dir/b/$f"; done; fi

run () { # side port: one bench/imports.ts run; prints "side|file|server CPU|PostgreSQL CPU" per file
  (cd "$dir/$1" && SIZES=${SIZES:-20000} RECORDS=${RECORDS:-20000} RERUN=${RERUN:-false} WRITE_RESULTS=false BENCH_PORT=$2 \
    node --import tsx bench/imports.ts 2>/dev/null) | awk -F'|' -v side="$1" '/^\| [0-9]/ { gsub(/^ +| +$/, "", $2); print side "|" $2 "|" $11 "|" $12 }'
}
out="$dir/runs"
for i in $(seq "$runs"); do
  if [ $((i % 2)) = 1 ]; then order="a b"; else order="b a"; fi
  for side in $order; do run "$side" $((3620 + i)) | tee -a "$out"; done
done
node -e "
  const lines = require('fs').readFileSync(process.argv[1], 'utf8').trim().split('\n').map((l) => l.split('|').map((s) => s.trim()))
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
  for (const file of [...new Set(lines.map((l) => l[1]))]) {
    const side = (s) => { const ls = lines.filter((l) => l[0] === s && l[1] === file); return { server: med(ls.map((l) => +l[2])), pg: med(ls.map((l) => +l[3])), n: ls.length } }
    const a = side('a'), b = side('b')
    console.log(file + ': median of ' + a.n + ' / ' + b.n + ' runs: server CPU s / 1k rows ' + a.server + ' -> ' + b.server + ' (' + (b.server / a.server).toFixed(2) + 'x), PostgreSQL ' + a.pg + ' -> ' + b.pg)
  }" "$out"
