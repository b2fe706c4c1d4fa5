/**
 * Reading what Redis says about itself (`INFO <section>` text, as an operator would read it) and turning it into
 * per-intent costs. Pure functions: the bench's redis-cli calls are in redis.ts.
 *
 * Redis's commandstats count a script's inner `redis.call`s under their own command names *and* inside the
 * script's EVALSHA time (likewise for the commands of a MULTI inside EXEC). Summing every line would count the
 * inner commands twice, so the container commands are summed whole and the commands a script of the store calls
 * are left out; what remains is the top-level commands (a status read's HGETALL, a control read's GET).
 */

/** `INFO` text as key -> value (section headers and blank lines dropped). */
export function parseInfo (text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return fields
}

/** A number from `INFO` fields; NaN when the field is missing (an older Redis). */
export function infoNumber (fields: Map<string, string>, key: string): number {
  const value = fields.get(key)
  return value === undefined ? Number.NaN : Number(value)
}

export interface CommandStat { command: string, calls: number, usec: number }

/** `INFO commandstats` as one entry per command, most called first. */
export function parseCommandStats (text: string): CommandStat[] {
  const stats: CommandStat[] = []
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.push({ command: m[1] ?? '', calls: Number(m[2]), usec: Number(m[3]) })
  }
  return stats.sort((a, b) => b.calls - a.calls)
}

/** Commands whose time includes other commands' (counted on their own lines as well). */
export const CONTAINER_COMMANDS: ReadonlySet<string> = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro', 'exec'])

/** The script containers among those: a submission's atomic steps. */
const SCRIPT_COMMANDS: ReadonlySet<string> = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro'])

/** What the bench itself asks Redis between runs (redis-cli): never the gateway's cost. */
const BENCH_COMMANDS: ReadonlySet<string> = new Set(['info', 'config|resetstat', 'config|get', 'config|set', 'dbsize', 'command|docs', 'command'])

/** Lower-case names of the commands Lua source calls with a literal name: `redis.call('HSET', ...)`, `pcall("get", ...)`. */
export function scriptCommandNames (sources: Iterable<string>): Set<string> {
  const names = new Set<string>()
  for (const source of sources) {
    for (const m of source.matchAll(/redis\.p?call\(\s*['"]([A-Za-z_|]+)['"]/g)) names.add((m[1] ?? '').toLowerCase())
  }
  return names
}

export interface RedisTime {
  /** Script round trips (EVALSHA and the like) per request. */
  scriptCallsPerRequest: number
  /** Redis's time in those scripts, their inner commands included, per request. */
  scriptUsecPerRequest: number
  /** Top-level commands outside scripts (not called by any script, not the bench's own), per request. */
  otherUsecPerRequest: number
  /** The two together: Redis's command time per request, each command counted once. */
  totalUsecPerRequest: number
  /** Commands left out because a script calls them too (their time is inside the scripts' figure). */
  countedInsideScripts: string[]
}

/**
 * Redis's command time per request from commandstats taken over one measured run. `insideScripts`: the commands
 * the store's scripts call (scriptCommandNames); with none known, every non-container command counts.
 */
export function redisTimePerRequest (stats: CommandStat[], insideScripts: ReadonlySet<string>, requests: number): RedisTime {
  const n = Math.max(1, requests)
  let scriptCalls = 0
  let scriptUsec = 0
  let otherUsec = 0
  const inside: string[] = []
  for (const s of stats) {
    if (BENCH_COMMANDS.has(s.command)) continue
    if (SCRIPT_COMMANDS.has(s.command)) {
      scriptCalls += s.calls
      scriptUsec += s.usec
    } else if (CONTAINER_COMMANDS.has(s.command)) {
      // EXEC: the commands it ran are counted on their own lines, so its own line would count them twice.
    } else if (insideScripts.has(s.command)) {
      inside.push(s.command)
    } else {
      otherUsec += s.usec
    }
  }
  return {
    scriptCallsPerRequest: scriptCalls / n,
    scriptUsecPerRequest: scriptUsec / n,
    otherUsecPerRequest: otherUsec / n,
    totalUsecPerRequest: (scriptUsec + otherUsec) / n,
    countedInsideScripts: inside
  }
}

/** Intents per second one Redis core could carry at `usecPerIntent` of its time each. */
export function ceilingPerCore (usecPerIntent: number): number {
  return usecPerIntent > 0 && Number.isFinite(usecPerIntent) ? 1e6 / usecPerIntent : Number.NaN
}

/** Redis's CPU seconds (main thread when reported: the one that runs commands; else the whole process). */
export function redisCpuSeconds (fields: Map<string, string>): number {
  const main = infoNumber(fields, 'used_cpu_user_main_thread') + infoNumber(fields, 'used_cpu_sys_main_thread')
  return Number.isFinite(main) ? main : infoNumber(fields, 'used_cpu_user') + infoNumber(fields, 'used_cpu_sys')
}
