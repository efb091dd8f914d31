import { createTransport } from 'nodemailer'
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js'
import type { OutboundMessage, SendResult } from '../channel-adapter.js'
import { AdapterSendError } from '../channel-adapter.js'
import type { EmailConfig } from './config.js'
import { messageIdFor, replyHeaders } from './headers.js'

/** The part of a nodemailer transport we use; injectable so tests need no SMTP server. */
export interface MailTransport { sendMail: (mail: Record<string, unknown>) => Promise<unknown> }
export type TransportFactory = (options: SMTPTransport.Options) => MailTransport

const NETWORK_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL'])

/** The message as nodemailer options: Message-ID from the idempotency key, threading headers. */
export function smtpMail (msg: OutboundMessage, idempotencyKey: string, config: EmailConfig): { id: string, mail: Record<string, unknown> } {
  const from = config.from ?? ''
  const id = messageIdFor(idempotencyKey, from)
  const thread = replyHeaders(msg.threadId, msg.inReplyTo)
  return {
    id,
    mail: {
      from,
      to: msg.to,
      subject: msg.subject ?? '',
      text: msg.text,
      messageId: `<${id}>`,
      ...(thread.inReplyTo !== undefined ? { inReplyTo: thread.inReplyTo, references: thread.references } : {})
    }
  }
}

/**
 * A new transport per send keeps the adapter stateless; a worker that sends in bulk can pool
 * by caching transports per channel outside the adapter.
 */
export async function sendSmtp (
  msg: OutboundMessage,
  idempotencyKey: string,
  config: EmailConfig,
  factory: TransportFactory = createTransport
): Promise<SendResult> {
  const { id, mail } = smtpMail(msg, idempotencyKey, config)
  const transport = factory({
    host: config.smtpHost,
    port: config.smtpPort,
    secure: config.smtpSecure,
    ...(config.smtpUser !== undefined ? { auth: { user: config.smtpUser, pass: config.smtpPass ?? '' } } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000
  })
  try {
    await transport.sendMail(mail)
  } catch (err) {
    throw smtpError(err)
  }
  return { providerMessageId: id, status: 'sent' }
}

/** SMTP replies: 4xx = try again later, 5xx = permanent. No reply at all = network = retry. */
export function smtpError (err: unknown): AdapterSendError {
  const e = err as { message?: string, code?: string, responseCode?: number }
  const message = `smtp: ${e?.message ?? String(err)}`
  if (typeof e?.responseCode === 'number') {
    return new AdapterSendError(message, { retryable: e.responseCode < 500, providerCode: String(e.responseCode) })
  }
  return new AdapterSendError(message, { retryable: e?.code !== undefined && NETWORK_CODES.has(e.code), providerCode: e?.code })
}
