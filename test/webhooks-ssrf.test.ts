import t from 'tap'
import { loadConfig } from '../src/config.js'
import { createUrlPolicy, UrlRefusedError } from '../src/modules/webhooks/url-policy.js'
import { build } from './helper.js'
import { assertProblem } from './support/problem.js'

// No allow list here: 127.0.0.1, which the other webhook tests allow, is refused like any private address.
const { rest } = await build(t, { config: { webhooks: { allowHosts: [], allowPrivate: false, retryScheduleMs: [1000], timeoutMs: 2000, leaseMs: 5000, retentionDays: 30 } } })

const refused = [
  ['loopback', 'http://127.0.0.1:8080/hook'],
  ['loopback, decimal form', 'http://2130706433/hook'],
  ['loopback IPv6', 'http://[::1]/hook'],
  ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/hook'],
  ['a name resolving to loopback', 'http://localhost:3000/hook'],
  ['RFC 1918', 'http://10.1.2.3/hook'],
  ['RFC 1918', 'https://192.168.1.10/hook'],
  ['RFC 1918', 'https://172.16.5.4/hook'],
  ['cloud metadata (link-local)', 'http://169.254.169.254/latest/meta-data/'],
  ['link-local IPv6', 'http://[fe80::1]/hook'],
  ['unique local IPv6', 'http://[fd00:ec2::254]/hook'],
  ['CGNAT', 'http://100.64.0.1/hook'],
  ['unspecified', 'http://0.0.0.0:8080/hook'],
  ['not http(s)', 'ftp://ftp.example.com/hook'],
  ['not http(s)', 'file:///etc/passwd'],
  ['credentials in the URL', 'https://user:secret@hooks.example.com/hook'],
  ['not a URL', 'hooks.example.com/hook']
]

t.test('create refuses URLs that lead to private, loopback, link-local or metadata addresses', async (t) => {
  for (const [what, url] of refused) {
    const res = await rest('POST', '/v1/webhook-endpoints', { body: { url, eventTypes: ['contact.created'] } })
    const p = assertProblem(t, res, 400, 'validation.failed', `${what}: ${url}`)
    t.match(p.errors, [{ pointer: '/body/url', code: 'url_refused' }], `${what}: the error points at /url`)
  }
  t.same((await rest('GET', '/v1/webhook-endpoints')).data.data, [], 'nothing was created')
})

t.test('a public address is accepted; PATCH to a private one is refused', async (t) => {
  const res = await rest('POST', '/v1/webhook-endpoints', { body: { url: 'https://93.184.215.14/hook', eventTypes: ['contact.created'] } })
  t.equal(res.statusCode, 201, res.body)
  const patched = await rest('PATCH', `/v1/webhook-endpoints/${res.data.id}`, { body: { url: 'http://169.254.169.254/latest/meta-data/' } })
  assertProblem(t, patched, 400, 'validation.failed')
  t.equal((await rest('GET', `/v1/webhook-endpoints/${res.data.id}`)).data.url, 'https://93.184.215.14/hook', 'the URL is unchanged')
})

t.test('the allow list: exact hosts and CIDR ranges, or every private address', async (t) => {
  const policy = createUrlPolicy({ allowHosts: ['127.0.0.1', '10.20.0.0/16'], allowPrivate: false })
  await policy.assertAllowed('http://127.0.0.1:9/x')
  await policy.assertAllowed('http://10.20.3.4/x')
  const refusal = (url: string) => policy.assertAllowed(url).then(() => undefined, (err) => err)
  t.type(await refusal('http://10.21.3.4/x'), UrlRefusedError, 'outside the allowed range')
  t.type(await refusal('http://localhost:9/x'), UrlRefusedError, 'allowing 127.0.0.1 does not allow a name that resolves to it')
  await createUrlPolicy({ allowHosts: [], allowPrivate: true }).assertAllowed('http://10.1.2.3/x')
  const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), DATA_DIR: '/tmp/rapport-webhooks-ssrf-test', WEBHOOK_ALLOW_HOSTS: ' 127.0.0.1, Hooks.Internal ', WEBHOOK_RETRY_SCHEDULE: '1, 60' })
  t.same(config.webhooks.allowHosts, ['127.0.0.1', 'hooks.internal'])
  t.same(config.webhooks.retryScheduleMs, [1000, 60_000])
  t.equal(loadConfig({ JWT_SECRET: 'x'.repeat(32), DATA_DIR: '/tmp/rapport-webhooks-ssrf-test' }).webhooks.retryScheduleMs.reduce((a, b) => a + b, 0) > 2.9 * 86_400_000, true, 'the default schedule spans about three days')
})
