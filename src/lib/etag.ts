import type { FastifyReply, FastifyRequest } from 'fastify'
import { DomainError } from './errors.js'

// Strong ETags from a resource's version: one number per state of the row.
export const etagOf = (version: number) => `"v${version}"`

/** Sets the ETag; answers 304 when the client already holds this version (If-None-Match). */
export function sendWithETag<T extends { version: number }> (request: FastifyRequest, reply: FastifyReply, dto: T): T | FastifyReply {
  const etag = etagOf(dto.version)
  reply.header('etag', etag)
  const ifNoneMatch = request.headers['if-none-match']
  if (ifNoneMatch && (ifNoneMatch === '*' || ifNoneMatch.split(',').map((s) => s.trim().replace(/^W\//, '')).includes(etag))) {
    return reply.code(304).send()
  }
  return dto
}

/** The version an If-Match header demands, or undefined when there is none ('*' demands existence only). */
export function expectedVersion (request: FastifyRequest): number | undefined {
  const header = request.headers['if-match']
  if (!header || header.trim() === '*') return undefined
  const versions = header.split(',').map((s) => /^"v(\d+)"$/.exec(s.trim())?.[1]).filter((v): v is string => v !== undefined)
  if (versions.length === 0) throw new DomainError('precondition.failed', 'If-Match names no version of this resource', { currentVersion: null })
  return Number(versions[0])
}

export function assertVersion (expected: number | undefined, current: number): void {
  if (expected !== undefined && expected !== current) {
    throw new DomainError('precondition.failed', `The resource is at version ${current}, not ${expected}`, { currentVersion: current })
  }
}
