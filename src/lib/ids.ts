import { typeid } from 'typeid-js'

// TypeID-style ids: a prefix that names the kind in any log line, then a UUIDv7 in base32,
// so ids sort by creation time and keyset pagination can seek on them.
export const idPrefixes = {
  contact: 'con',
  channel: 'chn',
  interaction: 'int',
  promise: 'prm',
  import: 'imp',
  identity: 'idn',
  merge: 'mrg',
  inbox: 'inb',
  outbox: 'obx',
  attempt: 'att',
  suggestion: 'psg',
  apiKey: 'key',
  event: 'evt',
  webhookEndpoint: 'whe',
  webhookDelivery: 'whd'
} as const

export type IdKind = keyof typeof idPrefixes

export const newId = (kind: IdKind): string => typeid(idPrefixes[kind]).toString()

const idShape = /^[a-z]{2,8}_[0-7][0-9a-hjkmnp-tv-z]{25}$/
/** True when a string looks like an id of the given kind (cheap guard before touching the db). */
export const isIdOf = (kind: IdKind, value: string): boolean =>
  value.startsWith(idPrefixes[kind] + '_') && idShape.test(value)
