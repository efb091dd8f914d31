import type { Db } from './db/client.js'
import type { Clock } from './lib/clock.js'
import { createContactsService } from './modules/contacts/contacts.service.js'
import { createWorkspacesService } from './modules/workspaces/workspaces.service.js'

/** Every service, built once with explicit dependencies; REST, GraphQL and jobs share them. */
export function createServices (deps: { db: Db, clock: Clock }) {
  return {
    workspaces: createWorkspacesService(deps),
    contacts: createContactsService(deps)
  }
}

export type Services = ReturnType<typeof createServices>
