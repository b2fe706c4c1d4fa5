/**
 * Listen addresses, once for every listener (proxy, admin): `host:port` or `[v6]:port` as the schema's `listen`
 * keys take them, and the http URL of the address a listener bound.
 */

/** `host:port` or `[v6]:port` → its parts (the config schema already checked the shape). */
export function parseListen (listen: string): { host: string, port: number } {
  const i = listen.lastIndexOf(':')
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, '$1')
  return { host, port: Number(listen.slice(i + 1)) }
}

/** `http://host:port`, an IPv6 host in brackets. */
export function httpUrlOf (address: { host: string, port: number }): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host
  return `http://${host}:${address.port}`
}

/** The URL a client on this machine reaches a listener configured as `listen` at: a wildcard host on loopback. */
export function localUrlOf (listen: string): string {
  const { host, port } = parseListen(listen)
  return httpUrlOf({ host: host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host, port })
}
