/**
 * The intent-gate rows: pass-through (the same GET as the reference rows), submissions through Redis (a 1.0
 * intent to a 1.0 upstream: no translation), and translated submissions (the same 1.0 intent to a 2.0-only
 * upstream: the gateway translates the body and the answer), submissions with signature verification on (really
 * signed bodies), and submissions with `wait_replicas = 1` (a primary with one replica of its own). Each row gets
 * a fresh gateway process and its own Redis namespace, so no row inherits another's inflight records. Every row
 * also reports Redis's command time and main-thread CPU per request over its measured run.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { startGateway, type UpstreamSpec } from '../lib/gateway.js'
import type { Runtime } from '../lib/runtimes.js'
import { summariseDir, type ProfileSummary } from '../lib/profile.js'
import { redisTimePerRequest, scriptCommandNames, type RedisTime } from '../lib/info.js'
import { commandStats, resetCommandStats, sample, startRedis, startReplica, storeScriptSources, type BenchRedis, type CommandStat, type RedisSample } from '../lib/redis.js'
import { startBackend } from '../lib/servers.js'
import { makeBenchSigner, SignedBodies } from '../lib/signed.js'
import { configHasKey } from '../lib/config-keys.js'
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
  redis?: RedisTime & {
    /** Every command Redis counted, inner commands of scripts included (INFO commandstats). */
    commands: CommandStat[]
    /** Redis's CPU (main thread: commands and their network I/O) per request, from INFO cpu. */
    cpuUsPerRequest: number
  }
}

/** What a gateway row changes from the plain submission row's gateway. */
export interface GatewayVariant {
  verifySignatures?: boolean
  waitReplicas?: number
  /** Another Redis than the shared one (the wait_replicas row's primary). */
  redis?: BenchRedis
}

export interface GatewayEnv {
  redis: BenchRedis
  /** The shared 1.0 backend. */
  backendUrl: string
  /** Where profiles go with --profile. */
  profileRoot: string
  /** The Node the gateway runs under (--runtimes); the bench's own when absent. */
  runtime?: Runtime
}

type Measured = Pick<GatewayCaseResult, 'result' | 'cpu' | 'warmup' | 'profile' | 'redis' | 'syscalls' | 'perf'>

async function gatewayCase (ctx: BenchContext, env: GatewayEnv, id: CaseId, blue: (scope: BenchContext['resources']) => Promise<UpstreamSpec>, request: Request | ((scope: BenchContext['resources']) => Promise<Request>), variant: GatewayVariant = {}): Promise<Measured> {
  const scope = ctx.resources.scope()
  const redisServer = variant.redis ?? env.redis
  const profileDir = ctx.options.profile ? path.join(env.profileRoot, id) : undefined
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true })
  let measured
  let commands: CommandStat[] = []
  let redisBefore: RedisSample | undefined
  let redisAfter: RedisSample | undefined
  let syscalls: SyscallCount[] | undefined
  let perf: PerfSummary | undefined
  let recorder: PerfRecorder | undefined
  try {
    const gateway = await startGateway(scope, {
      name: `intent-gate (${id})`,
      redisUrl: redisServer.url,
      namespace: `bench-${id}`,
      verifySignatures: variant.verifySignatures,
      waitReplicas: variant.waitReplicas,
      blue: await blue(scope),
      connections: ctx.options.connections,
      profileDir,
      perfMap: ctx.options.perf,
      runtime: env.runtime
    })
    const pid = gateway.child.proc.pid ?? 0
    let counter: SyscallCounter | undefined
    const req = typeof request === 'function' ? await request(scope) : request
    measured = await measure(ctx, gateway.url, pid, req, async () => {
      await resetCommandStats(redisServer)
      redisBefore = await sample(redisServer)
      if (ctx.options.syscalls) counter = await SyscallCounter.attach(pid)
      if (ctx.options.perf) recorder = PerfRecorder.start(pid, path.join(await scope.tempDir('perf'), 'perf.data'))
    })
    perf = await recorder?.finish()
    commands = await commandStats(redisServer)
    redisAfter = await sample(redisServer)
    syscalls = await counter?.finish(measured.result.requests)
  } finally {
    // Closing stops the gateway with SIGTERM: a profiled one writes its profile on the way out.
    await scope.close()
  }
  const profile = profileDir === undefined ? undefined : await summariseDir(profileDir)
  const requests = Math.max(1, measured.result.requests)
  const cpuSec = redisBefore === undefined || redisAfter === undefined ? Number.NaN : redisAfter.cpuSec - redisBefore.cpuSec
  const redis = {
    ...redisTimePerRequest(commands, scriptCommandNames(storeScriptSources()), requests),
    cpuUsPerRequest: cpuSec * 1e6 / requests,
    commands
  }
  return { ...measured, profile, redis, syscalls, perf }
}

