/**
 * The Lua scripts (one `.lua` file each in `scripts/`), read and registered on a client with `defineCommand`
 * when a store is created, so every call is one EVALSHA (ioredis falls back to EVAL once after a Redis restart
 * flushed the script cache).
 * `tsc` does not copy `.lua` files: running from `src/` (tsx, tests) they sit beside this file; running the
 * build (`dist/src/store/redis/`) they are read from the source tree the build came from.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { RedisClient } from './connection.js'

type Arg = string | number | Buffer

/**
 * The scripts as client methods: keys first, then arguments (counts per script below). Called only through the
 * typed wrappers that name them (./submission-scripts.ts, ./intent-scripts.ts, ./lease-scripts.ts,
 * ./control-script.ts).
 */
export interface ScriptCommands {
  /** Variadic keys (a group: ./submission-scripts.ts); one reply per admission. */
  igAdmit (...args: Arg[]): Promise<Array<Array<string | null>>>
  /** Variadic keys (a group: ./submission-scripts.ts); one reply per bind. */
  igBind (...args: Arg[]): Promise<number[]>
  igRelease (...args: Arg[]): Promise<number>
  igMarkUnknown (...args: Arg[]): Promise<number>
  igReregister (...args: Arg[]): Promise<number>
  /** Variadic keys: the first argument is their number. */
  igEndedLookup (...args: Arg[]): Promise<string | null>
  igComplete (...args: Arg[]): Promise<number>
  igSetPhase (...args: Arg[]): Promise<number>
  igLookup (...args: Arg[]): Promise<string[]>
  igUpdate (...args: Arg[]): Promise<number>
  igControl (...args: Arg[]): Promise<[string | null, string | null, string | null, string | null, string | null]>
  igLeaseAcquire (...args: Arg[]): Promise<number | null>
  igLeaseRenew (...args: Arg[]): Promise<number>
  igLeaseRelease (...args: Arg[]): Promise<number>
  /** `[records dropped, shards swept, shards now]` (./replay-sweeper.ts). */
  igReplaySweep (...args: Arg[]): Promise<[number, number, number]>
}

export type ScriptedRedis = RedisClient & ScriptCommands

/** Command, file, number of keys (null: variadic), and the shared functions (`<name>.lua`) put before its text. */
const SCRIPTS: ReadonlyArray<[keyof ScriptCommands, string, number | null, string[]?]> = [
  ['igAdmit', 'admit', null, ['record_header', 'linear_shards', 'replay_shards']],
  ['igBind', 'bind', null, ['record_header', 'linear_shards', 'replay_shards']],
  ['igRelease', 'release', 9, ['record_header', 'linear_shards', 'replay_shards']],
  ['igMarkUnknown', 'mark_unknown', 4, ['record_header']],
  ['igReregister', 'reregister', 8],
  ['igEndedLookup', 'ended_lookup', null, ['linear_shards', 'route_shards']],
  ['igComplete', 'complete', 9, ['record_header', 'linear_shards', 'route_shards']],
  ['igSetPhase', 'set_phase', 3],
  ['igLookup', 'lookup', 3],
  ['igUpdate', 'update', 6, ['record_header']],
  ['igControl', 'control', 5],
  ['igLeaseAcquire', 'lease_acquire', 2],
  ['igLeaseRenew', 'lease_renew', 1],
  ['igLeaseRelease', 'lease_release', 1],
  ['igReplaySweep', 'replay_sweep', 1, ['linear_shards', 'replay_shards']]
]

// Beside this module in both layouts: the sources, and dist/ (where `npm run build` copies them).
const CANDIDATE_DIRS = [new URL('./scripts/', import.meta.url)]

function scriptsDir (): URL {
  const found = CANDIDATE_DIRS.find((dir) => existsSync(fileURLToPath(new URL('admit.lua', dir))))
  if (found === undefined) {
    throw new Error(`store: Lua scripts not found (looked in ${CANDIDATE_DIRS.map((d) => fileURLToPath(d)).join(', ')})`)
  }
  return found
}

/** The scripts' source text, each with the shared functions it uses first (read when a store is created, once). */
export function scriptSources (): Map<string, string> {
  const dir = scriptsDir()
  const read = (file: string): string => readFileSync(new URL(`${file}.lua`, dir), 'utf8')
  return new Map(SCRIPTS.map(([, file, , shared = []]) => [file, [...shared.map(read), read(file)].join('\n')]))
}

export function defineScripts (client: RedisClient): ScriptedRedis {
  const sources = scriptSources()
  for (const [command, file, numberOfKeys] of SCRIPTS) {
    // null: the caller passes the number of keys first (ioredis' variadic form).
    const lua = sources.get(file) as string
    client.defineCommand(command, numberOfKeys === null ? { lua } : { numberOfKeys, lua })
  }
  return client as ScriptedRedis
}
