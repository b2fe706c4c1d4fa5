/**
 * `proxy.trusted_proxies` entries: an address or a CIDR, IPv4 or IPv6, checked once at load and turned into a
 * node:net BlockList the proxy asks per connection (no parsing on the request path).
 */
import { BlockList, isIP } from 'node:net'

export interface Cidr { address: string, prefix: number, family: 'ipv4' | 'ipv6' }

export function parseCidr (text: string): Cidr | null {
  const slash = text.indexOf('/')
  const address = slash === -1 ? text : text.slice(0, slash)
  const version = isIP(address)
  if (version === 0) return null
  const max = version === 4 ? 32 : 128
  const prefix = slash === -1 ? max : Number(text.slice(slash + 1))
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' }
}

/** The peers whose forwarding headers are believed; an empty list believes nobody. */
export function trustedPeers (cidrs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const text of cidrs) {
    const c = parseCidr(text)
    if (c !== null) list.addSubnet(c.address, c.prefix, c.family)
  }
  return list
}
