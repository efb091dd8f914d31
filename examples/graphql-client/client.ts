// A frontend's typed GraphQL client against schema.graphql: graphql-codegen's client preset
// (`npm run codegen`) turns each `graphql()` document below into a typed document, so `execute`
// knows the variables it needs and the shape of its answer at compile time. Run it against a server:
//   RAPPORT_URL=http://127.0.0.1:3000 RAPPORT_TOKEN=<token> npx tsx examples/graphql-client/client.ts
import { graphql } from './gql/gql.js'
import type { TypedDocumentString } from './gql/graphql.js'

export const CreateContact = graphql(`
  mutation CreateContact($input: CreateContactInput!) {
    createContact(input: $input) {
      contact { id displayName emails { address primary } tags }
    }
  }
`)

export const NewestContacts = graphql(`
  query NewestContacts($first: Int!, $tag: String) {
    contacts(first: $first, filter: { tag: $tag }) {
      totalCount
      edges { cursor node { id displayName timeline(first: 3) { nodes { id kind occurredAt } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`)

export class GraphQLRequestError extends Error {
  constructor (readonly status: number, readonly errors: Array<{ message: string, extensions?: { code?: string } }>) {
    super(errors.map((e) => `${e.extensions?.code ?? 'error'}: ${e.message}`).join('; '))
  }
}

/** POSTs one typed operation; the answer's `data` has the operation's own type. */
export async function execute<Result, Variables> (
  endpoint: { url: string, token: string }, document: TypedDocumentString<Result, Variables>, variables: Variables
): Promise<{ data: Result, cost?: { requested: number, limit: number } }> {
  const res = await fetch(`${endpoint.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${endpoint.token}` },
    body: JSON.stringify({ query: document.toString(), variables })
  })
  const body = await res.json() as { data?: Result, errors?: GraphQLRequestError['errors'], extensions?: { cost?: { requested: number, limit: number } } }
  if (body.errors || body.data == null) throw new GraphQLRequestError(res.status, body.errors ?? [])
  return { data: body.data, cost: body.extensions?.cost }
}

/** The example's flow: create a contact, then read the newest page of that tag. */
export async function run (endpoint: { url: string, token: string }) {
  const created = await execute(endpoint, CreateContact, {
    input: { displayName: 'Grace Hopper', emails: [{ address: 'grace@example.com', primary: true }], tags: ['typed-client'] }
  })
  const contact = created.data.createContact.contact
  const page = await execute(endpoint, NewestContacts, { first: 10, tag: 'typed-client' })
  return {
    contactId: contact.id,
    primaryEmail: contact.emails.find((e) => e.primary)?.address,
    listedIds: page.data.contacts.edges.map((e) => e.node.id),
    totalCount: page.data.contacts.totalCount,
    cost: page.cost
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.RAPPORT_URL ?? 'http://127.0.0.1:3000'
  const token = process.env.RAPPORT_TOKEN
  if (!token) throw new Error('Set RAPPORT_TOKEN (npm run token)')
  console.log(await run({ url, token }))
}
