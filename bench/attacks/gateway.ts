/**
 * What the attack measurements share: a real gateway (`serve`) with a config of the case's, on loopback ports,
 * and readings of its memory and metrics.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { startGateway as startBenchGateway, type Gateway } from '../lib/gateway.js'
import type { Child, Resources } from '../lib/resources.js'

export const SANDBOX_MAIN = path.resolve('dist/sandbox/cli.js')

export type { Gateway }

/** A gateway for an attack measurement: the bench's own start, namespace `attack`, the sample service as blue. */
export async function startGateway (
  resources: Resources,
  opts: { redisUrl?: string, service: string, verifySignatures: boolean, maxKeysPerOwner?: number, proxy?: string, admin?: string }
): Promise<Gateway> {
  return await startBenchGateway(resources, {
    name: 'intent-gate (attack)',
    redisUrl: opts.redisUrl,
    namespace: 'attack',
    blue: { url: opts.service, versions: ['1.0'] },
    connections: 32,
    verifySignatures: opts.verifySignatures,
    maxKeysPerOwner: opts.maxKeysPerOwner,
    proxyExtra: opts.proxy,
    adminExtra: opts.admin
  })
}

export async function rssMb (child: Child): Promise<number> {
  const status = await readFile(`/proc/${child.proc.pid ?? 0}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024
}

export async function metric (gw: Gateway, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${gw.adminUrl}/metrics`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).text()
  const line = text.split('\n').find((l) => l.startsWith(labels === '' ? `${name} ` : `${name}{`) && l.includes(labels))
  return Number(line?.split(' ').at(-1) ?? NaN)
}
