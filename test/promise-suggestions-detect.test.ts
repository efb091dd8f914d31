import t from 'tap'
import { detectCommitments } from '../src/modules/promises/commitments.detect.js'

// Unit test of the pure detector behind promise suggestions (storage and HTTP are tested elsewhere).
// Reference: Wednesday 2026-03-04 10:00 UTC = 11:00 in Paris (+01:00), 05:00 in New York (-05:00,
// and -04:00 from Sunday 8 March: US DST), 19:00 in Tokyo (+09:00). A date with no time is due at
// 17:00 local, so "Friday" in Paris is 2026-03-06T16:00Z. Every expectation is exact.
const WED = '2026-03-04T10:00:00Z'
const PARIS = 'Europe/Paris'
const NY = 'America/New_York'
const TOKYO = 'Asia/Tokyo'

/** [kind, dueAt ISO, dueText, description?] per detected commitment, in message order. */
type Found = [string, string, string, string?]
interface Case { text: string, expect: Found[], tz?: string, ref?: string }

const positives: Record<string, Case> = {
  // ---- Paris, the basics of each construction ----
  'quote by weekday': { text: "I'll send you the quote by Friday.", expect: [['quote', '2026-03-06T16:00:00.000Z', 'by Friday']] },
  'we will + tomorrow, lower case': { text: 'we will call you back tomorrow', expect: [['callback', '2026-03-05T16:00:00.000Z', 'tomorrow']] },
  'explicit time is kept': { text: "I'll call you tomorrow at 3pm", expect: [['callback', '2026-03-05T14:00:00.000Z', 'tomorrow at 3pm']] },
  'relative time is exact': { text: "I'll ring you in 2 hours!", expect: [['callback', '2026-03-04T12:00:00.000Z', 'in 2 hours']] },
  'end of the week is Friday 17:00': { text: "We'll ship it by the end of the week.", expect: [['delivery', '2026-03-06T16:00:00.000Z', 'by the end of the week']] },
  'next week is Friday of next week': { text: "We'll deliver next week.", expect: [['delivery', '2026-03-13T16:00:00.000Z', 'next week']] },
  'EOD is today 17:00': { text: "I'll get back to you by EOD", expect: [['follow_up', '2026-03-04T16:00:00.000Z', 'by EOD']] },
  'informal "ill" before an action verb, abbreviated weekday': { text: 'ill send the quote by fri', expect: [['quote', '2026-03-06T16:00:00.000Z', 'by fri']] },
  'fronted day + later bare time combine': { text: "Tomorrow I'll call you at 3pm.", expect: [['callback', '2026-03-05T14:00:00.000Z', 'Tomorrow at 3pm']] },
  'I promise to': { text: 'I promise to refund you by Monday', expect: [['refund', '2026-03-09T16:00:00.000Z', 'by Monday']] },
  'let me get back': { text: 'Let me get back to you tomorrow.', expect: [['follow_up', '2026-03-05T16:00:00.000Z', 'tomorrow']] },
  'I can … by (deadline)': { text: 'I can send you the quote by Friday', expect: [['quote', '2026-03-06T16:00:00.000Z', 'by Friday']] },
  "you'll have it": { text: "You'll have it by Monday", expect: [['other', '2026-03-09T16:00:00.000Z', 'by Monday']] },
  "you'll get a call from us": { text: "You'll get a call from us tomorrow", expect: [['callback', '2026-03-05T16:00:00.000Z', 'tomorrow']] },
  'expect the quote': { text: 'Expect the quote by Friday', expect: [['quote', '2026-03-06T16:00:00.000Z', 'by Friday']] },
  'our technician; morning is due at noon': { text: 'Our technician will fix it tomorrow morning', expect: [['fix', '2026-03-05T11:00:00.000Z', 'tomorrow morning']] },
  'curly apostrophe, "end of day tomorrow"': { text: 'I’ll fix the bug by end of day tomorrow', expect: [['fix', '2026-03-05T16:00:00.000Z', 'by end of day tomorrow', 'I’ll fix the bug by end of day tomorrow']] },
  'meeting beats call, next Tuesday at 2pm': { text: "We'll schedule a demo for next Tuesday at 2pm", expect: [['meeting', '2026-03-10T13:00:00.000Z', 'next Tuesday at 2pm']] },
  'within 2 days': { text: "I'll process your refund within 2 days", expect: [['refund', '2026-03-06T16:00:00.000Z', 'within 2 days']] },
  "I'm going to": { text: "I'm going to send the replacement by Monday", expect: [['send', '2026-03-09T16:00:00.000Z', 'by Monday']] },
  'we are going to follow up': { text: 'We are going to follow up on Friday', expect: [['follow_up', '2026-03-06T16:00:00.000Z', 'on Friday']] },
  'next month = last day, across the EU DST change (+02:00)': { text: "I'll be in touch next month", expect: [['follow_up', '2026-04-30T15:00:00.000Z', 'next month']] },
  'trailing politeness "if" still commits': { text: "I'll call you tomorrow at 10 if that works for you.", expect: [['callback', '2026-03-05T09:00:00.000Z', 'tomorrow at 10']] },
  'by 5pm today': { text: "I'll get it to you by 5pm", expect: [['send', '2026-03-04T16:00:00.000Z', 'by 5pm']] },
  '"don\'t" in an earlier clause does not negate': { text: "Don't worry, I'll call you tomorrow", expect: [['callback', '2026-03-05T16:00:00.000Z', 'tomorrow']] },
  'I shall forward': { text: 'I shall forward the contract on Monday', expect: [['send', '2026-03-09T16:00:00.000Z', 'on Monday']] },
  'someone from our team': { text: 'Someone from our team will call you tomorrow', expect: [['callback', '2026-03-05T16:00:00.000Z', 'tomorrow']] },
  'shouting, "!!!"': { text: 'I WILL SEND THE ESTIMATE BY THURSDAY!!!', expect: [['quote', '2026-03-05T16:00:00.000Z', 'BY THURSDAY']] },
  'calendar date': { text: "I'll reimburse you by March 20", expect: [['refund', '2026-03-20T16:00:00.000Z', 'by March 20']] },
  'this afternoon ends at 17:00': { text: "I'll update you this afternoon", expect: [['follow_up', '2026-03-04T16:00:00.000Z', 'this afternoon']] },
  'end of next week': { text: 'I will send the proposal by the end of next week!', expect: [['quote', '2026-03-13T16:00:00.000Z', 'by the end of next week']] },
  '"try to" is kept as a (soft) promise': { text: "I'll try to call you tomorrow", expect: [['callback', '2026-03-05T16:00:00.000Z', 'tomorrow']] },
  'call beats refund': { text: "I'll call you about the refund tomorrow", expect: [['callback', '2026-03-05T16:00:00.000Z', 'tomorrow']] },
  'see you = meeting': { text: "I'll see you on Monday at 10", expect: [['meeting', '2026-03-09T09:00:00.000Z', 'on Monday at 10']] },
  'our colleague, after a non-commitment': { text: 'I will be on leave next week, so my colleague will call you on Monday.', expect: [['callback', '2026-03-09T16:00:00.000Z', 'on Monday']] },
  'date in another clause is not ours': { text: "I'll call you on Monday at 10:30; the courier will deliver on Tuesday", expect: [['callback', '2026-03-09T09:30:00.000Z', 'on Monday at 10:30']] },
  'informal "tmrw" after "!!"': { text: "Great talking to you!! I'll email you the contract tmrw :)", expect: [['send', '2026-03-05T16:00:00.000Z', 'tmrw', "I'll email you the contract tmrw :)"]] },
  // ---- several sentences ----
  'two commitments in one message': {
    text: 'Thanks for your patience. I\'ll send you the quote by Friday. We will also call you back tomorrow at 3pm.',
    expect: [['quote', '2026-03-06T16:00:00.000Z', 'by Friday', "I'll send you the quote by Friday."], ['callback', '2026-03-05T14:00:00.000Z', 'tomorrow at 3pm', 'We will also call you back tomorrow at 3pm.']]
  },
  'past and question around a commitment': {
    text: "Sorry I missed your call yesterday. I'll call you back tomorrow morning. Will you be around?",
    expect: [['callback', '2026-03-05T11:00:00.000Z', 'tomorrow morning', "I'll call you back tomorrow morning."]]
  },
  '"p.m." does not end the sentence; "Thanks" is another': { text: "I'll call you at 3 p.m. tomorrow. Thanks", expect: [['callback', '2026-03-05T14:00:00.000Z', 'at 3 p.m. tomorrow', "I'll call you at 3 p.m. tomorrow."]] },
  'hard-wrapped e-mail, signature not glued': { text: "Hi Ana,\nI'll send the quote\nby Friday\nBest,\nJohn", expect: [['quote', '2026-03-06T16:00:00.000Z', 'by Friday', "I'll send the quote by Friday"]] },
  // ---- Paris, other reference instants ----
  'EOD after 17:00 → reference + 1h': { ref: '2026-03-04T17:30:00Z', text: "I'll send it by EOD", expect: [['send', '2026-03-04T18:30:00.000Z', 'by EOD']] },
  'end of week said on Saturday → next Friday': { ref: '2026-03-07T12:00:00Z', text: "I'll send it by end of week", expect: [['send', '2026-03-13T16:00:00.000Z', 'by end of week']] },
  // ---- New York: US DST starts Sunday 8 March ----
  'NY next week: Friday 17:00 EDT': { tz: NY, text: "I'll send it next week", expect: [['send', '2026-03-13T21:00:00.000Z', 'next week']] },
  'NY end of week: Friday 17:00 EST': { tz: NY, text: "I'll send it by end of week", expect: [['send', '2026-03-06T22:00:00.000Z', 'by end of week']] },
  'NY wall-clock time after the DST change': { tz: NY, text: "I'll call at 3pm on Monday", expect: [['callback', '2026-03-09T19:00:00.000Z', 'at 3pm on Monday']] },
  'NY today': { tz: NY, text: "I'll send it today", expect: [['send', '2026-03-04T22:00:00.000Z', 'today']] },
  'NY evening: UTC is already Thursday, local tomorrow is Thursday': { tz: NY, ref: '2026-03-05T02:00:00Z', text: "I'll call you tomorrow", expect: [['callback', '2026-03-05T22:00:00.000Z', 'tomorrow']] },
  // ---- Tokyo: 19:00 local at the reference ----
  'Tokyo today after 17:00 → reference + 1h': { tz: TOKYO, text: "I'll send it today", expect: [['send', '2026-03-04T11:00:00.000Z', 'today']] },
  'Tokyo tomorrow': { tz: TOKYO, text: "I'll send it tomorrow", expect: [['send', '2026-03-05T08:00:00.000Z', 'tomorrow']] },
  'Tokyo tonight = 22:00': { tz: TOKYO, text: "I'll call you tonight", expect: [['callback', '2026-03-04T13:00:00.000Z', 'tonight']] },
  'Tokyo morning: local Thursday while UTC is Wednesday': { tz: TOKYO, ref: '2026-03-04T23:30:00Z', text: "I'll call you today", expect: [['callback', '2026-03-05T08:00:00.000Z', 'today']] },
  'Tokyo morning: tomorrow is local Friday': { tz: TOKYO, ref: '2026-03-04T23:30:00Z', text: "I'll call you tomorrow", expect: [['callback', '2026-03-06T08:00:00.000Z', 'tomorrow']] }
}

