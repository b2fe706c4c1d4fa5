/**
 * wrk as the load generator: a C program, so the load costs the 2-core machine far less than a Node one. One
 * wrk thread (one core at most), a generated Lua script that gives every POST a fresh nonce and prints the
 * summary as one JSON line, and a generous timeout so slow answers count as latency, not as errors.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Resources } from '../lib/resources.js'
import type { LoadGenerator, LoadResult, LoadSpec } from './types.js'

const RESULT_MARK = 'BENCH-RESULT '

/** A Lua string literal for any text (long brackets would break on "]]" in a body). */
function luaString (text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
}

export function wrkScript (spec: LoadSpec): string {
  const done = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${RESULT_MARK}{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`
  if (spec.bodies !== undefined) {
    // Read once per wrk thread (the bench runs one); past the last body it starts over, which the caller detects
    // from the request count (a replayed body is answered from the idempotency record: not a fair request).
    return `
local bodies = {}
for line in io.lines(${luaString(spec.bodies.file)}) do bodies[#bodies + 1] = line end
local headers = { ["Content-Type"] = "application/json" }
local i = 0
function request()
  i = i + 1
  if i > #bodies then i = 1 end
  return wrk.format(${luaString(spec.method)}, ${luaString(spec.path)}, headers, bodies[i])
end
${done}`
  }
  if (spec.body === undefined) {
    return `wrk.method = ${luaString(spec.method)}\nwrk.path = ${luaString(spec.path)}\n${done}`
  }
  // Each wrk thread numbers its requests from its own offset: nonces are unique across threads and runs.
  return `
local prefix = ${luaString(spec.body.template.prefix)}
local suffix = ${luaString(spec.body.template.suffix)}
local base = ${spec.body.nonceBase}
local headers = { ["Content-Type"] = "application/json" }
local counter = 0
local nthreads = 0
function setup(thread)
  thread:set("thread_offset", nthreads * 10000000000)
  nthreads = nthreads + 1
end
function request()
  counter = counter + 1
  local nonce = base + (thread_offset or 0) + counter
  return wrk.format(${luaString(spec.method)}, ${luaString(spec.path)}, headers, prefix .. string.format("%d", nonce) .. suffix)
end
${done}`
}

interface WrkSummary {
  requests: number
  duration_us: number
  connect: number
  read: number
  write: number
  status: number
  timeout: number
  p50: number
  p90: number
  p99: number
  max: number
}

export function parseWrkOutput (output: string): LoadResult {
  const line = output.split('\n').find((l) => l.startsWith(RESULT_MARK))
  if (line === undefined) throw new Error(`wrk printed no result line:\n${output}`)
  const s = JSON.parse(line.slice(RESULT_MARK.length)) as WrkSummary
  const durationSec = s.duration_us / 1e6
  return {
    generator: 'wrk',
    requests: s.requests,
    durationSec,
    rps: s.requests / durationSec,
    p50Ms: s.p50 / 1000,
    p90Ms: s.p90 / 1000,
    p99Ms: s.p99 / 1000,
    maxMs: s.max / 1000,
    badStatus: s.status,
    errors: s.connect + s.read + s.write + s.timeout
  }
}

export class Wrk implements LoadGenerator {
  readonly name = 'wrk'
  private runs = 0

  constructor (private readonly resources: Resources, private readonly scratchDir: string) {}

  async run (spec: LoadSpec): Promise<LoadResult> {
    const script = path.join(this.scratchDir, `wrk-${++this.runs}.lua`)
    await writeFile(script, wrkScript(spec))
    const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationSec}s`, '--timeout', '10s', '-s', script, spec.url + spec.path]
    const { child } = await this.resources.start('wrk', 'wrk', args)
    await child.exited()
    if (child.proc.exitCode !== 0) throw new Error(`wrk exited with ${String(child.proc.exitCode ?? child.proc.signalCode)}:\n${child.output()}`)
    return parseWrkOutput(child.output())
  }
}
