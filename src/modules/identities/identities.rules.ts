import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { validationError } from '../../lib/errors.js'

/** One spelling per address, so that the same person is found whatever a provider sends. */
export function normalizeAddress (kind: string, address: string): string {
  const trimmed = address.trim()
  if (kind === 'email') {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed)) throw validationError([{ pointer: '/address', message: 'Must be an e-mail address', code: 'invalid_format' }])
    return trimmed.toLowerCase()
  }
  if (kind === 'phone') {
    const parsed = parsePhoneNumberFromString(trimmed.startsWith('+') ? trimmed : `+${trimmed}`)
    if (!parsed || !parsed.isValid()) throw validationError([{ pointer: '/address', message: 'Must be a valid international phone number', code: 'invalid_format' }])
    return parsed.number as string
  }
  return trimmed
}

/** Lenient variant for what providers send: never throws, keeps the handle as given when unsure. */
export function normalizeInboundAddress (kind: string, address: string): string {
  try {
    return normalizeAddress(kind, address)
  } catch {
    return address.trim()
  }
}