const negatives: Record<string, string> = {
  // negations
  "won't be able to": "I won't be able to call tomorrow",
  'will not': 'We will not ship it on Monday.',
  "can't": "I can't send it by Friday",
  'not going to': "I'm not going to call you tomorrow",
  'negated lead clause': "I don't think I'll be able to call tomorrow",
  'promise not to': 'I promise not to call before Monday',
  // questions, with and without "?", and a tag question (the time is not agreed yet)
  'will you …?': 'Will you call me tomorrow?',
  'can you …?': 'Can you send it by Friday?',
  'inverted, no "?"': 'Shall I call you tomorrow',
  'tag question': "I'll call you at 10 tomorrow, ok?",
  // the customer's or someone else's commitments
  'bank calls the customer': "You'll get a call from the bank tomorrow",
  'they will': 'They will deliver on Monday',
  'reported customer speech': "You said you'll have the payment by Friday.",
  'expect … from someone else': 'Expect a call from the bank tomorrow',
  "customer obligation (you'll have to)": "You'll have to sign it by Friday.",
  'their clause has the date, ours has none': "You'll get a call from the bank tomorrow and I'll send the form.",
  'request, not promise': 'Let me know by Friday.',
  // past tense (chrono with forwardDate would read "on Monday" as next Monday)
  'sent yesterday': 'I sent it yesterday',
  'called on Monday': 'I called you on Monday',
  'shipped last Friday': 'We shipped it last Friday.',
  // conditionals: a leading customer-side condition is not a commitment yet
  'if …, be here (no date)': "If you need anything, I'll be here",
  'if you send the specs, …': "If you send me the specs, I'll send the quote by Friday.",
  // no date
  'soon': "I'll send it soon",
  'get back, no date': "We'll get back to you",
  // hypotheticals and hedges
  'would … if': 'I would call you tomorrow if I could',
  "I'd … if": "I'd send it by Friday if the parts were in",
  'might': 'I might call you tomorrow',
  'probably': "I'll probably call you tomorrow",
  'hope': "I hope we'll meet next week",
  // first person future that is not an action owed to the customer
  'out of office': "I'll be out of office until Monday",
  'we need something': "I'll need your signature by Friday",
  // an offer of availability: "I can" needs a deadline
  'I can, no deadline': 'I can call you tomorrow',
  // past or too soon to track
  'time already past today': "I'll call you today at 9am",
  'within 15 minutes': "I'll call you in 5 minutes",
  // decided miss: "well" (we'll without apostrophe) is too ambiguous to read as a promise
  'informal "well"': 'well send it by friday',
  'multi-sentence, nothing ours': 'I called you on Monday. Will you be around tomorrow?'
}

