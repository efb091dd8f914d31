import { hmac, safeEqual } from '../shared/crypto.js'

/**
 * twilio.com/docs/usage/security#validating-requests: base64(HMAC-SHA1(authToken, url + each POST
 * parameter's name and value, sorted by name)). Repeated names contribute every value, sorted.
 */
export function twilioSignature (authToken: string, url: string, params: URLSearchParams): string {
  let data = url
  for (const key of [...new Set(params.keys())].sort()) {
    for (const value of params.getAll(key).sort()) data += key + value
  }
  return hmac('sha1', authToken, data).toString('base64')
}

/**
 * Twilio may have signed the URL with or without an explicit default port (depending on how the
 * webhook URL was entered), so both forms are accepted, as the official SDKs do.
 */
export function validTwilioSignature (authToken: string, url: string, params: URLSearchParams, given: string): boolean {
  const candidates = new Set([url, withoutPort(url), withPort(url)])
  let valid = false
  for (const candidate of candidates) {
    if (safeEqual(given, twilioSignature(authToken, candidate, params))) valid = true
  }
  return valid
}

// Done on the string: WHATWG URL normalizes a default port away, so it could never add one back.
const AUTHORITY = /^(https?:\/\/(?:[^/?#@]*@)?[^/?#:]+)(:\d+)?/i

function withoutPort (url: string): string {
  return url.replace(AUTHORITY, '$1')
}

function withPort (url: string): string {
  const m = AUTHORITY.exec(url)
  if (m === null || m[2] !== undefined) return url
  return url.replace(AUTHORITY, `$1${/^https:/i.test(url) ? ':443' : ':80'}`)
}
