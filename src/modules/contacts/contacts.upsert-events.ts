import type { Tx } from '../../db/client.js'
import { appendEvents } from '../events/events.log.js'
import type { ContactRow } from './contacts.repository.js'
import { toContactDto } from './contacts.service.js'
import type { UpsertResult } from './contacts.upsert.js'

/**
 * One contact.created / contact.updated per contact a batch changed, with the contact as written
 * (`written`: the batch's values with what the database set, from RETURNING; no second read).
 */
export async function recordUpserts (tx: Tx, workspaceId: string, results: UpsertResult[], now: Date, written: Map<string, ContactRow>): Promise<void> {
  const first = new Map<string, 'created' | 'updated'>()
  for (const r of results) if (r && (r.result === 'created' || r.result === 'updated') && !first.has(r.id)) first.set(r.id, r.result)
  if (first.size === 0) return
  await appendEvents(tx, [...first].flatMap(([id, result]) => {
    const row = written.get(id)
    return row ? [{ workspaceId, type: `contact.${result}` as const, subjectId: id, data: toContactDto(row), occurredAt: now }] : []
  }))
}
