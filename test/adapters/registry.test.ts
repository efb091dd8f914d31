import t from 'tap'
import { z } from 'zod'
import { adapters, getAdapter, listAdapters } from '../../src/modules/channels/adapters/registry.js'

t.test('registry', async (t) => {
  t.same(listAdapters().map((a) => a.kind).sort(), ['email', 'mail', 'meeting', 'meta', 'note', 'phone', 'slack', 'sms', 'telegram', 'webhook', 'x'])
  t.equal(getAdapter('slack')?.kind, 'slack')
  t.equal(getAdapter('nope'), undefined)
  t.equal(adapters.size, listAdapters().length, 'kinds are unique')
})

t.test('every adapter honours the contract', async (t) => {
  for (const a of listAdapters()) {
    t.ok(a.description.length > 0, `${a.kind}: description`)
    if (a.capabilities.receive) t.ok(a.verify !== undefined && a.parse !== undefined, `${a.kind}: receive needs verify + parse`)
    if (a.capabilities.send) t.ok(a.send !== undefined, `${a.kind}: send capability needs send()`)
    t.ok(a.config instanceof z.ZodObject, `${a.kind}: config is a zod object`)
    const shape = (a.config as z.ZodObject).shape
    for (const f of a.secretFields) t.ok(f in shape, `${a.kind}: secret field ${f} is a config key`)
    t.notOk(a.config.safeParse({ definitelyNotAField: 1 }).success, `${a.kind}: config is strict`)
  }
})
