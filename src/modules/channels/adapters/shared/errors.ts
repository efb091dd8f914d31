import { AdapterSendError } from '../channel-adapter.js'

/** A channel without the credentials to send will not gain them by retrying. */
export function notConfigured (message: string): AdapterSendError {
  return new AdapterSendError(message, { retryable: false })
}
