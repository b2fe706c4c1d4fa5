/**
 * How a command is sent on a Redis Cluster: never into a node connection that is still being made.
 *
 * With the offline queue off (a command while Redis is unreachable must fail at once, so the gateway answers
 * 503), ioredis's Cluster refuses a command whose slot's node connection is not ready yet: "Cluster isn't ready"
 * before the slot map is known, "Connection is closed." while the node connects. A node connects at first use,
 * after a failover (the promoted replica is a new connection) and after a reshard, so an operator's `drain start`
 * right after a gateway started, or the first admission after a failover, was answered 503 by a Redis that was
 * fine. The answer reads like a lost connection, so nothing above the client can tell it from a real one.
 *
 * Every command the store sends on a Cluster passes through `Cluster#sendCommand`: single commands, scripts,
 * MULTI transactions and pipelines (auto-pipelined or not, one call per queued command). This module wraps that
 * method, and so is the one place that says when a Cluster command goes out:
 * - the cluster or the slot's node is connecting: the command waits for it to be ready;
 * - the slot's node is down (a failed master): the slot map is refreshed and the command waits for the master it
 *   names, which is the promoted replica after a failover;
 * - either way at most `waitMs`; then ioredis sends it as it would have, and a Redis that is really gone fails it.
 * Commands that waited go out in the order they were sent (one shared wait per node, resumed in order), so a
 * pipeline's commands stay together and a transaction's MULTI ... EXEC stays whole.
 */
import type { Cluster, Redis } from 'ioredis'

/** ioredis's own states of a connection attempt in progress (or not yet started: `wait`, lazyConnect). */
const CONNECTING = new Set(['wait', 'connecting', 'connect'])

/** What ioredis passes to `sendCommand`: the command (its slot), and for a pipeline the node it goes to. */
interface SentCommand { name: string, getSlot: () => number | null, promise: Promise<unknown> }
interface PipelineNode { slot?: number, redis?: Redis }
type SendCommand = (command: SentCommand, stream?: unknown, node?: PipelineNode) => unknown

/**
 * Makes `cluster` hold each command until the node it goes to can take it (see the module's header).
 * @param waitMs the longest a command waits before it is sent anyway (and refused if nothing changed)
 */
export function sendWhenNodeReady (cluster: Cluster, waitMs: number): void {
  const send = (cluster.sendCommand as SendCommand).bind(cluster)
  const waits = new Map<object, Promise<void>>()

  /** One wait per thing awaited (the cluster or a node), shared by every command that needs it. */
  const shared = (subject: object, start: () => Promise<void>): Promise<void> => {
    let wait = waits.get(subject)
    if (wait === undefined) {
      wait = start().finally(() => { waits.delete(subject) })
      waits.set(subject, wait)
    }
    return wait
  }

  const clusterReady = (): Promise<void> | null => {
    if (cluster.status === 'ready' || !CONNECTING.has(cluster.status)) return null
    if (cluster.status === 'wait') cluster.connect().catch(() => {})
    return shared(cluster, async () => { await readyOrTimeout(cluster, waitMs) })
  }

  const nodeReady = (command: SentCommand, node: PipelineNode | undefined): Promise<void> | null => {
    const target = targetOf(cluster, command, node)
    if (target === null || target.status === 'ready') return null
    if (CONNECTING.has(target.status)) {
      if (target.status === 'wait') target.connect().catch(() => {})
      return shared(target, async () => { await readyOrTimeout(target, waitMs) })
    }
    // The node is down: after a failover the slot map still names the dead master until it is read again.
    return shared(target, async () => {
      const deadline = Date.now() + waitMs
      await refreshedOrTimeout(cluster, waitMs)
      const next = targetOf(cluster, command, node)
      if (next === null || next === target || next.status === 'ready') return
      if (next.status === 'wait') next.connect().catch(() => {})
      await readyOrTimeout(next, Math.max(0, deadline - Date.now()))
    })
  }

  const toNode: SendCommand = (command, stream, node) => {
    const waitForNode = nodeReady(command, node)
    if (waitForNode === null) return send(command, stream, node)
    // The callbacks return nothing: the command's promise, rejected, would be adopted by an unhandled one here.
    const go = (): void => { send(command, stream, node) }
    waitForNode.then(go, go)
    return command.promise
  }

  const gated: SendCommand = (command, stream, node) => {
    // ioredis's own CLUSTER commands (slot map, ready check) are what makes the cluster ready: never held.
    if (command.name === 'cluster') return send(command, stream, node)
    const waitForCluster = clusterReady()
    if (waitForCluster === null) return toNode(command, stream, node)
    waitForCluster.then(() => { toNode(command, stream, node) }, () => { send(command, stream, node) })
    return command.promise
  }
  cluster.sendCommand = gated as Cluster['sendCommand']
}

/** The node connection a command goes to (its slot's master), or null where ioredis picks any node. */
function targetOf (cluster: Cluster, command: SentCommand, node: PipelineNode | undefined): Redis | null {
  if (node?.redis !== undefined) return node.redis
  const slot = node?.slot ?? command.getSlot()
  if (slot === null || slot === undefined) return null
  const key = cluster.slots[slot]?.[0]
  if (key === undefined) return null
  return cluster.nodes('all').find((n) => `${n.options.host ?? ''}:${n.options.port ?? ''}` === key) ?? null
}

/** Resolves once the slot map was read again (or could not be), or `ms` passed. */
async function refreshedOrTimeout (cluster: Cluster, ms: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    cluster.refreshSlotsCache(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Resolves once `emitter` is ready, or ended, or `ms` passed: the caller then sends, and ioredis decides. */
async function readyOrTimeout (emitter: Redis | Cluster, ms: number): Promise<void> {
  if (emitter.status === 'ready') return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      emitter.off('ready', done)
      emitter.off('end', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    emitter.once('ready', done)
    emitter.once('end', done)
  })
}
