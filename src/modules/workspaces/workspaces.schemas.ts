import { z } from 'zod'

const isTimeZone = (tz: string) => {
  try {
    Intl.DateTimeFormat('en', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

export const Workspace = z.object({
  id: z.string(),
  name: z.string(),
  timeZone: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime()
}).meta({ id: 'Workspace' })
export type WorkspaceDto = z.output<typeof Workspace>

export const WorkspacePatch = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  timeZone: z.string().max(64).refine(isTimeZone, 'Must be an IANA time zone such as Europe/Paris').optional()
}).strict().meta({ id: 'WorkspacePatch' })
export type WorkspacePatchInput = z.output<typeof WorkspacePatch>
