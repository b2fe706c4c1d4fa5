/**
 * One WebSocket subscription to the chain's NewBlock events (cosmjs Comet38Client on a WebsocketClient). It only
 * tells the watcher that a height exists; the watcher reads every height's results itself. cosmjs reconnects the
 * socket on its own but does not subscribe again (cosmos/cosmjs#1217), so a subscription that failed, or that
 * simply went quiet, is thrown away whole and the watcher builds a new one.
 */
import { Comet38Client, WebsocketClient } from '@cosmjs/tendermint-rpc'

export interface BlockHandlers {
  onBlock (height: number, timeMs: number): void
  /** Called at most once: the socket or the subscription failed or ended. */
  onFailure (err: Error): void
}

export interface BlockSubscription {
  /** Unsubscribes and closes the socket; idempotent, never throws. */
  close (): void
}

/** The WebSocket base URL for an RPC URL: http→ws, https→wss (cosmjs appends `/websocket`). */
export function websocketUrlOf (rpcUrl: string): string {
  const url = new URL(rpcUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.toString().replace(/\/+$/, '')
}

export function subscribeNewBlocks (rpcUrl: string, handlers: BlockHandlers): BlockSubscription {
  let done = false
  const fail = (err: unknown): void => {
    if (done) return
    done = true
    handlers.onFailure(err instanceof Error ? err : new Error(describeSocketError(err)))
  }
  const socket = new WebsocketClient(websocketUrlOf(rpcUrl), fail)
  const client = Comet38Client.create(socket)
  const subscription = client.subscribeNewBlock().subscribe({
    next: (block) => {
      if (!done) handlers.onBlock(block.header.height, block.header.time.getTime())
    },
    error: fail,
    complete: () => fail(new Error('the chain ended the NewBlock subscription'))
  })
  return {
    close: () => {
      done = true
      try { subscription.unsubscribe() } catch {}
      try { socket.disconnect() } catch {}
      cancelReconnect(socket)
    }
  }
}

/**
 * cosmjs 0.38's ReconnectingSocket schedules a reconnect whenever its socket reports "disconnected", including
 * after its own `disconnect()` (its `disconnected` flag is set only afterwards, and a connect attempt still in
 * flight reports later still). A "closed" client then silently opens a new connection and keeps the process
 * alive. So the pending timer is cleared and the inner socket's `reconnect` made a no-op; the fields are
 * private, hence the defensive shape checks. Returns whether the fields were found (test/ibc/reconnect-workaround
 * fails when they are gone, and when cosmjs no longer reconnects after a disconnect so this can be dropped).
 */
export function cancelReconnect (client: WebsocketClient): boolean {
  const reconnecting = (client as unknown as { socket?: { reconnectTimeout?: unknown, socket?: { reconnect?: unknown } } }).socket
  if (reconnecting === undefined || !('reconnectTimeout' in reconnecting)) return false
  if (reconnecting.reconnectTimeout !== null && reconnecting.reconnectTimeout !== undefined) {
    clearTimeout(reconnecting.reconnectTimeout as NodeJS.Timeout)
    reconnecting.reconnectTimeout = null
  }
  if (reconnecting.socket === undefined || typeof reconnecting.socket.reconnect !== 'function') return false
  reconnecting.socket.reconnect = () => {}
  return true
}

/** WebSocket error events and JSON-RPC error objects are not Errors; make them readable. */
function describeSocketError (err: unknown): string {
  if (typeof err === 'string') return err
  if (typeof err === 'object' && err !== null) {
    const { message, type } = err as { message?: unknown, type?: unknown }
    if (typeof message === 'string' && message !== '') return message
    if (typeof type === 'string') return `websocket ${type}`
  }
  return `websocket failure: ${String(err)}`
}
