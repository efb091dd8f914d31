import { DomainError } from '../../lib/errors.js'
import type { promiseStatuses } from './promises.table.js'

export type PromiseStatus = (typeof promiseStatuses)[number]

// The lifecycle. Terminal states have no way out; renegotiation (open/at_risk only) is the one
// path from at_risk back to open, and it is not in this table because it is not a verdict.
const transitions: Record<PromiseStatus, readonly PromiseStatus[]> = {
  open: ['at_risk', 'kept', 'kept_late', 'broken', 'cancelled'],
  at_risk: ['kept', 'kept_late', 'broken', 'cancelled'],
  kept: [],
  kept_late: [],
  broken: [],
  cancelled: []
}

export const isTerminal = (s: PromiseStatus) => transitions[s].length === 0

export function assertTransition (id: string, from: PromiseStatus, to: PromiseStatus | 'renegotiated'): void {
  const allowed = to === 'renegotiated' ? !isTerminal(from) : transitions[from].includes(to)
  if (!allowed) {
    throw new DomainError('promise.invalid_transition', `Promise ${id} is ${from}; it cannot become ${to}`, { from, to, allowed: to === 'renegotiated' ? [] : transitions[from] })
  }
}

/** Kept on time or late, against the due date in force when it was kept. */
export const keptStatus = (keptAt: Date, dueAt: Date): 'kept' | 'kept_late' => keptAt.getTime() <= dueAt.getTime() ? 'kept' : 'kept_late'

/** Where a live promise stands at `now`: open, at_risk inside the warning window, due past dueAt. */
export function standing (dueAt: Date, now: Date, riskWindowMs: number): 'open' | 'at_risk' | 'due' {
  if (now.getTime() >= dueAt.getTime()) return 'due'
  if (now.getTime() >= dueAt.getTime() - riskWindowMs) return 'at_risk'
  return 'open'
}

/** When the scheduler should next look at a live promise. */
export function nextCheck (dueAt: Date, now: Date, riskWindowMs: number): Date {
  const riskAt = new Date(dueAt.getTime() - riskWindowMs)
  return now < riskAt ? riskAt : dueAt
}
