import t from 'tap'
import { mailAdapter, meetingAdapter, noteAdapter, phoneAdapter } from '../../src/modules/channels/adapters/manual/index.js'

t.test('manual kinds: no receive, no send, empty config', async (t) => {
  for (const a of [phoneAdapter, meetingAdapter, mailAdapter, noteAdapter]) {
    t.same(a.config.parse({}), {}, `${a.kind}: empty config`)
    t.notOk(a.config.safeParse({ url: 'x' }).success, `${a.kind}: strict`)
    t.notOk(a.capabilities.receive || a.capabilities.send, `${a.kind}: no receive/send`)
    t.equal(a.verify ?? a.parse ?? a.send ?? a.handshake, undefined, `${a.kind}: no hooks`)
    t.same(a.secretFields, [])
  }
  t.same([phoneAdapter, meetingAdapter, mailAdapter, noteAdapter].map((a) => a.kind), ['phone', 'meeting', 'mail', 'note'])
})
