import type { Tx } from '../../db/client.js'
import { appendEvents } from '../events/events.log.js'
import * as repo from './contacts.repository.js'
import { toContactDto } from './contacts.service.js'
import type { UpsertResult } from './contacts.upsert.js'

/** One contact.created / contact.updated per contact a batch changed, read back in one query. */
export async function recordUpserts (tx: Tx, workspaceId: string, results: UpsertResult[], now: Date): Promise<void> {
  const first = new Map<string, 'created' | 'updated'>()
  for (const r of results) if (r && (r.result === 'created' || r.result === 'updated') && !first.has(r.id)) first.set(r.id, r.result)
  if (first.size === 0) return
  const rows = new Map((await repo.getContacts(tx, workspaceId, [...first.keys()])).map((r) => [r.id, r]))
  await appendEvents(tx, [...first].flatMap(([id, result]) => {
    const row = rows.get(id)
    return row ? [{ workspaceId, type: `contact.${result}` as const, subjectId: id, data: toContactDto(row), occurredAt: now }] : []
  }))
}
