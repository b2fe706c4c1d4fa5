/**
 * The bench's own redis-server: a free loopback port (never the machine's 6379), a temp dir, no persistence (the
 * bench measures the gateway, not the disk; see docs/benchmarks.md), stopped with everything else.
 */
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { freePort } from './ports.js'
import type { Resources } from './resources.js'

const execFileAsync = promisify(execFile)

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

export interface CommandStat { command: string, calls: number, usec: number }

async function cli (redis: BenchRedis, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), ...args])
  return stdout
}

/** Zeroes Redis's per-command counters (INFO commandstats), so the next read covers one measured run. */
export async function resetCommandStats (redis: BenchRedis): Promise<void> {
  await cli(redis, ['CONFIG', 'RESETSTAT'])
}

/** Calls and server-side time per command since the last reset (EVALSHA: the Lua scripts' own run time). */
export async function commandStats (redis: BenchRedis): Promise<CommandStat[]> {
  const text = await cli(redis, ['INFO', 'commandstats'])
  const stats: CommandStat[] = []
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.push({ command: m[1] ?? '', calls: Number(m[2]), usec: Number(m[3]) })
  }
  return stats.sort((a, b) => b.calls - a.calls)
}
