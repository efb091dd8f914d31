import { DomainError } from '../../lib/errors.js'
import type { promiseStatuses } from './promises.table.js'

export type PromiseStatus = (typeof promiseStatuses)[number]

// The lifecycle. A broken promise can still be kept late (the delivery came after the due date
// and the scheduler had already called it broken): the record then says it was kept, and late.
// Renegotiation (open/at_risk only) is the one path from at_risk back to open; it is not in this
// table because it is not a verdict.
const transitions: Record<PromiseStatus, readonly PromiseStatus[]> = {
  open: ['at_risk', 'kept', 'kept_late', 'broken', 'cancelled'],
  at_risk: ['kept', 'kept_late', 'broken', 'cancelled'],
  broken: ['kept_late'],
  kept: [],
  kept_late: [],
  cancelled: []
}

const live = (s: PromiseStatus) => s === 'open' || s === 'at_risk'

export function assertTransition (id: string, from: PromiseStatus, to: PromiseStatus | 'renegotiated'): void {
  const allowed = to === 'renegotiated' ? live(from) : transitions[from].includes(to)
  if (!allowed) {
    throw new DomainError('promise.invalid_transition', `Promise ${id} is ${from}; it cannot become ${to}`, { from, to, allowed: transitions[from] })
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
