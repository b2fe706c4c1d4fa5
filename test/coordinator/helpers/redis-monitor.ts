/**
 * Times of commands as Redis itself ran them (MONITOR): each line carries the server's own clock, taken when the
 * command ran, so how late the test process reads the stream (a loaded machine schedules it late) changes nothing.
 * For the hold's release: when the `upgrade` key was deleted, and when each held submission's admission ran.
 */
import { Redis } from 'ioredis'
import type { Teardown } from '../../helpers/redis.js'

export interface MonitoredCommand {
  /** Server time of the command, in ms (microsecond precision). */
  atMs: number
  /** The command and its arguments, as sent. */
  args: string[]
  /** `ip:port` of the client that sent it, or `lua` for a command run by a script. */
  source: string
}

export interface RedisMonitor {
  readonly commands: MonitoredCommand[]
  close (): void
}

export async function monitorRedis (t: Teardown, url: string): Promise<RedisMonitor> {
  const client = new Redis(url, { lazyConnect: true })
  await client.connect()
  const monitor = await client.monitor()
  const commands: MonitoredCommand[] = []
  monitor.on('monitor', (time: string, args: string[], source: string) => {
    commands.push({ atMs: Number(time) * 1000, args, source })
  })
  const close = (): void => { monitor.disconnect(); client.disconnect() }
  t.teardown(close)
  return { commands, close }
}

/** The last time the command `name` (any case) ran on `key`; NaN when it never did. */
export function lastRun (commands: MonitoredCommand[], name: string, key: string): number {
  const hit = commands.filter((c) => c.args[0]?.toLowerCase() === name && c.args[1] === key).at(-1)
  return hit?.atMs ?? NaN
}

/**
 * When the admission script (EVALSHA/EVAL with the submission's scope key `o:<owner>:n:<nonce>`) first ran for
 * `nonce` after `afterMs`; NaN when it did not.
 */
export function admissionAfter (commands: MonitoredCommand[], nonce: number, afterMs: number): number {
  const scope = new RegExp(`^o:.+:n:${nonce}$`)
  const hit = commands.find((c) => c.atMs > afterMs && /^eval(sha)?$/i.test(c.args[0] ?? '') && c.args.some((a) => scope.test(a)))
  return hit?.atMs ?? NaN
}
