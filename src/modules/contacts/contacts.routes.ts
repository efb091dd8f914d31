import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { expectedVersion, sendWithETag } from '../../lib/etag.js'
import { errorResponses, bodyErrors } from '../../lib/http-schemas.js'
import { sendPage } from '../../lib/link-header.js'
import type { ContactsService } from './contacts.service.js'
import { summarize } from './contacts.upsert.js'
import { Contact, ContactBatch, ContactBatchResult, ContactCreate, ContactIdParams, ContactList, ContactListQuery, ContactPatch } from './contacts.schemas.js'

const tags = ['contacts']
const security = [{ bearerAuth: [] }]

export const contactsRoutes: FastifyPluginAsyncZod<{ contacts: ContactsService }> = async (app, { contacts }) => {
  app.post('/v1/contacts', {
    config: { scope: 'contacts:write' },
    schema: {
      operationId: 'createContact', tags, security, summary: 'Create a contact',
      body: ContactCreate,
      response: { 201: Contact, ...errorResponses([...bodyErrors, 409]) }
    }
  }, async (request, reply) => {
    const contact = await contacts.create(request.ctx, request.body)
    return reply.code(201).header('location', `/v1/contacts/${contact.id}`).send(contact)
  })

  app.post('/v1/contacts/batch', {
    config: { scope: 'contacts:write' },
    schema: {
      operationId: 'upsertContacts', tags, security,
      summary: 'Upsert up to 1,000 contacts by a key; one result per record, a bad record never fails the others',
      body: ContactBatch,
      response: { 200: ContactBatchResult, ...errorResponses(bodyErrors) }
    }
  }, async (request) => summarize(await contacts.upsertMany(request.ctx, request.body.upsertOn, request.body.records, { dryRun: request.body.dryRun })))

  app.get('/v1/contacts', {
    config: { scope: 'contacts:read' },
    schema: {
      operationId: 'listContacts', tags, security, summary: 'List and search contacts, newest first',
      querystring: ContactListQuery,
      response: { 200: ContactList, ...errorResponses([400]) }
    }
  }, async (request, reply) => {
    const page = await contacts.list(request.ctx, request.query)
    return sendPage(request, reply, page)
  })

  app.get('/v1/contacts/:id', {
    config: { scope: 'contacts:read' },
    schema: {
      operationId: 'getContact', tags, security, summary: 'Get a contact',
      params: ContactIdParams,
      response: { 200: Contact, 304: z.null().describe('Not modified (If-None-Match)'), ...errorResponses([404]) }
    }
  }, async (request, reply) => sendWithETag(request, reply, await contacts.get(request.ctx, request.params.id)))

  app.patch('/v1/contacts/:id', {
    config: { scope: 'contacts:write' },
    schema: {
      operationId: 'updateContact', tags, security,
      summary: 'Update a contact (JSON merge patch: absent fields unchanged, null removes)',
      params: ContactIdParams,
      body: ContactPatch,
      response: { 200: Contact, ...errorResponses([...bodyErrors, 404, 409, 412]) }
    }
  }, async (request, reply) => sendWithETag(request, reply, await contacts.update(request.ctx, request.params.id, request.body, { expectedVersion: expectedVersion(request) })))

  app.delete('/v1/contacts/:id', {
    config: { scope: 'contacts:write' },
    schema: {
      operationId: 'deleteContact', tags, security, summary: 'Delete a contact (it disappears from every read)',
      params: ContactIdParams,
      response: { 204: z.null().describe('Deleted'), ...errorResponses([404, 412]) }
    }
  }, async (request, reply) => {
    await contacts.remove(request.ctx, request.params.id, { expectedVersion: expectedVersion(request) })
    return reply.code(204).send(null)
  })
}

