// Finds the promises our side makes in an outbound message ("I'll send you the quote by Friday")
// so Rapport can *suggest* them. Pure: no I/O, no clock (the message time is `reference`), and
// nothing is ever created from here. Precision over recall: a missed suggestion costs a click, a
// wrong one costs trust in the feature. The phrase tables live in commitments.patterns.ts.
import * as chrono from 'chrono-node'
import {
  BE_ALLOWED, CLAUSE_BOUNDARY, CONSTRUCTIONS, DEADLINE_START, DEADLINE_WORD, END_OF_DAY, INVERTED_QUESTION,
  KIND_RULES, LEADING_CONDITION, MERIDIEM_ABBREV, MONTH, NEGATED_LEAD, NEGATED_VERB, NON_ACTION,
  NON_TERMINAL_ABBREV, OTHER_SOURCE, REPORTED_LEAD, SKIP_BEFORE_VERB, WEEK, type Construction
} from './commitments.patterns.js'

export interface DetectedCommitment {
  /** The sentence (trimmed, inner whitespace collapsed) that carries the commitment. */
  description: string
  /** 'callback' | 'quote' | 'refund' | 'delivery' | 'meeting' | 'send' | 'follow_up' | 'fix' | 'other' */
  kind: string
  dueAt: Date
  /** The date text as written, e.g. 'by Friday' (chrono's match plus a deadline word right before it). */
  dueText: string
}
export interface DetectOptions { reference: Date, timeZone: string /* IANA, e.g. 'Europe/Paris' */ }

const HOUR = 3_600_000
/** Business day end: a date without a time ("by Friday") is due at 17:00 local that day. */
const END_OF_BUSINESS = 17
/** Due sooner than this ("I'll call you now", "in a sec") is conversation, not a promise to track. */
const MIN_LEAD_MS = 15 * 60_000
/** A part of the day is due when it ends: "tomorrow morning" is late at noon, not at 06:00 (chrono's guess). */
const PART_OF_DAY_END: Record<string, number> = { morning: 12, afternoon: 17, evening: 22, tonight: 22 }

// ---- time zone arithmetic (Intl only; the offset is looked up per instant, so DST is honoured) ----
const formatters = new Map<string, Intl.DateTimeFormat>()
/** Minutes east of UTC of `timeZone` at `at`. Throws RangeError on an unknown zone. */
function offsetMinutes (timeZone: string, at: Date): number {
  let f = formatters.get(timeZone)
  if (f === undefined) formatters.set(timeZone, f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }))
  const name = f.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT'
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name) // plain "GMT" means +00:00
  return m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]))
}
interface Day { y: number, m: number, d: number, wd: number }
function localDay (at: Date, tz: string): Day {
  const l = new Date(at.getTime() + offsetMinutes(tz, at) * 60_000)
  return { y: l.getUTCFullYear(), m: l.getUTCMonth() + 1, d: l.getUTCDate(), wd: l.getUTCDay() }
}
/** The instant when the wall clock in `tz` reads y-m-d h:min. Day/month overflow is allowed (d + 7, d = 0). */
function zoned (tz: string, y: number, m: number, d: number, h: number, min = 0): Date {
  const wall = Date.UTC(y, m - 1, d, h, min)
  // two passes: the offset at the guessed instant, then at the corrected one (DST edges)
  const guess = wall - offsetMinutes(tz, new Date(wall)) * 60_000
  return new Date(wall - offsetMinutes(tz, new Date(guess)) * 60_000)
}

// ---- candidate dates in a sentence ----
interface Candidate {
  index: number
  end: number
  text: string
  /** null: in the past (or too soon) — the next candidate is tried. */
  due: () => Date | null
  /** A date with no time, or a time with no date ("at 3pm"): the two combine (see pickDue). */
  dateOnly?: Day
  timeOnly?: { h: number, min: number }
}

/**
 * Date-level dues share one rule: 17:00 (or the part-of-day end) local; if that is already over
 * *today* ("I'll send it today" written at 18:00) the promise is due one hour after the message,
 * which is what the sender most plausibly meant; an earlier day is the past and is dropped.
 */
function dayDue (o: DetectOptions, day: Day, hour: number): Date | null {
  const due = zoned(o.timeZone, day.y, day.m, day.d, hour)
  if (due.getTime() >= o.reference.getTime() + MIN_LEAD_MS) return due
  const [today, that] = [localDay(o.reference, o.timeZone), localDay(due, o.timeZone)] // `day` may overflow (d: 0)
  return today.y === that.y && today.m === that.m && today.d === that.d ? new Date(o.reference.getTime() + HOUR) : null
}

