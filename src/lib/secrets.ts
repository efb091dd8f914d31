import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

// AES-256-GCM with a key from the environment (SECRETS_KEY): channel credentials at rest are
// useless without it, and tampering is detected by the auth tag.
export interface SecretBox {
  seal: (value: unknown) => string
  open: <T = unknown>(sealed: string) => T
}

export function createSecretBox (hexKey: string): SecretBox {
  const key = Buffer.from(hexKey, 'hex')
  if (key.length !== 32) throw new Error('SECRETS_KEY must be 32 bytes of hex')
  return {
    seal (value) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()])
      return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':')
    },
    open (sealed) {
      const [version, iv, tag, data] = sealed.split(':')
      if (version !== 'v1') throw new Error('unknown secret format')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'))
      decipher.setAuthTag(Buffer.from(tag, 'base64'))
      return JSON.parse(Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8'))
    }
  }
}
