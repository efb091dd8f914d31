/**
 * Minimal synchronous multipart/form-data reader. Mailgun posts routed mail with attachments as
 * multipart; adapters are synchronous and only need field values plus file metadata.
 */
export interface MultipartFile { field: string, filename?: string, contentType?: string, size: number }

const CRLF2 = Buffer.from('\r\n\r\n')

export function parseMultipart (body: Buffer, boundary: string): { fields: URLSearchParams, files: MultipartFile[] } {
  const fields = new URLSearchParams()
  const files: MultipartFile[] = []
  const delimiter = Buffer.from(`--${boundary}`)
  let start = body.indexOf(delimiter)
  while (start !== -1) {
    const partStart = start + delimiter.length
    if (body.subarray(partStart, partStart + 2).toString() === '--') break // closing delimiter
    const next = body.indexOf(delimiter, partStart)
    if (next === -1) break
    // A part is: CRLF headers CRLF CRLF content CRLF, then the next delimiter.
    const part = body.subarray(partStart + 2, next - 2)
    const headerEnd = part.indexOf(CRLF2)
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8')
      const content = part.subarray(headerEnd + 4)
      const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? ''
      const name = /\bname="([^"]*)"/i.exec(disposition)?.[1]
      const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1]
      const contentType = /content-type:\s*([^\r\n;]+)/i.exec(headers)?.[1]?.trim()
      if (name !== undefined && filename === undefined) fields.append(name, content.toString('utf8'))
      else if (name !== undefined) files.push({ field: name, filename: filename || undefined, contentType, size: content.length })
    }
    start = next
  }
  return { fields, files }
}
