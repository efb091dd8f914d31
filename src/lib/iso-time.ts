const two = (n: number) => (n < 10 ? '0' : '') + n
const three = (n: number) => (n < 10 ? '00' : n < 100 ? '0' : '') + n

/**
 * The same string as `date.toISOString()` (UTC, milliseconds, `Z`), two to three times faster:
 * V8's builtin goes through its C++ date runtime, and the DTO mappers of every list call it for
 * each timestamp of each row (a hundred times for a page of 50 contacts). Dates outside the
 * four-digit years (which toISOString writes as ±YYYYYY) and invalid ones go to the builtin.
 */
export function isoTime (date: Date): string {
  const year = date.getUTCFullYear()
  if (!(year >= 0 && year <= 9999)) return date.toISOString()
  const y = year < 1000 ? String(year).padStart(4, '0') : String(year)
  return y + '-' + two(date.getUTCMonth() + 1) + '-' + two(date.getUTCDate()) + 'T' + two(date.getUTCHours()) + ':' +
    two(date.getUTCMinutes()) + ':' + two(date.getUTCSeconds()) + '.' + three(date.getUTCMilliseconds()) + 'Z'
}
