/**
 * What the attack measurements share: a real gateway (`serve`) with a config of the case's, on loopback ports,
 * and readings of its memory and metrics.
 */
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { freePort } from '../lib/ports.js'
import type { Child, Resources } from '../lib/resources.js'

const GATEWAY_MAIN = path.resolve('dist/src/cli/main.js')
export const SANDBOX_MAIN = path.resolve('dist/sandbox/cli.js')

export interface Gateway { url: string, adminUrl: string, token: string, child: Child }

export async function startGateway (resources: Resources, opts: { redisUrl?: string, service: string, extra: string, admin?: string }): Promise<Gateway> {
  const dir = await resources.tempDir('attack-gateway')
  const [proxyPort, adminPort] = [await freePort(), await freePort()]
  const config = path.join(dir, 'intent-gate.toml')
  await writeFile(config, `[proxy]
listen = "127.0.0.1:${proxyPort}"
reconcile_interval_ms = 600000
shutdown_grace_secs = 2
${opts.extra}
[admin]
listen = "127.0.0.1:${adminPort}"
${opts.admin ?? ''}
${opts.redisUrl === undefined ? '' : `[redis]\nurl = "${opts.redisUrl}"\nnamespace = "attack"\n`}
[upstreams.blue]
url = "${opts.service}"
versions = ["1.0"]
health_path = "/healthz"

[versions]
accepted = ["1.0", "2.0"]
default = "1.0"

[chain]
enabled = false

[coordinator]
database = "${path.join(dir, 'intent-gate.sqlite')}"

[checkpoint]
checkpoint_dir = "${path.join(dir, 'checkpoints')}"

[log]
level = "error"
`)
  const token = `attack-${process.pid}`
  const { child } = await resources.start('intent-gate', process.execPath, [GATEWAY_MAIN, 'serve', '--config', config], {
    env: { ...process.env, INTENT_GATE_ADMIN_TOKEN: token }, cwd: dir
  })
  const adminUrl = `http://127.0.0.1:${adminPort}`
  for (let i = 0; ; i++) {
    if (!child.running()) throw new Error(`the gateway exited: ${child.output()}`)
    const ready = await fetch(`${adminUrl}/readyz`).then((r) => r.ok, () => false)
    if (ready) break
    if (i > 1200) throw new Error('the gateway was not ready within 60 s')
    // Polling /readyz is the only readiness signal a config-file-driven process offers.
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { url: `http://127.0.0.1:${proxyPort}`, adminUrl, token, child }
}

export async function rssMb (child: Child): Promise<number> {
  const status = await readFile(`/proc/${child.proc.pid ?? 0}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024
}

export async function metric (gw: Gateway, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${gw.adminUrl}/metrics`, { headers: { authorization: `Bearer ${gw.token}` } })).text()
  const line = text.split('\n').find((l) => l.startsWith(labels === '' ? `${name} ` : `${name}{`) && l.includes(labels))
  return Number(line?.split(' ').at(-1) ?? NaN)
}
