import { getArgumentValues, getNamedType, isObjectType, Kind, type GraphQLResolveInfo } from 'graphql'
import type { Page } from '../lib/cursor.js'
import { pageRequest } from './connection.js'

/**
 * Look-ahead: a resolver that sees which nested list its caller also asked for can read both in
 * one round trip, and leave the nested page here for that list's loader, which then reads nothing.
 * The commonest GraphQL query ("a contact and its latest interactions") reads once instead of twice.
 */

/**
 * The size of the first page of `field` (a connection under the field being resolved) that the
 * query selects, when it selects one directly (not through a fragment: those read as usual).
 */
export function firstPageSelected (info: GraphQLResolveInfo, field: string): number | undefined {
  const type = getNamedType(info.returnType)
  const definition = isObjectType(type) ? type.getFields()[field] : undefined
  if (!definition) return undefined
  for (const node of info.fieldNodes) {
    for (const selection of node.selectionSet?.selections ?? []) {
      if (selection.kind !== Kind.FIELD || selection.name.value !== field) continue
      try {
        const page = pageRequest(getArgumentValues(definition, selection, info.variableValues))
        if (!page.after && !page.before && !page.backward) return page.limit
      } catch {
        // Arguments the field's own resolver rejects: it reports them, nothing to read ahead.
      }
    }
  }
  return undefined
}

const pages = new WeakMap<object, Map<string, Page<unknown>>>()
const key = (parentId: string, field: string, limit: number) => `${field}\u0000${parentId}\u0000${limit}`

/** Leaves a first page read ahead for `field` of `parentId`, for this request (`context`) only. */
export function keepPageAhead (context: object, parentId: string, field: string, limit: number, page: Page<unknown>): void {
  let kept = pages.get(context)
  if (!kept) pages.set(context, (kept = new Map()))
  kept.set(key(parentId, field, limit), page)
}

/** A first page read ahead, if one was (the loader reads the others). */
export function pageReadAhead<T> (context: object, parentId: string, field: string, limit: number): Page<T> | undefined {
  return pages.get(context)?.get(key(parentId, field, limit)) as Page<T> | undefined
}
