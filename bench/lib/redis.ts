/**
 * The bench's own redis-server: a free loopback port (never the machine's 6379), a temp dir, no persistence (the
 * bench measures the gateway, not the disk; see docs/benchmarks.md), stopped with everything else.
 */
import { spawnSync } from 'node:child_process'
import { freePort } from './ports.js'
import type { Resources } from './resources.js'

export interface BenchRedis { url: string, port: number, version: string }

export async function startRedis (resources: Resources): Promise<BenchRedis> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined) throw new Error('redis-server is not installed (Debian: apt-get install -y redis-server); the submission cases need it')
  const version = /v=([0-9.]+)/.exec(probe.stdout)?.[1] ?? 'unknown'
  const dir = await resources.tempDir('redis')
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    if (port === 6379) continue
    try {
      await resources.start('redis-server', 'redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', ''
      ], { ready: (line) => line.includes('Ready to accept connections') ? true : undefined })
      return { url: `redis://127.0.0.1:${port}`, port, version }
    } catch (err) {
      // Another process took the port between the probe and the bind: try another one.
      if (attempt >= 4 || !String((err as Error).message).includes('Address already in use')) throw err
    }
  }
}
