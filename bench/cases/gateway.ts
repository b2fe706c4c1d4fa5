/**
 * The intent-gate rows: pass-through (the same GET as the reference rows), submissions through Redis (a 1.0
 * intent to a 1.0 upstream: no translation), and translated submissions (the same 1.0 intent to a 2.0-only
 * upstream: the gateway translates the body and the answer). Each row gets a fresh gateway process and its own
 * Redis namespace, so no row inherits another's inflight records.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { startGateway, type UpstreamSpec } from '../lib/gateway.js'
import { summariseDir, type ProfileSummary } from '../lib/profile.js'
import { commandStats, resetCommandStats, type BenchRedis, type CommandStat } from '../lib/redis.js'
import { startBackend } from '../lib/servers.js'
import { SyscallCounter, type SyscallCount } from '../lib/syscalls.js'
import { PerfRecorder, type PerfSummary } from '../lib/perf.js'
import type { CaseId } from '../options.js'
import { INTENT_PATH, PASS_THROUGH_PATH, measure, type BenchContext, type CaseResult, type Request } from './context.js'

export interface GatewayCaseResult extends CaseResult {
  profile?: ProfileSummary | null
  /** With --syscalls: the gateway's syscalls per request during the measured run. */
  /** With --perf: where the gateway's CPU went during the measured run (Linux perf). */
  perf?: PerfSummary
  syscalls?: SyscallCount[]
  /** Redis commands during the measured run: how many per request, and Redis's own time for them. */
  redis?: {
    /** Round trips that ran a Lua script (EVALSHA/EVAL): the store's atomic steps. */
    scriptCallsPerRequest: number
    /** Redis's time running those scripts (their inner commands included), per request. */
    scriptUsecPerRequest: number
    /** Every command Redis counted, inner commands of scripts included (INFO commandstats). */
    commands: CommandStat[]
  }
}

export interface GatewayEnv {
  redis: BenchRedis
  /** The shared 1.0 backend. */
  backendUrl: string
  /** Where profiles go with --profile. */
  profileRoot: string
}

async function gatewayCase (ctx: BenchContext, env: GatewayEnv, id: CaseId, blue: (scope: BenchContext['resources']) => Promise<UpstreamSpec>, request: Request): Promise<Pick<GatewayCaseResult, 'result' | 'cpu' | 'warmup' | 'profile' | 'redis' | 'syscalls' | 'perf'>> {
  const scope = ctx.resources.scope()
  const profileDir = ctx.options.profile ? path.join(env.profileRoot, id) : undefined
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true })
  let measured
  let commands: CommandStat[] = []
  let syscalls: SyscallCount[] | undefined
  let perf: PerfSummary | undefined
  let recorder: PerfRecorder | undefined
  try {
    const gateway = await startGateway(scope, {
      name: `intent-gate (${id})`,
      redisUrl: env.redis.url,
      namespace: `bench-${id}`,
      blue: await blue(scope),
      connections: ctx.options.connections,
      profileDir,
      perfMap: ctx.options.perf
    })
    const pid = gateway.child.proc.pid ?? 0
    let counter: SyscallCounter | undefined
    measured = await measure(ctx, gateway.url, pid, request, async () => {
      await resetCommandStats(env.redis)
      if (ctx.options.syscalls) counter = await SyscallCounter.attach(pid)
      if (ctx.options.perf) recorder = PerfRecorder.start(pid, path.join(await scope.tempDir('perf'), 'perf.data'))
    })
    perf = await recorder?.finish()
    commands = await commandStats(env.redis)
    syscalls = await counter?.finish(measured.result.requests)
  } finally {
    // Closing stops the gateway with SIGTERM: a profiled one writes its profile on the way out.
    await scope.close()
  }
  const profile = profileDir === undefined ? undefined : await summariseDir(profileDir)
  const requests = Math.max(1, measured.result.requests)
  const scripts = commands.filter((c) => c.command === 'evalsha' || c.command === 'eval')
  const redis = {
    scriptCallsPerRequest: scripts.reduce((n, c) => n + c.calls, 0) / requests,
    scriptUsecPerRequest: scripts.reduce((n, c) => n + c.usec, 0) / requests,
    commands
  }
  return { ...measured, profile, redis, syscalls, perf }
}

export async function passThrough (ctx: BenchContext, env: GatewayEnv): Promise<GatewayCaseResult> {
  return {
    id: 'pass-through',
    title: 'intent-gate pass-through',
    what: `GET ${PASS_THROUGH_PATH} through the gateway's pass-through route to the active (blue) upstream`,
    ...await gatewayCase(ctx, env, 'pass-through', async () => ({ url: env.backendUrl, versions: ['1.0'] }), { method: 'GET', path: PASS_THROUGH_PATH })
  }
}

export async function submit (ctx: BenchContext, env: GatewayEnv): Promise<GatewayCaseResult> {
  return {
    id: 'submit',
    title: 'intent-gate submit (Redis)',
    what: 'POST /intents, a 1.0 intent with a fresh nonce, to a 1.0 upstream: validation, idempotency, admission, forward and bind in Redis; no translation',
    ...await gatewayCase(ctx, env, 'submit', async () => ({ url: env.backendUrl, versions: ['1.0'] }), { method: 'POST', path: INTENT_PATH, intent: ctx.intentV1 })
  }
}

export async function submitTranslated (ctx: BenchContext, env: GatewayEnv): Promise<GatewayCaseResult> {
  const blue = async (scope: BenchContext['resources']): Promise<UpstreamSpec> => ({ url: (await startBackend(scope, 'backend 2.0', ['2.0'])).url, versions: ['2.0'] })
  return {
    id: 'submit-translated',
    title: 'intent-gate submit, translated',
    what: 'the same 1.0 intents to a 2.0-only upstream: the gateway translates 1.0 -> 2.0 and the answer back (the backend refuses 1.0, so an untranslated request shows as an error)',
    ...await gatewayCase(ctx, env, 'submit-translated', blue, { method: 'POST', path: INTENT_PATH, intent: ctx.intentV1 })
  }
}
