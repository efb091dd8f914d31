import { z } from 'zod'

export const IdentityCreate = z.object({
  kind: z.string().trim().min(1).max(40).regex(/^[a-z][a-z0-9:_-]*$/, 'Lower-case kind such as email, phone, slack:user')
    .meta({ example: 'phone' }),
  address: z.string().trim().min(1).max(320).meta({ example: '+14155552671' })
}).strict().meta({ id: 'IdentityCreate' })
export type IdentityCreateInput = z.output<typeof IdentityCreate>

export const Identity = z.object({
  id: z.string(),
  contactId: z.string(),
  kind: z.string(),
  address: z.string(),
  firstSeenAt: z.iso.datetime().nullable(),
  lastSeenAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime()
}).meta({ id: 'Identity' })
export type IdentityDto = z.output<typeof Identity>

export const IdentityList = z.object({ data: z.array(Identity) }).meta({ id: 'IdentityList' })
export const IdentityParams = z.object({ id: z.string().min(1).max(100), identityId: z.string().min(1).max(100) })
