/**
 * The bench's own redis-server: a free loopback port (never the machine's 6379), a temp dir, no persistence (the
 * bench measures the gateway, not the disk; see docs/benchmarks.md), stopped with everything else.
 */
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { infoNumber, parseCommandStats, parseInfo, redisCpuSeconds, type CommandStat } from './info.js'
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

export type { CommandStat }

async function cli (redis: BenchRedis, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), ...args], { maxBuffer: 16 * 1024 * 1024 })
  return stdout
}

/** Zeroes Redis's per-command counters (INFO commandstats), so the next read covers one measured run. */
export async function resetCommandStats (redis: BenchRedis): Promise<void> {
  await cli(redis, ['CONFIG', 'RESETSTAT'])
}

/** Calls and server-side time per command since the last reset (EVALSHA: the Lua scripts' own run time). */
export async function commandStats (redis: BenchRedis): Promise<CommandStat[]> {
  return parseCommandStats(await cli(redis, ['INFO', 'commandstats']))
}

/** One `INFO` section as fields (memory, cpu, replication, ...). */
export async function info (redis: BenchRedis, section: string): Promise<Map<string, string>> {
  return parseInfo(await cli(redis, ['INFO', section]))
}

export async function dbsize (redis: BenchRedis): Promise<number> {
  return Number((await cli(redis, ['DBSIZE'])).trim())
}

/** What Redis holds and has spent so far: used_memory, keys, CPU seconds. */
export interface RedisSample { usedMemory: number, keys: number, cpuSec: number }

export async function sample (redis: BenchRedis): Promise<RedisSample> {
  const [memory, cpu, keys] = await Promise.all([info(redis, 'memory'), info(redis, 'cpu'), dbsize(redis)])
  return { usedMemory: infoNumber(memory, 'used_memory'), keys, cpuSec: redisCpuSeconds(cpu) }
}

/**
 * A replica of `primary` on a free port, once its link is up and the first sync is done (the wait_replicas row:
 * WAIT on the primary then has someone to wait for).
 */
export async function startReplica (resources: Resources, primary: BenchRedis): Promise<BenchRedis> {
  const dir = await resources.tempDir('redis-replica')
  const port = await freePort()
  await resources.start('redis-server (replica)', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', '',
    '--replicaof', '127.0.0.1', String(primary.port)
  ], { ready: (line) => line.includes('MASTER <-> REPLICA sync: Finished') ? true : undefined })
  const replica = { url: `redis://127.0.0.1:${port}`, port, version: primary.version }
  const replication = await info(replica, 'replication')
  if (replication.get('master_link_status') !== 'up') throw new Error(`the replica on ${port} is not linked to ${primary.port}: ${replication.get('master_link_status') ?? 'no status'}`)
  return replica
}

/** The store's Lua sources (src/store/**.lua under the working directory): which commands run inside scripts. */
export function storeScriptSources (root = path.resolve('src/store')): string[] {
  if (!existsSync(root)) return []
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.lua'))
    .map((f) => readFileSync(path.join(root, f), 'utf8'))
}
