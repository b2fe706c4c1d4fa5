/**
 * Starts the bench's own servers (bench/servers/*) as child processes, each in its own event loop, and returns
 * the URL each printed once it listened.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { urlLine, type Resources } from './resources.js'

const SERVERS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'servers')

/** A started bench server: where it listens, and its pid (for the CPU it costs per request). */
export interface Server { url: string, pid: number }

async function startServer (resources: Resources, name: string, script: string, args: string[]): Promise<Server> {
  const { child, ready } = await resources.start(name, process.execPath, [path.join(SERVERS_DIR, script), ...args], { ready: urlLine })
  if (ready === undefined) throw new Error(`${name} printed no URL`)
  return { url: ready, pid: child.proc.pid ?? 0 }
}

/** The bench's intent service, accepting `versions` natively (e.g. ['1.0'] or ['2.0']). */
export async function startBackend (resources: Resources, name: string, versions: string[]): Promise<Server> {
  return await startServer(resources, name, 'backend.js', ['--versions', versions.join(',')])
}

export async function startHttpProxy (resources: Resources, target: string, connections: number): Promise<Server> {
  return await startServer(resources, 'http-proxy', 'http-proxy.js', ['--target', target, '--connections', String(connections)])
}

export async function startUndiciProxy (resources: Resources, target: string, connections: number): Promise<Server> {
  return await startServer(resources, 'undici-proxy', 'undici-proxy.js', ['--target', target, '--connections', String(connections)])
}

/** How many submissions a bench backend accepted so far. */
export async function backendSubmissions (backendUrl: string): Promise<number> {
  const res = await fetch(`${backendUrl}/__bench/stats`)
  const body = await res.json() as { submissions: number }
  return body.submissions
}