/**
 * EOD → today; "end of (this) week"/"this week" → Friday of the current Monday–Sunday week (next
 * Friday once it is over, e.g. said on a Saturday); "next week" → Friday of next week, not Monday:
 * the promise is kept by acting any day that week, so it must not fall due on its first day.
 * "end of (this) month"/"this month" → last calendar day; "next month" → last day of next month.
 */
function periodCandidates (s: string, o: DetectOptions): Candidate[] {
  const out: Candidate[] = []
  const today = localDay(o.reference, o.timeZone)
  const add = (m: RegExpMatchArray, due: () => Date | null) => out.push({ index: m.index!, end: m.index! + m[0].length, text: m[0], due })
  for (const m of s.matchAll(END_OF_DAY)) add(m, () => dayDue(o, today, END_OF_BUSINESS))
  for (const m of s.matchAll(WEEK)) {
    const friday = today.d - ((today.wd + 6) % 7) + 4 + ((m[1] ?? m[2])?.toLowerCase() === 'next' ? 7 : 0)
    add(m, () => dayDue(o, { ...today, d: friday }, END_OF_BUSINESS) ??
      zoned(o.timeZone, today.y, today.m, friday + 7, END_OF_BUSINESS))
  }
  for (const m of s.matchAll(MONTH)) {
    const next = (m[1] ?? m[2])?.toLowerCase() === 'next' ? 1 : 0
    add(m, () => dayDue(o, { ...today, m: today.m + 1 + next, d: 0 }, END_OF_BUSINESS))
  }
  return out
}

function chronoCandidates (s: string, o: DetectOptions): Candidate[] {
  const ref = { instant: o.reference, timezone: offsetMinutes(o.timeZone, o.reference) }
  return chrono.en.parse(s, ref, { forwardDate: true }).map((r): Candidate => {
    const c = r.start
    const lead = DEADLINE_WORD.exec(s.slice(0, r.index))?.[0] ?? ''
    const base = { index: r.index - lead.length, end: r.index + r.text.length, text: lead + r.text }
    const day: Day = { y: c.get('year')!, m: c.get('month')!, d: c.get('day')!, wd: c.get('weekday') ?? 0 }
    const tags = r.tags()
    if (!c.isCertain('hour')) {
      const part = Object.keys(PART_OF_DAY_END).find((p) => tags.has(`casualReference/${p}`))
      return { ...base, dateOnly: day, due: () => dayDue(o, day, part === undefined ? END_OF_BUSINESS : PART_OF_DAY_END[part]) }
    }
    // "in 2 hours" and "3pm EST" are exact instants; other wall-clock times are re-anchored in the
    // zone so a date past a DST change is not off by an hour (chrono uses the reference's offset).
    const exact = tags.has('result/relativeDateAndTime') || c.isCertain('timezoneOffset')
    const at = exact ? c.date() : zoned(o.timeZone, day.y, day.m, day.d, c.get('hour')!, c.get('minute') ?? 0)
    const dated = c.isCertain('day') || c.isCertain('weekday') || c.isCertain('month')
    const future = () => at.getTime() >= o.reference.getTime() + MIN_LEAD_MS ? at : null
    return { ...base, due: future, ...(exact || dated ? {} : { timeOnly: { h: c.get('hour')!, min: c.get('minute') ?? 0 } }) }
  })
}

/** Period phrases win over what chrono read inside them; "EOD Friday" is Friday (at 17:00 anyway). */
function candidates (s: string, o: DetectOptions): Candidate[] {
  const periods = periodCandidates(s, o)
  const parsed = chronoCandidates(s, o).filter((c) => !periods.some((p) => c.index < p.end && p.index < c.end))
  const all = [...periods, ...parsed].sort((a, b) => a.index - b.index)
  return all.filter((c, i) => {
    const next = all[i + 1]
    if (!periods.includes(c) || next === undefined || !/^\s*(?:on\s+)?$/i.test(s.slice(c.end, next.index))) return true
    Object.assign(next, { index: c.index, text: s.slice(c.index, next.end) })
    return false
  })
}

/**
 * The first date after the construction, else the last one before it ("Tomorrow, I'll call you").
 * A bare time borrows the clause's day: "Tomorrow I'll call you at 3pm" is tomorrow 15:00.
 */
function pickDue (cands: Candidate[], at: number, o: DetectOptions): { dueAt: Date, dueText: string } | null {
  const order = [...cands.filter((c) => c.index >= at), ...cands.filter((c) => c.index < at).reverse()]
  for (const c of order) {
    const day = c.timeOnly === undefined ? undefined : cands.find((d) => d.dateOnly !== undefined)
    if (c.timeOnly !== undefined && day !== undefined) {
      const dueAt = zoned(o.timeZone, day.dateOnly!.y, day.dateOnly!.m, day.dateOnly!.d, c.timeOnly.h, c.timeOnly.min)
      if (dueAt.getTime() >= o.reference.getTime() + MIN_LEAD_MS) return { dueAt, dueText: `${day.text} ${c.text}` }
      continue
    }
    const dueAt = c.due()
    if (dueAt !== null) return { dueAt, dueText: c.text }
  }
  return null
}

