/**
 * The reference rows, before any intent-gate code: the backend called directly (is it fast enough not to be the
 * bottleneck?), a bare http-proxy (what the gateway's pass-through aims to beat by 1.3x), and a bare undici pool
 * proxy (the least any Node proxy can cost per request on this machine).
 */
import { startHttpProxy, startUndiciProxy, type Server } from '../lib/servers.js'
import { INTENT_PATH, PASS_THROUGH_PATH, measure, type BenchContext, type CaseResult } from './context.js'

export async function backendDirect (ctx: BenchContext, backend: Server): Promise<CaseResult> {
  return {
    id: 'backend',
    title: 'backend, direct',
    what: `GET ${PASS_THROUGH_PATH} straight to the bench backend: the ceiling every proxied row is measured against`,
    ...await measure(ctx, backend.url, backend.pid, { method: 'GET', path: PASS_THROUGH_PATH })
  }
}

export async function backendSubmitDirect (ctx: BenchContext, backend: Server): Promise<CaseResult> {
  return {
    id: 'backend-submit',
    title: 'backend, direct POST /intents',
    what: 'POST of a 1.0 intent (fresh nonce each) straight to the bench backend: the submission rows\' ceiling',
    ...await measure(ctx, backend.url, backend.pid, { method: 'POST', path: INTENT_PATH, intent: ctx.intentV1 })
  }
}

export async function bareHttpProxy (ctx: BenchContext, backend: Server): Promise<CaseResult> {
  const scope = ctx.resources.scope()
  try {
    const proxy = await startHttpProxy(scope, backend.url, ctx.options.connections)
    return {
      id: 'http-proxy',
      title: 'bare http-proxy',
      what: `GET ${PASS_THROUGH_PATH} through http-proxy 1.18 with a keep-alive agent (${ctx.options.connections} sockets), nothing else`,
      ...await measure(ctx, proxy.url, proxy.pid, { method: 'GET', path: PASS_THROUGH_PATH })
    }
  } finally {
    await scope.close()
  }
}

export async function bareUndiciProxy (ctx: BenchContext, backend: Server): Promise<CaseResult> {
  const scope = ctx.resources.scope()
  try {
    const proxy = await startUndiciProxy(scope, backend.url, ctx.options.connections)
    return {
      id: 'undici-proxy',
      title: 'bare undici pool',
      what: `GET ${PASS_THROUGH_PATH} through node:http + an undici Pool (${ctx.options.connections} connections): Node's ceiling for a proxy here`,
      ...await measure(ctx, proxy.url, proxy.pid, { method: 'GET', path: PASS_THROUGH_PATH })
    }
  } finally {
    await scope.close()
  }
}
