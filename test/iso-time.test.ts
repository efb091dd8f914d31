import fc from 'fast-check'
import t from 'tap'
import { isoTime } from '../src/lib/iso-time.js'

// Every timestamp the API writes goes through isoTime (src/lib/iso-time.ts), a faster
// toISOString: it must write exactly what the builtin writes, for any date PostgreSQL can hold.
t.test('isoTime writes what toISOString writes', async (t) => {
  let runs = 0
  fc.assert(fc.property(fc.date({ min: new Date(Date.UTC(-4713, 0, 1)), max: new Date(8.64e15), noInvalidDate: true }), (d) => {
    runs++
    return isoTime(d) === d.toISOString()
  }), { numRuns: 20_000 })
  // And densely where the API's timestamps live.
  fc.assert(fc.property(fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (d) => {
    runs++
    return isoTime(d) === d.toISOString()
  }), { numRuns: 20_000 })
  for (const edge of [0, -1, 1, Date.UTC(999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1), Date.UTC(2024, 1, 29, 0, 0, 0, 7)]) {
    t.equal(isoTime(new Date(edge)), new Date(edge).toISOString(), new Date(edge).toISOString())
  }
  t.throws(() => isoTime(new Date(NaN)), RangeError, 'an invalid date throws, as toISOString does')
  t.comment(`${runs} random dates`)
})
