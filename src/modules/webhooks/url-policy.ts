import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import ipaddr from 'ipaddr.js'

/**
 * Server-side request forgery guard for webhook URLs. A partner chooses the URL, so without it
 * Rapport could be made to POST to its own loopback, the private network or the cloud metadata
 * service. Only public unicast addresses pass (ipaddr.js names every special range: loopback,
 * RFC 1918, ULA, link-local incl. 169.254.169.254, CGNAT, unspecified, multicast, reserved...).
 * The check runs when an endpoint is saved and again inside the DNS lookup of every delivery's
 * connection, so a name re-pointed to a private address after saving (DNS rebinding) is refused.
 */
export class UrlRefusedError extends Error {}

export interface UrlPolicyOptions {
  /** Hosts exempt from the address check: names or IPs as written in the URL, or CIDR ranges. */
  allowHosts: string[]
  /** Exempts every address (a private deployment whose receivers live on the private network). */
  allowPrivate: boolean
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

export function createUrlPolicy (opts: UrlPolicyOptions) {
  const ranges = opts.allowHosts.filter((h) => h.includes('/')).flatMap((h) => {
    try { return [ipaddr.parseCIDR(h)] } catch { return [] }
  })
  const names = new Set(opts.allowHosts.filter((h) => !h.includes('/')).map(bare))

  function hostAllowed (host: string): boolean {
    if (opts.allowPrivate || names.has(host)) return true
    if (!ipaddr.isValid(host)) return false
    const ip = ipaddr.process(host)
    return ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))
  }

  function assertPublic (address: string, host: string): void {
    const range = ipaddr.process(address).range()
    if (range !== 'unicast') throw new UrlRefusedError(`${host} is a ${range} address (${address}); only public addresses may receive webhooks`)
  }

  /** Parses the URL and refuses other schemes, credentials in the URL and literal private addresses. */
  function parse (url: string): { url: URL, host: string, allowed: boolean } {
    let parsed: URL
    try { parsed = new URL(url) } catch { throw new UrlRefusedError('not an absolute URL') }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UrlRefusedError(`the scheme ${parsed.protocol} is not allowed; use https (or http)`)
    if (parsed.username || parsed.password) throw new UrlRefusedError('credentials in the URL are not allowed')
    // WHATWG URL already turned 2130706433, 0x7f.1 and friends into dotted IPv4.
    const host = bare(parsed.hostname)
    const allowed = hostAllowed(host)
    if (!allowed && ipaddr.isValid(host)) assertPublic(host, host)
    return { url: parsed, host, allowed }
  }

  /** DNS lookup for node:http that refuses private answers: the addresses checked are the ones connected to. */
  function guardedLookup (hostname: string, options: LookupOptions, callback: LookupCallback): void {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, [])
      try {
        if (!hostAllowed(bare(hostname))) for (const a of addresses) assertPublic(a.address, hostname)
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, [])
      }
      if (options.all) return callback(null, addresses)
      callback(null, addresses[0].address, addresses[0].family)
    })
  }

  return {
    parse,
    guardedLookup,
    /**
     * The check made when an endpoint is saved: every address the name resolves to must be
     * public. A name that does not resolve yet is accepted; each delivery checks again.
     */
    async assertAllowed (url: string): Promise<void> {
      const { host, allowed } = parse(url)
      if (allowed || ipaddr.isValid(host)) return
      let addresses: LookupAddress[]
      try {
        addresses = await new Promise((resolve, reject) => dnsLookup(host, { all: true }, (err, a) => err ? reject(err) : resolve(a)))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOTFOUND') return
        throw new UrlRefusedError(`${host} could not be resolved: ${(err as Error).message}`)
      }
      for (const a of addresses) assertPublic(a.address, host)
    }
  }
}

export type UrlPolicy = ReturnType<typeof createUrlPolicy>

const bare = (host: string) => host.toLowerCase().replace(/^\[|\]$/g, '')