// ---- sentences and clauses ----
/**
 * [start, end) of each sentence. A period after Mr/e.g./… does not end one; after a.m./p.m. only
 * before a capital. A line break ends one unless the next line starts lower-case (a hard-wrapped
 * e-mail line), so a signature under the last sentence is not glued to it.
 */
function sentenceRanges (text: string): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let start = 0
  const push = (end: number) => {
    const chunk = text.slice(start, end)
    const lead = chunk.length - chunk.trimStart().length
    if (chunk.trim() !== '') out.push([start + lead, start + lead + chunk.trim().length])
  }
  for (const m of text.matchAll(/[.!?]+["')\]]*(?=\s|$)|\n/g)) {
    const end = m.index + m[0].length
    const after = text.slice(end)
    if (m[0] === '\n' ? /^[ \t]*[a-z]/.test(after) : m[0] === '.' &&
      (NON_TERMINAL_ABBREV.test(text.slice(start, end)) || (MERIDIEM_ABBREV.test(text.slice(start, end)) && !/^\s+[A-Z]/.test(after)))) continue
    push(end)
    start = end
  }
  push(text.length)
  return out
}

interface Hit { index: number, end: number, c: Construction }
function constructions (s: string): Hit[] {
  return CONSTRUCTIONS.flatMap((c) => [...s.matchAll(c.re)].map((m) => ({ index: m.index, end: m.index + m[0].length, c })))
    .sort((a, b) => a.index - b.index)
}

/** Does the construction at `h` commit us to an action? (negation, hedges, conditions, someone else) */
function commits (s: string, h: Hit, clauseStart: number, clauseEnd: number): boolean {
  const lead = s.slice(clauseStart, h.index)
  if (LEADING_CONDITION.test(lead) || NEGATED_LEAD.test(lead.slice(lead.lastIndexOf(',') + 1))) return false
  const rest = s.slice(h.end, clauseEnd)
  const verb = rest.replace(SKIP_BEFORE_VERB, '')
  if (NEGATED_VERB.test(rest) || NEGATED_VERB.test(verb)) return false
  if (NON_ACTION.test(verb) && !BE_ALLOWED.test(verb)) return false
  return !(h.c.thirdParty === true && (OTHER_SOURCE.test(rest) || REPORTED_LEAD.test(lead)))
}

function kindOf (text: string): string {
  return KIND_RULES.find(([, re]) => re.test(text))?.[0] ?? 'other'
}

function detectInSentence (s: string, o: DetectOptions): Omit<DetectedCommitment, 'description'> | null {
  // A question asks rather than promises; that includes tag questions ("I'll call at 10, ok?"):
  // the time is not agreed until the customer answers.
  if (/\?["')\]]*$/.test(s) || INVERTED_QUESTION.test(s)) return null
  const bounds = [...s.matchAll(CLAUSE_BOUNDARY)].map((m) => [m.index, m.index + m[0].length])
  let cands: Candidate[] | undefined
  for (const h of constructions(s)) {
    const clauseStart = Math.max(0, ...bounds.filter(([, e]) => e <= h.index).map(([, e]) => e))
    const clauseEnd = Math.min(s.length, ...bounds.filter(([b]) => b >= h.end).map(([b]) => b))
    if (!commits(s, h, clauseStart, clauseEnd)) continue
    cands ??= candidates(s, o)
    const inClause = cands.filter((c) => c.index >= clauseStart && c.end <= clauseEnd &&
      (h.c.needsDeadline !== true || DEADLINE_START.test(c.text)))
    const due = pickDue(inClause, h.index, o)
    if (due !== null) return { kind: kindOf(s.slice(h.index, clauseEnd)), ...due }
  }
  return null
}

/** Every sentence of `text` in which we commit to something with a date; at most one per sentence. */
export function detectCommitments (text: string, opts: DetectOptions): DetectedCommitment[] {
  const norm = text.replace(/[\u2018\u2019\u02bc]/g, "'") // same length, so ranges apply to `text` too
  return sentenceRanges(norm).flatMap(([a, b]) => {
    const hit = detectInSentence(norm.slice(a, b), opts)
    return hit === null ? [] : [{ description: text.slice(a, b).replace(/\s+/g, ' '), ...hit }]
  })
}
