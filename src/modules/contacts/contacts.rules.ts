import { validationError } from '../../lib/errors.js'
import type { EmailEntry } from './contacts.table.js'

type EmailInput = string | { address: string, primary?: boolean }

/** One entry per address; exactly one primary (the one flagged, else the first). */
export function normalizeEmails (input: EmailInput[]): EmailEntry[] {
  const entries = new Map<string, boolean>()
  for (const item of input) {
    const address = typeof item === 'string' ? item : item.address
    const primary = typeof item === 'string' ? false : item.primary === true
    entries.set(address, (entries.get(address) ?? false) || primary)
  }
  const list = [...entries].map(([address, primary]) => ({ address, primary }))
  const flagged = list.filter((e) => e.primary).length
  if (flagged > 1) throw validationError([{ pointer: '/emails', message: 'Only one e-mail can be primary', code: 'too_many_primary' }])
  if (flagged === 0 && list.length > 0) list[0].primary = true
  return list.sort((a, b) => Number(b.primary) - Number(a.primary))
}

interface NameSources {
  givenName: string | null
  familyName: string | null
  emails: EmailEntry[]
  phones: string[]
  company: string | null
  externalId: string | null
}

/** A contact always has a name to show: its names, else its e-mail, phone, company or externalId. */
export function deriveDisplayName (f: NameSources): string {
  const name = [f.givenName, f.familyName].filter(Boolean).join(' ')
  const derived = name || f.emails[0]?.address || f.phones[0] || f.company || f.externalId
  if (!derived) {
    throw validationError([{ pointer: '/displayName', message: 'A contact needs a displayName, a name, an e-mail, a phone, a company or an externalId', code: 'required' }])
  }
  return derived
}
