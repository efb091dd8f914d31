import type t from 'tap'

/** The type of `t` inside a `t.test(...)` callback (the last overload of t.test takes just the callback). */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]
