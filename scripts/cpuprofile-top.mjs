#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (node --cpu-prof): the functions with the most self time and the
// most inclusive time, as shares of all samples. Usage: node scripts/cpuprofile-top.mjs FILE [N] [LAST_S]
// LAST_S keeps only the samples of the profile's last LAST_S seconds (the load, not the start-up),
// and (idle) is left out, so shares are of the busy time.
import { readFileSync } from 'node:fs'

const [file, top = '25', lastSeconds] = process.argv.slice(2)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const self = new Map()
const times = []
for (let t = profile.startTime, i = 0; i < profile.samples.length; i++) times.push(t += profile.timeDeltas[i])
const since = lastSeconds ? profile.endTime - Number(lastSeconds) * 1e6 : -Infinity
let total = 0
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  if (times[i] < since || (lastSeconds && nodes.get(id).callFrame.functionName === '(idle)')) continue
  self.set(id, (self.get(id) ?? 0) + 1)
  total++
}
const label = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '')}:${n.callFrame.lineNumber + 1}`
const selfBy = new Map()
const inclBy = new Map()
for (const [id, count] of self) {
  selfBy.set(label(nodes.get(id)), (selfBy.get(label(nodes.get(id))) ?? 0) + count)
  const seen = new Set()
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(nodes.get(cur))
    if (seen.has(l)) continue
    seen.add(l)
    inclBy.set(l, (inclBy.get(l) ?? 0) + count)
  }
}
const print = (title, map) => {
  console.log(`\n${title} (of ${total} samples)`)
  for (const [l, c] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`${(100 * c / total).toFixed(1).padStart(5)} %  ${l}`)
}
print('self', selfBy)
print('inclusive', inclBy)
