import type { RawInboundRequest } from '../channel-adapter.js'
import { AdapterParseError } from '../channel-adapter.js'
import { parseMultipart, type MultipartFile } from './multipart.js'

/**
 * Provider payloads are third-party JSON whose optional fields come and go between API
 * versions; they are read defensively (optional chaining + the helpers below), never trusted.
 */
export type Loose = any

export function header (req: RawInboundRequest, name: string): string | undefined {
  return req.headers[name.toLowerCase()]
}

export function readJson (req: RawInboundRequest): Loose {
  try {
    const value: unknown = JSON.parse(req.rawBody.toString('utf8'))
    if (value === null || typeof value !== 'object') throw new Error('not an object')
    return value
  } catch {
    throw new AdapterParseError('body is not a JSON object')
  }
}

export interface FormBody { fields: URLSearchParams, files: MultipartFile[] }

/** application/x-www-form-urlencoded, or multipart/form-data (Mailgun routes with attachments). */
export function readForm (req: RawInboundRequest): FormBody {
  const type = header(req, 'content-type') ?? ''
  const boundary = /^multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(type)?.[1]
  if (boundary !== undefined) return parseMultipart(req.rawBody, boundary)
  return { fields: new URLSearchParams(req.rawBody.toString('utf8')), files: [] }
}

/** A non-empty string, or undefined (numbers are stringified: ids arrive as either). */
export function str (value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

export function num (value: unknown): number | undefined {
  const n = typeof value === 'string' && value !== '' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}

export function arr (value: unknown): Loose[] {
  return Array.isArray(value) ? value : []
}

/** Date from unix seconds or milliseconds (numbers or numeric strings), falling back to `fallback`. */
export function dateFrom (value: unknown, unit: 's' | 'ms', fallback: Date): Date {
  const n = num(value)
  if (n === undefined) return fallback
  const d = new Date(unit === 's' ? n * 1000 : n)
  return Number.isNaN(d.getTime()) ? fallback : d
}

export function parseDate (value: unknown, fallback: Date): Date {
  if (typeof value !== 'string') return fallback
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? fallback : d
}

/** '15551234567' or '+1 (555) 123-4567' -> '+15551234567'. Keeps non-numeric handles as they are. */
export function e164 (value: string): string {
  const digits = value.replace(/[\s().-]/g, '')
  if (/^\+?\d{6,15}$/.test(digits)) return digits.startsWith('+') ? digits : `+${digits}`
  return value
}
