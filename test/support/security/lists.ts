import type { TestApp } from '../../helper.js'

type Rest = TestApp['rest']

/** Every item of a list endpoint, following nextCursor. */
export async function listAll (rest: Rest, token: string, path: string): Promise<any[]> {
  const out: any[] = []
  let after: string | null = null
  for (let page = 0; page < 100; page++) {
    const sep = path.includes('?') ? '&' : '?'
    const res = await rest('GET', `${path}${sep}limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`, { token })
    if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${res.body.slice(0, 300)}`)
    out.push(...res.data.data)
    after = res.data.nextCursor
    if (!after) return out
  }
  throw new Error(`GET ${path}: too many pages`)
}

/**
 * What a workspace holds, read through the list endpoints: contacts, channels, promises,
 * interactions and the workspace itself, each item as (id, version or updatedAt).
 */
export async function listSnapshot (rest: Rest, token: string) {
  const brief = (items: any[]) => items.map((i) => `${i.id}@${i.version ?? i.updatedAt ?? ''}`).sort()
  const workspace = await rest('GET', '/v1/workspace', { token })
  return {
    contacts: brief(await listAll(rest, token, '/v1/contacts')),
    channels: brief(await listAll(rest, token, '/v1/channels')),
    promises: brief(await listAll(rest, token, '/v1/promises')),
    interactions: brief(await listAll(rest, token, '/v1/interactions')),
    workspace: workspace.data
  }
}

/** The same, as counts only (cheaper, for property tests that run thousands of requests). */
export async function listCounts (rest: Rest, token: string) {
  return {
    contacts: (await listAll(rest, token, '/v1/contacts')).length,
    channels: (await listAll(rest, token, '/v1/channels')).length,
    promises: (await listAll(rest, token, '/v1/promises')).length
  }
}
