// The English phrase tables used by commitments.detect.ts. Kept apart so the detector reads as
// logic and these lists can grow without touching it. Every regex is case-insensitive and is run
// on text whose apostrophes were normalised to ' (curly quotes are common in e-mail clients).

/**
 * The constructions that make the sender the one who acts. `rest` is the verb slot that follows.
 * `needsDeadline`: "I can send you X" is an offer of availability unless it names a deadline
 * ("by Friday"), so it only counts with by/before/no later than. `thirdParty`: "you'll get…"
 * and "expect…" are ours only if nobody else is named as the source ("from the bank").
 */
export interface Construction { re: RegExp, needsDeadline?: boolean, thirdParty?: boolean, needsAction?: boolean }

// Verbs that, after "ill" (informal I'll) or "let me", show a real action is promised.
const ACTION = 'send|call|ring|phone|e-?mail|mail|forward|get|follow|update|fix|resolve|patch|repair|' +
  'refund|reimburse|credit|ship|deliver|dispatch|schedule|book|set|arrange|meet|check|confirm|have|look|prepare|share|text|reply|respond|come|visit|process'

export const CONSTRUCTIONS: Construction[] = [
  // I'll / I will / I shall / we'll / we will / we shall (won't, can't never match: they are other words)
  { re: /\b(?:i|we)\s*(?:'ll|\s+will|\s+shall)\b/gi },
  // I'm / I am / we're / we are going to (or gonna); "im" is the informal spelling
  { re: /\b(?:i'm|im|i\s+am|we're|we\s+are)\s+(?:going\s+to|gonna)\b/gi },
  // I promise (to) / we promise — "I promise I'll…" also matches the first rule; first hit wins
  { re: /\b(?:i|we)\s+promise(?:\s+(?:to|that))?\b/gi },
  // our team / our technician / someone from our team will …
  { re: /\b(?:(?:our|my)\s+(?:[a-z]+\s+){0,2}?(?:team|technician|engineer|colleague|manager|rep|representative|courier|driver|department|office|staff|agent)|someone\s+from\s+(?:us|(?:our|my)\s+[a-z]+))\s*(?:'ll|\s+will|\s+shall|\s+is\s+going\s+to|\s+are\s+going\s+to)\b/gi },
  // informal "ill send…": only before an action verb, so "I was ill on Monday" cannot match
  { re: new RegExp(`\\bill(?=\\s+(?:${ACTION})\\b)`, 'gi') },
  // let me / let us … (get back | send | call …) — "let me know" is a request, excluded in detect
  { re: new RegExp(`\\blet\\s+(?:me|us)\\b(?=.*\\b(?:${ACTION})\\b)`, 'gi'), needsAction: true },
  // I can / we can (send|call|get|…) you … by <deadline>
  { re: /\b(?:i|we)\s+can(?=\s+(?:send|call|get|e-?mail|have|deliver|ship|refund)\b)/gi, needsDeadline: true },
  // you'll have it / you'll hear from us / you'll get (a call) from us
  { re: /\byou\s*(?:'ll|\s+will)(?=\s+(?:have|get|receive|hear)\b)/gi, thirdParty: true },
  // (please | you can) expect it / the quote / a call … (from us)
  { re: /(?:^|\bplease\s+|\byou\s+(?:can|should|may)\s+)expect(?=\s+(?:it|them|this|that|the|a|an|our|my|your|delivery|payment)\b)/gi, thirdParty: true }
]

/** Words allowed between the construction and the verb: adverbs and "be able to"-style frames. */
export const SKIP_BEFORE_VERB = /^(?:\s*\b(?:definitely|certainly|surely|also|then|just|personally|first|quickly|gladly|happily|still|again|try\s+(?:and|to)|make\s+sure\s+(?:to\s+)?|be\s+(?:sure|able|happy|glad)\s+to|aim\s+to|endeavou?r\s+to|have\s+(?:someone|somebody)|get\s+(?:someone|somebody)\s+to)\b)+/i

/** The verb slot starts with a negation: "I will not…", "I'll never…", "I promise not to…". */
export const NEGATED_VERB = /^\s*(?:not|never|no\s+longer|n't|hardly)\b/i

/**
 * Verbs that are not actions owed to the customer: "I'll be out until Monday", "I'll need your
 * signature by Friday", "we'll see". "be" is allowed only in the forms listed in BE_ALLOWED, and
 * likelihood hedges (probably, maybe) are not commitments. ("try to" is kept: it is said and heard
 * as a soft promise, and a human reviews every suggestion.)
 */
export const NON_ACTION = /^\s*(?:be|need|want|wish|wait|hope|miss|forget|think|guess|assume|probably|maybe|perhaps|possibly|likely|see(?!\s+you\b)|have\s+to|let\s+(?:me|us)\s+know|know)\b/i
export const BE_ALLOWED = /^\s*be\s+(?:in\s+touch|back\s+(?:in\s+touch|to\s+you)|there|(?:send|call|ring|phon|e-?mail|forward|follow|updat|fix|resolv|patch|repair|refund|shipp|deliver|dispatch|schedul|book|visit|com|check|confirm|prepar|process)ing)\b/i

/**
 * A clause before the commitment that negates or hedges it: "I don't think I'll be able to…",
 * "Hopefully we'll ship on Monday", "I hope we'll meet next week" — a wish is not a promise.
 */
export const NEGATED_LEAD = /\b(?:don't|do\s+not|doubt|not\s+sure|unlikely|no\s+way|can't|cannot|hope|hopefully|wish|maybe|perhaps|probably|possibly)\b/i
/** Reported customer speech before "you'll have/get…": "You said you'll have the payment by Friday". */
export const REPORTED_LEAD = /\byou\s+(?:said|told|mentioned|promised|wrote|confirmed)\b/i

/** A leading customer-side condition: "If you send the specs, I'll…". Trailing "if that works" is fine. */
export const LEADING_CONDITION = /^\W*(?:if|unless|in\s+case|provided|as\s+long\s+as|once)\b/i

/** A question written without "?": "will you call me tomorrow", "shall I send it by Friday". */
export const INVERTED_QUESTION = /^\W*(?:will|would|can|could|shall|should|do|does|may|might)\s+(?:i|we|you|they|he|she)\b/i

/** A named source other than us: "a call from the bank" — for you'll/expect constructions. */
export const OTHER_SOURCE = /\bfrom\s+(?!(?:us|me|our|my)\b)[a-z]+/i

/**
 * Where a clause ends or starts, so a date in someone else's clause is not taken for ours:
 * "You'll get a call from the bank tomorrow and I'll send the form." Plain "and" is not a boundary
 * ("send the quote and the invoice by Friday"); "and" before a subject pronoun is.
 */
export const CLAUSE_BOUNDARY = /;|(?<!\d):(?!\d)|\s[—–-]\s|,?\s+(?:but|however|whereas|while)\s+|,?\s+(?:and|or)\s+(?=(?:i|we|you|they|he|she)\b)/gi

/** Immediately before a date, these make it a deadline; shown in dueText ("by Friday"). */
export const DEADLINE_WORD = /\b(?:by|before|no\s+later\s+than|until|till)\s+$/i

/**
 * kind, first match wins. The order settles sentences that name two things: a call is the promise
 * in "I'll call you about the refund", the quote is the promise in "I'll send you the quote", and a
 * meeting wins over a call in "I'll schedule a call with you".
 */
export const KIND_RULES: Array<[string, RegExp]> = [
  ['meeting', /\b(?:meet(?:ing)?|demo|(?:schedule|book|set\s+up|arrange)\s+(?:a|an|the|our)\s+(?:\w+\s+)?(?:call|meeting|session|slot|visit)|visit|come\s+by|stop\s+by|be\s+there|see\s+you)\b/i],
  ['callback', /\b(?:call(?:ing)?|ring|phone\s+(?:you|back)|(?:by|on\s+the)\s+phone|give\s+you\s+a\s+(?:call|ring|buzz)|get\s+back\s+to\s+you\s+(?:on|by)\s+the\s+phone)\b/i],
  ['refund', /\b(?:refund(?:ed|ing)?|reimburse(?:d|ment)?|credit(?:ed)?(?!\s+card)|money\s+back)\b/i],
  ['quote', /\b(?:quote|quotation|estimate|proposal|pricing|price\s+list)\b/i],
  ['fix', /\b(?:fix(?:ed|ing)?|resolve[d]?|patch(?:ed)?|repair(?:ed)?|sort\s+(?:it|this|that)\s+out)\b/i],
  ['delivery', /\b(?:deliver(?:y|ed|ing)?|ship(?:ped|ping)?|arrive[sd]?|dispatch(?:ed)?)\b/i],
  ['send', /\b(?:send(?:ing)?|e-?mail(?:ing)?\s+(?:you|it|them|over)|forward(?:ing)?|mail\s+(?:you|it)|get\s+(?:it|them|this|that)\s+(?:over\s+)?to\s+you)\b/i],
  ['follow_up', /\b(?:get\s+back\s+to\s+you|follow(?:ing)?[\s-]+up|update\s+you|let\s+you\s+know|be\s+(?:back\s+)?in\s+touch|keep\s+you\s+posted|circle\s+back|reach\s+out|hear\s+from\s+(?:us|me)|confirm|reply|respond)\b/i]
]

/** Abbreviations whose period does not end a sentence. a.m./p.m. end one only before a capital. */
export const NON_TERMINAL_ABBREV = /(?:^|\s)(?:mr|mrs|ms|dr|prof|st|vs|approx|ca|cf|e\.g|i\.e|no)\.$/i
export const MERIDIEM_ABBREV = /(?:^|\s|\d)[ap]\.m\.$/i

// Period phrases chrono gets wrong or does not know ("by the end of the week" parses as "the week" =
// a week from now; "EOD" is not parsed at all). detect resolves these itself; see resolvePeriod.
const LEAD = String.raw`\b(?:(?:by|before|until|till|no\s+later\s+than|within|during|sometime|some\s+time|later)\s+)?(?:the\s+)?`
export const END_OF_DAY = new RegExp(LEAD + String.raw`(?:end\s+of\s+(?:the\s+)?(?:business\s+|working\s+|work\s+)?day|eod|cob|eob|close\s+of\s+(?:business|play))\b`, 'gi')
export const WEEK = new RegExp(LEAD + String.raw`(?:end\s+of\s+(?:the\s+)?(?:(this|next)\s+)?(?:work(?:ing)?\s+|business\s+)?week|(this|next)\s+week)\b`, 'gi')
export const MONTH = new RegExp(LEAD + String.raw`(?:end\s+of\s+(?:the\s+)?(?:(this|next)\s+)?month|(this|next)\s+month)\b`, 'gi')

/** Words that make a date a deadline, needed by "I can send you X <deadline>" (an offer otherwise). */
export const DEADLINE_START = /^(?:by|before|no\s+later\s+than|until|till|within)\b/i
