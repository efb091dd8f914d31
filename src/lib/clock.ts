/** Time, injectable so that tests can move it (timestamp windows, schedulers). */
export interface Clock { now: () => Date }
export const systemClock: Clock = { now: () => new Date() }
