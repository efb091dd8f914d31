import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { AdapterContext, RawInboundRequest } from '../../src/modules/channels/adapters/channel-adapter.js'

/**
 * The shared provider samples: ../shared/webhook-samples beside the checkout (/work/main), or
 * RAPPORT_SHARED_DIR, or /work/shared for a checkout elsewhere (a CI clone in a temp directory).
 */
export const samplesDir = [
  process.env.RAPPORT_SHARED_DIR && pathToFileURL(`${process.env.RAPPORT_SHARED_DIR}/webhook-samples/`),
  new URL('../../../shared/webhook-samples/', import.meta.url),
  new URL('file:///work/shared/webhook-samples/')
].find((dir): dir is URL => !!dir && existsSync(dir)) ?? new URL('../../../shared/webhook-samples/', import.meta.url)

/** Exact bytes of a provider sample; signatures are over these bytes, so never reformat them. */
export function sample (name: string): Buffer {
  if (!existsSync(samplesDir)) {
    throw new Error(`webhook samples directory not found at ${fileURLToPath(samplesDir)} ` +
      '(expected the shared fixtures checked out beside the repository as ../shared/webhook-samples)')
  }
  const file = new URL(name, samplesDir)
  if (!existsSync(file)) throw new Error(`webhook sample ${name} not found in ${fileURLToPath(samplesDir)}`)
  return readFileSync(file)
}

/** A sample that is a request line ("GET /path?query HTTP/1.1") as a URL on a given origin. */
export function sampleUrl (name: string, origin = 'https://crm.example.com'): URL {
  const line = sample(name).toString('utf8').split('\n')[0]
  const target = line.split(' ')[1]
  if (target === undefined) throw new Error(`${name} is not a request line`)
  return new URL(target, origin)
}

export interface RequestInit {
  method?: 'GET' | 'POST'
  url?: string
  headers?: Record<string, string | undefined>
  body?: Buffer | string
}

/** Build the RawInboundRequest the core would hand to an adapter (query parsed from the URL). */
export function request (init: RequestInit = {}): RawInboundRequest {
  const url = init.url ?? 'https://crm.example.com/v1/channels/ch_1/inbound'
  const headers: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v
  return {
    method: init.method ?? 'POST',
    url,
    headers,
    query: Object.fromEntries(new URL(url).searchParams),
    rawBody: Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body ?? '')
  }
}

/** A context whose clock is fixed at `at` (Date, ISO string, or unix seconds). */
export function clockAt (at: Date | string | number): AdapterContext {
  const date = typeof at === 'number' ? new Date(at * 1000) : new Date(at)
  return { now: () => date }
}

export const realClock: AdapterContext = { now: () => new Date() }
