#!/usr/bin/env bash
# Same-run A/B of two versions of the server: `bash bench/ab.sh <git-rev> [query-prefix…]`
# (e.g. `bash bench/ab.sh HEAD~3 Q1 Q4`). Checks <git-rev> out in a temporary worktree, starts it
# and the working tree on the seeded rapport_bench (run `npm run bench` once first: it seeds the
# database and writes the request files bench/.run/*.tsv with a 2-hour token), then loads them in
# turn with wrk and the peers' replay.lua and prints req/s and CPU per request (server, and the
# PostgreSQL backends of rapport_bench), then the median of each side over the RUNS pairs (2; take 6 or
# more: this machine's speed drifts by tens of percent within a minute). CPU per request is the
# figure to trust on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bench/ab.sh <git-rev> [query-prefix…]}; shift
queries=(Q1 Q2 Q3 Q4)
[ $# -gt 0 ] && queries=("$@")
replay=../shared/bench/peers/replay.lua
seconds=${SECONDS_PER_RUN:-6}
runs=${RUNS:-2}
ls bench/.run/*.tsv >/dev/null 2>&1 || { echo "no bench/.run/*.tsv: run npm run bench once first" >&2; exit 1; }
base=$(mktemp -d)
git worktree add -q --detach "$base" "$rev"
ln -s "$PWD/node_modules" "$base/node_modules"
pids=()
cleanup () { kill "${pids[@]}" 2>/dev/null || true; sleep 1; git worktree remove --force "$base" 2>/dev/null || true; }
trap cleanup EXIT

start () { # root port: starts the server; its pid lands in $base/pid-<port>
  node --import tsx -e "
    const { startBenchServer } = await import('$1/bench/server.ts')
    const child = await startBenchServer('postgres://postgres@127.0.0.1:5432/rapport_bench', $2, { RATE_LIMIT_MAX: '1000000000' })
    console.log(child.pid)
    process.on('SIGTERM', () => { child.kill('SIGTERM'); process.exit(0) })
    setInterval(() => {}, 1 << 30)" > "$base/pid-$2" </dev/null &
  pids+=($!)
  for _ in $(seq 150); do [ -s "$base/pid-$2" ] && return; sleep 0.3; done
  echo "the server on port $2 did not start" >&2; exit 1
}
cpu () { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_cpu () { local s=0; for p in $(pgrep -f "postgres: .* rapport_bench" || true); do s=$((s + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $s; }
run () { # label port pid file seconds
  local c0 g0 out c1 g1; c0=$(cpu "$3"); g0=$(pg_cpu)
  out=$(wrk -t1 -c50 -d"$5"s --timeout 10s -s "$replay" "http://127.0.0.1:$2" -- "$4" | tail -1)
  c1=$(cpu "$3"); g1=$(pg_cpu)
  node -e "const o = JSON.parse(process.argv[1]), n = o.rps * $5, tick = 1e6 / $(getconf CLK_TCK)
    console.log('$1'.padEnd(8), process.argv[2].padEnd(40), String(Math.round(o.rps)).padStart(6) + ' req/s',
      String(Math.round(($c1 - $c0) * tick / n)).padStart(6) + ' µs server', String(Math.round(($g1 - $g0) * tick / n)).padStart(6) + ' µs PostgreSQL', o.bad ? 'BAD ' + o.bad : '')" "$out" "$(basename "$4" .tsv)"
}

median () { # runs-file rev: the median of each side's req/s and CPU per request, and their ratios
  node -e "
    const lines = require('fs').readFileSync(process.argv[1], 'utf8').trim().split('\\n').map((l) => l.split(/\\s+/))
    const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
    const side = (label) => { const ls = lines.filter((l) => l[0] === label); return { rps: med(ls.map((l) => +l[2])), cpu: med(ls.map((l) => +l[4])), pg: med(ls.map((l) => +l[7])) } }
    const a = side(process.argv[2]), b = side('working')
    console.log('median of', lines.length / 2, 'pairs:', a.rps, '->', b.rps, 'req/s (' + (b.rps / a.rps).toFixed(2) + 'x), server', a.cpu, '->', b.cpu, 'µs (' + (b.cpu / a.cpu).toFixed(2) + 'x), PostgreSQL', a.pg, '->', b.pg, 'µs')
  " "$1" "$2"
}

start "$base" 3601; before=$(cat "$base/pid-3601")
start "$PWD" 3602; after=$(cat "$base/pid-3602")
for q in "${queries[@]}"; do
  for file in bench/.run/"$q"*.tsv; do
    run warmup 3601 "$before" "$file" 3 >/dev/null; run warmup 3602 "$after" "$file" 3 >/dev/null
    : > "$base/runs"
    for ((r = 0; r < runs; r++)); do
      # Each pair starts with the other side in turn, so that a drift of the machine's speed within a
      # pair (seen here: 2,100 and 3,600 req/s for the same code a minute apart) favours neither.
      if ((r % 2)); then run "working" 3602 "$after" "$file" "$seconds"; run "$rev" 3601 "$before" "$file" "$seconds"
      else run "$rev" 3601 "$before" "$file" "$seconds"; run "working" 3602 "$after" "$file" "$seconds"; fi
    done | tee -a "$base/runs"
    median "$base/runs" "$rev"
  done
done
