import {
  getNamedType, getOperationAST, getVariableValues, GraphQLError, isCompositeType, isInterfaceType, isObjectType, valueFromAST,
  type ArgumentNode, type DocumentNode, type GraphQLArgument, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLSchema,
  type SelectionSetNode, type ValidationContext, type ValidationRule
} from 'graphql'
import type { FastifyInstance } from 'fastify'
import { DomainError } from '../lib/errors.js'
import { DEFAULT_PAGE_SIZE } from './connection.js'

export interface Cost { requested: number, limit: number }

/**
 * GitHub's node limit: every connection asks for up to `first`/`last` nodes for each node of
 * the connection it is nested in, so the cost of a query is the sum, over its connection fields,
 * of the product of the page sizes down the path. It is known before anything runs, from the
 * document and the variables, and a page size left out counts at its schema default.
 */
export function queryCost (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): number {
  const operation = getOperationAST(document, operationName)
  if (!operation) {
    // Several operations and no name yet: the dearest one bounds whichever is chosen.
    const names = document.definitions.flatMap((d) => d.kind === 'OperationDefinition' && d.name ? [d.name.value] : [])
    return Math.max(0, ...names.map((name) => queryCost(schema, document, variables, name)))
  }
  const root = schema.getRootType(operation.operation)
  if (!root) return 0
  // As execution will see them: a variable left out takes the operation's default (`$n: Int = 500`),
  // a single value given for a list is a list of one.
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {})
  if (coerced.coerced) variables = coerced.coerced
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const d of document.definitions) if (d.kind === 'FragmentDefinition') fragments.set(d.name.value, d)

  const walk = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number): number => {
    let total = 0
    for (const selection of selectionSet.selections) {
      if (selection.kind === 'Field') {
        if (!isObjectType(parent) && !isInterfaceType(parent)) continue
        const field = parent.getFields()[selection.name.value]
        if (!field || !selection.selectionSet) continue
        const size = pageSize(field.args, selection.arguments ?? [], variables)
        const type = getNamedType(field.type)
        const nested = size === null ? multiplier : multiplier * size
        if (size !== null) total += nested
        if (isCompositeType(type)) total += walk(selection.selectionSet, type, nested)
      } else if (selection.kind === 'InlineFragment') {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent
        if (type && isCompositeType(type)) total += walk(selection.selectionSet, type, multiplier)
      } else {
        const fragment = fragments.get(selection.name.value)
        const type = fragment && schema.getType(fragment.typeCondition.name.value)
        if (fragment && type && isCompositeType(type)) total += walk(fragment.selectionSet, type, multiplier)
      }
    }
    return total
  }
  return walk(operation.selectionSet, root, 1)
}

/**
 * The nodes a field asks for: its page size (`first`, else `last`), or the length of its `ids`
 * list (`nodes(ids:)`: each id is a node whose nested connections are paid for again), or null
 * when it returns one thing.
 */
function pageSize (args: readonly GraphQLArgument[], given: readonly ArgumentNode[], variables: Record<string, unknown> | undefined): number | null {
  let size: number | null = null
  const idsDef = args.find((a) => a.name === 'ids')
  const idsNode = given.find((a) => a.name.value === 'ids')
  if (idsDef && idsNode) {
    const ids = valueFromAST(idsNode.value, idsDef.type, variables)
    if (Array.isArray(ids)) size = ids.length
  }
  for (const name of ['first', 'last']) {
    const def = args.find((a) => a.name === name)
    if (!def) continue
    const node = given.find((a) => a.name.value === name)
    const value = node ? valueFromAST(node.value, def.type, variables) : def.defaultValue
    if (typeof value === 'number') size = Math.max(size ?? 0, value)
  }
  // A connection given neither reads its default first page (pageRequest).
  const isConnection = args.some((a) => a.name === 'last')
  return size ?? (isConnection ? DEFAULT_PAGE_SIZE : null)
}

/** Rejects a document with more aliased fields than `max` (aliases multiply work at no cost to the client). */
export function aliasLimitRule (max: number): ValidationRule {
  return (context: ValidationContext) => {
    let count = 0
    return {
      Field (node) {
        if (!node.alias) return
        count++
        if (count === max + 1) {
          context.reportError(new GraphQLError(`The query uses more than ${max} aliases`, {
            nodes: [node],
            extensions: { code: 'graphql.alias_limit_exceeded', limit: max }
          }))
        }
      }
    }
  }
}

/** Checks the budget before execution and reports the cost of every executed query in `extensions.cost`. */
export function registerCostLimit (app: FastifyInstance, maxCost: number) {
  app.graphql.addHook('preExecution', async (schema, document, context, variables) => {
    const cost: Cost = { requested: queryCost(schema, document, variables as Record<string, unknown> | undefined), limit: maxCost }
    if (cost.requested > maxCost) {
      throw new DomainError('graphql.cost_limit_exceeded',
        `The query asks for up to ${cost.requested} nodes; the limit is ${maxCost}. Ask for smaller pages (first/last) or nest fewer connections.`,
        { cost })
    }
    costs.set(context, cost)
  })
  app.graphql.addHook('onResolution', async (execution, context) => {
    const cost = costs.get(context)
    if (cost) execution.extensions = { ...execution.extensions, cost }
  })
}

const costs = new WeakMap<object, Cost>()
