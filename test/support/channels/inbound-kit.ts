import { allInteractions, eventually, type Rest } from './index.js'

/**
 * Reads for tests that POST provider webhooks and check what the CRM made of them. Every read
 * first drains the inbox worker, so it sees every webhook received so far.
 */
export function inboundKit (ctx: { rest: Rest, app: { jobs: { inbox: { drain: () => Promise<unknown> } } } }) {
  const { rest, app } = ctx
  const drain = () => app.jobs.inbox.drain()
  const interactionsOf = async (channelId: string, query = '') => {
    await drain()
    return allInteractions(rest, `channelId=${channelId}${query}`)
  }
  const interaction = async (id: string) => {
    await drain()
    return (await rest('GET', `/v1/interactions/${id}`)).data
  }
  const identitiesOf = async (contactId: string) => (await rest('GET', `/v1/contacts/${contactId}/identities`)).data.data as any[]
  /** Sends through the API, then waits for the outbox worker to bring the message to `status`. */
  async function sendUntil (contactId: string, channelId: string, text: string, status: string, extra: { to?: string, subject?: string } = {}) {
    const res = await rest('POST', `/v1/contacts/${contactId}/messages`, { body: { channelId, text, ...extra } })
    if (res.statusCode !== 202) throw new Error(`send: ${res.statusCode} ${res.body}`)
    return eventually(async () => {
      const i = await interaction(res.data.id)
      return i.status === status && i
    }, { what: `the message to be ${status}` })
  }
  return { interactionsOf, interaction, identitiesOf, sendUntil }
}