/** ` on Node 24.22.3` for a --runtimes row. */
function onRuntime (env: GatewayEnv): string {
  return env.runtime === undefined ? '' : ` on Node ${env.runtime.version}`
}

export async function passThrough (ctx: BenchContext, env: GatewayEnv): Promise<GatewayCaseResult> {
  return {
    id: 'pass-through',
    title: `intent-gate pass-through${onRuntime(env)}`,
    what: `GET ${PASS_THROUGH_PATH} through the gateway's pass-through route to the active (blue) upstream`,
    ...await gatewayCase(ctx, env, 'pass-through', async () => ({ url: env.backendUrl, versions: ['1.0'] }), { method: 'GET', path: PASS_THROUGH_PATH })
  }
}

/**
 * The fair baseline for the submission rows: the same POST, the same 1.0 body with a fresh nonce, through the
 * gateway's pass-through route (a path that is not the intent path), so the bytes moved are a submission's and
 * nothing else is. What a submission costs beyond this row is the submission itself.
 */
export async function passThroughPost (ctx: BenchContext, env: GatewayEnv): Promise<GatewayCaseResult> {
  return {
    id: 'pass-through-post',
    title: 'intent-gate pass-through, POST',
    what: `POST ${PASS_THROUGH_PATH} with a submission's body (a 1.0 intent, fresh nonce each) through the gateway's pass-through route`,
    ...await gatewayCase(ctx, env, 'pass-through-post', async () => ({ url: env.backendUrl, versions: ['1.0'] }), { method: 'POST', path: PASS_THROUGH_PATH, intent: ctx.intentV1 })
  }
}

export async function submit (ctx: BenchContext, env: GatewayEnv): Promise<GatewayCaseResult> {
  return {
    id: 'submit',
    title: `intent-gate submit (Redis)${onRuntime(env)}`,
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

/** Why a row needs a config key the gateway does not know yet: the row prints n/a instead of running. */
export class NotYetError extends Error {}

export async function submitVerified (ctx: BenchContext, env: GatewayEnv): Promise<GatewayCaseResult> {
  if (!configHasKey('proxy', 'verify_signatures')) throw new NotYetError('n/a: the gateway has no [proxy] verify_signatures yet')
  const request = async (scope: BenchContext['resources']): Promise<Request> => {
    const signed = new SignedBodies(await makeBenchSigner(), await scope.tempDir('signed'), ctx.nonces, ctx.options.connections)
    return { method: 'POST', path: INTENT_PATH, signed }
  }
  return {
    id: 'submit-verified',
    title: 'intent-gate submit, signatures verified',
    what: 'the submit row with [proxy] verify_signatures = true and really signed 1.0 intents (signed beforehand by the bench, one per request)',
    ...await gatewayCase(ctx, env, 'submit-verified', async () => ({ url: env.backendUrl, versions: ['1.0'] }), request, { verifySignatures: true })
  }
}

export async function submitWaitReplicas (ctx: BenchContext, env: GatewayEnv): Promise<GatewayCaseResult> {
  if (!configHasKey('redis', 'wait_replicas')) throw new NotYetError('n/a: the gateway has no [redis] wait_replicas yet')
  // A primary of its own: a replica on the shared Redis would add the replication stream to every later row.
  const scope = ctx.resources.scope()
  try {
    const primary = await startRedis(scope)
    await startReplica(scope, primary)
    return {
      id: 'submit-wait-replicas',
      title: 'intent-gate submit, wait_replicas = 1',
      what: 'the submit row on a primary with one replica and [redis] wait_replicas = 1: each admission WAITs for the replica before the intent is forwarded',
      ...await gatewayCase(ctx, env, 'submit-wait-replicas', async () => ({ url: env.backendUrl, versions: ['1.0'] }), { method: 'POST', path: INTENT_PATH, intent: ctx.intentV1 }, { waitReplicas: 1, redis: primary })
    }
  } finally {
    await scope.close()
  }
}