t.test('positive phrasings: exact kind, dueAt, dueText (and description where given)', async (t) => {
  for (const [name, c] of Object.entries(positives)) {
    const found = detectCommitments(c.text, { reference: new Date(c.ref ?? WED), timeZone: c.tz ?? PARIS })
    t.same(found.map((f) => [f.kind, f.dueAt.toISOString(), f.dueText]), c.expect.map((e) => e.slice(0, 3)), name)
    c.expect.forEach((e, i) => { if (e[3] !== undefined) t.equal(found[i]?.description, e[3], `${name}: description ${i}`) })
  }
})

t.test('negative phrasings: nothing is suggested', async (t) => {
  for (const [name, text] of Object.entries(negatives)) {
    t.same(detectCommitments(text, { reference: new Date(WED), timeZone: PARIS }), [], `${name}: ${text}`)
  }
})

t.test('table size and coverage', async (t) => {
  const cases = Object.values(positives)
  t.ok(cases.length + Object.keys(negatives).length >= 40, 'at least 40 phrasings')
  t.ok(Object.keys(negatives).length >= 15, 'at least 15 negatives')
  for (const tz of [PARIS, NY, TOKYO]) t.ok(cases.some((c) => (c.tz ?? PARIS) === tz), `a case in ${tz}`)
})

t.test('the description is the sentence as written, without the text around it', async (t) => {
  const [c] = detectCommitments('  Hello!   We will call you back\n  tomorrow.  Cheers ', { reference: new Date(WED), timeZone: PARIS })
  t.equal(c?.description, 'We will call you back tomorrow.')
})

t.test('an unknown time zone is a caller error', async (t) => {
  t.throws(() => detectCommitments("I'll call you tomorrow", { reference: new Date(WED), timeZone: 'Mars/Olympus' }), RangeError)
})
