import type { InboxRetryConfig } from './config.js'
import type { Db } from './db/client.js'
import type { Clock } from './lib/clock.js'
import { createSecretBox } from './lib/secrets.js'
import { createApiKeysService } from './modules/api-keys/api-keys.service.js'
import { createChannelsService } from './modules/channels/channels.service.js'
import { createEventsService } from './modules/events/events.service.js'
import { createContactsService } from './modules/contacts/contacts.service.js'
import { createMergesService } from './modules/contacts/merges.service.js'
import { createImportsService } from './modules/imports/imports.service.js'
import { createIdentitiesService } from './modules/identities/identities.service.js'
import { createInboundService } from './modules/interactions/inbound.service.js'
import { createInteractionsService } from './modules/interactions/interactions.service.js'
import { createPromisesService } from './modules/promises/promises.service.js'
import { createSuggestionsService } from './modules/promises/suggestions.service.js'
import { createRelationshipsService } from './modules/relationships/relationships.service.js'
import { createWorkspacesService } from './modules/workspaces/workspaces.service.js'
import { createWebhooksService } from './modules/webhooks/webhooks.service.js'
import { createUrlPolicy, type UrlPolicyOptions } from './modules/webhooks/url-policy.js'

export interface ServiceDeps {
  db: Db
  clock: Clock
  secretsKey: string
  /** How long before dueAt an open promise turns at_risk. */
  promiseRiskWindowMs: number
  /** Outbound HTTP for adapters (tests point providers at fakes through channel config). */
  fetch?: typeof fetch
  /** Called when a request queued work, so that a worker starts at once instead of at its next tick. */
  kick?: { inbox: () => void, outbox: () => void, imports: () => void }
  /** Retries of provider webhooks the inbox worker failed on (config INBOX_MAX_ATTEMPTS, INBOX_BACKOFF_MS). */
  inbox: InboxRetryConfig
  /** Import upload limits and batch size (config IMPORT_MAX_BYTES, IMPORT_UPLOAD_LEASE_MS, IMPORT_BATCH_ROWS). */
  imports?: { maxBytes: number, uploadLeaseMs: number, batchRows?: number, batchBytes?: number }
  /** Which webhook URLs may point at private addresses (config WEBHOOK_ALLOW_HOSTS, WEBHOOK_ALLOW_PRIVATE). */
  webhookUrls?: UrlPolicyOptions
  /** Kicks the webhook delivery worker after a redelivery. */
  kickWebhooks?: () => void
}

/** Every service, built once with explicit dependencies; REST, GraphQL and jobs share them. */
export function createServices (deps: ServiceDeps) {
  const { db, clock } = deps
  const workspaces = createWorkspacesService({ db })
  const apiKeys = createApiKeysService({ db, clock })
  const contacts = createContactsService({ db, clock })
  const channels = createChannelsService({ db, clock, secrets: createSecretBox(deps.secretsKey) })
  const identities = createIdentitiesService({ db, contacts })
  const interactions = createInteractionsService({ db, clock, contacts, channels, identities, onOutboxWork: () => deps.kick?.outbox() })
  const inbound = createInboundService({ db, clock, channels, interactions, fetch: deps.fetch, onInboxWork: () => deps.kick?.inbox(), retries: deps.inbox })
  const promises = createPromisesService({ db, clock, riskWindowMs: deps.promiseRiskWindowMs, contacts, interactions, channels })
  const suggestions = createSuggestionsService({ db, promises, workspaces })
  interactions.setPromiseHooks({ keep: promises.keepWith, suggest: suggestions.suggestFrom })
  const merges = createMergesService({ db, clock, contacts, identities, interactions, participants: [{ name: 'promises', move: promises.moveAll }] })
  const relationships = createRelationshipsService({ db, clock, contacts, promises })
  const imports = createImportsService({ db, clock, interactions, promises, limits: deps.imports, onWork: () => deps.kick?.imports() })
  const events = createEventsService({ db })
  const webhooks = createWebhooksService({
    db, clock, secrets: createSecretBox(deps.secretsKey), urlPolicy: createUrlPolicy(deps.webhookUrls ?? { allowHosts: [], allowPrivate: false }), onWork: () => deps.kickWebhooks?.()
  })
  return { events, webhooks, workspaces, apiKeys, contacts, channels, identities, interactions, inbound, merges, promises, suggestions, relationships, imports }
}

export type Services = ReturnType<typeof createServices>
