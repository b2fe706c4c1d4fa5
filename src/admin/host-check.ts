/**
 * The admin port's answer to DNS rebinding (docs/specification.md section 5): `/admin/*` and `/status` answer only a Host
 * (port ignored) that is a loopback name, the listen address, or in `[admin] allowed_hosts`. A web page an
 * operator visits cannot then drive the admin API or read the status page through a name it controls that
 * resolves to 127.0.0.1. `/healthz`, `/readyz` and `/metrics` stay open to any Host (kubelets and Prometheus
 * send the pod's address).
 */
import { HostNotAllowedError } from './errors.js'

export { HostNotAllowedError }

/** The host part of a Host header, lower case, without port or IPv6 brackets; null when there is none. */
export function hostName (header: string | undefined): string | null {
  if (header === undefined || header.trim() === '') return null
  const h = header.trim().toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end === -1 ? null : h.slice(1, end)
  }
  // One colon: name:port. More: a bare IPv6 address (not valid in Host, but unambiguous).
  return h.split(':').length === 2 ? (h.split(':')[0] as string) : h
}

function isLoopback (name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) || name === '::1'
}

export function hostAllowed (header: string | undefined, listenHost: string, allowed: readonly string[]): boolean {
  const name = hostName(header)
  if (name === null) return false
  if (isLoopback(name)) return true
  if (name === listenHost.toLowerCase()) return true
  return allowed.some((a) => a.toLowerCase() === name)
}
