// Microbenchmark of response serialization for one page of 50 contacts: zod encode + JSON.stringify
// (fastify-type-provider-zod's serializer) against the fast-json-stringify compiler the app uses.
// Ratios from one run: npx tsx bench/serialize.ts
import { serializerCompiler } from 'fastify-type-provider-zod'
import { ContactList } from '../src/modules/contacts/contacts.schemas.js'
import { fastSerializerCompiler } from '../src/plugins/serializer.js'

const contact = (i: number) => ({
  id: `con_01h455vb4pex5vsknk084sn0${String(i).padStart(2, '0')}`, displayName: `Person ${i}`, givenName: 'Given', familyName: 'Family',
  emails: [{ address: `p${i}@example.com`, primary: true }], phones: ['+14155552671'], company: 'Acme', title: null, tags: ['vip', 'a'],
  attributes: { tier: 'gold', score: i }, externalId: `ext-${i}`, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), version: 1
})
const page = { data: Array.from({ length: 50 }, (_, i) => contact(i)), nextCursor: 'abc' }
const route = { schema: ContactList, method: 'GET', url: '/v1/contacts', httpStatus: '200' } as never
const candidates = { zod: serializerCompiler(route), fastJsonStringify: fastSerializerCompiler(route) }
if (candidates.zod(page) !== candidates.fastJsonStringify(page)) console.error('warning: outputs differ (key order or formatting)')
const rates: Record<string, number> = {}
for (const [name, fn] of Object.entries(candidates)) {
  for (let i = 0; i < 2000; i++) fn(page)
  const n = 20_000
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn(page)
  rates[name] = n / (Number(process.hrtime.bigint() - t0) / 1e9)
  console.log(`${name}: ${Math.round(rates[name]).toLocaleString('en-US')} pages/s`)
}
console.log(`ratio fast-json-stringify / zod: ${(rates.fastJsonStringify / rates.zod).toFixed(2)}x`)
