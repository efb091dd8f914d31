import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Measure, QuerySpec } from './load.js'

const REQUESTS_PER_FILE = 5000

/** True when wrk is installed and the peers' replay script is there to drive it. */
export function wrkAvailable (replayScript: string): boolean {
  return spawnSync('wrk', ['--version']).error === undefined && spawnSync('test', ['-f', replayScript]).status === 0
}

/**
 * The same load generator as the peers (wrk with ../shared/bench/peers/replay.lua, called in place),
 * so that Rapport's figures are ratios to theirs rather than to a different client: autocannon runs
 * in Node and takes much of a 2-core machine away from the server it measures.
 * replay.lua reads one request a line: METHOD<TAB>PATH<TAB>Name: value|Name: value<TAB>BODY.
 */
export function measureWithWrk (target: string, baseUrl: string, headers: Record<string, string>, spec: QuerySpec,
  opts: { connections: number, duration: number, warmup: number, round: number, replayScript: string, workDir: string }): Measure {
  mkdirSync(opts.workDir, { recursive: true })
  const file = join(opts.workDir, spec.name.replace(/[^A-Za-z0-9]+/g, '-') + '.tsv')
  const headerField = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('|')
  const lines = Array.from({ length: REQUESTS_PER_FILE }, (_, i) => [spec.method ?? 'GET', spec.path(i), headerField, spec.body?.(i) ?? ''].join('\t'))
  writeFileSync(file, lines.join('\n') + '\n')

  const wrk = (seconds: number, check = false) => {
    const run = spawnSync('wrk', ['-t1', `-c${opts.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', opts.replayScript, baseUrl, '--', file], {
      encoding: 'utf8', env: { ...process.env, REPLAY_CHECK: check ? '1' : '0' }
    })
    const last = run.stdout.trim().split('\n').pop() ?? ''
    try {
      return JSON.parse(last) as { rps: number, p50_ms: number, p99_ms: number, bad: number, socket_errors: number, sample: string }
    } catch {
      throw new Error(`wrk gave no result for ${spec.name}: ${run.stderr || run.stdout}`)
    }
  }
  if (opts.warmup > 0) wrk(opts.warmup)
  const measured = wrk(opts.duration)
  // Bodies are read only in a short pass after the measured one (reading them costs wrk CPU): it
  // counts GraphQL answers with `errors`, which come with a 200.
  const checked = wrk(2, true)
  if (checked.bad > 0) process.stderr.write(`${spec.name}: ${checked.bad} bad answers, e.g. ${checked.sample}\n`)
  return {
    target, query: spec.name, round: opts.round, rps: Math.round(measured.rps), p50: measured.p50_ms, p99: measured.p99_ms,
    errors: measured.socket_errors + checked.socket_errors, non2xx: measured.bad + checked.bad
  }
}
