/**
 * The gateway's status events (`GET /.well-known/intent-gate/events`, Server-Sent Events, `event: status` with
 * the status object on connect and on every change) as an async iterator that reconnects: a gateway restarting
 * or a proxy cutting an idle stream is a pause in the events, not their end. The stream ends when the caller
 * stops iterating or its signal aborts.
 */
import { sleep } from './retry.js'
import type { GatewayStatus } from './types.js'

export interface EventsOptions {
  signal?: AbortSignal
  /** The wait before reconnecting, until the gateway's `retry:` field says otherwise (default 1000 ms). */
  reconnectMs?: number
}

export async function * statusEvents (
  url: string,
  fetchImpl: typeof fetch,
  o: EventsOptions = {}
): AsyncGenerator<GatewayStatus, void, undefined> {
  // Our own controller, so that a caller leaving the loop (return()) also closes the open connection.
  const stop = new AbortController()
  const onAbort = (): void => stop.abort(o.signal?.reason)
  o.signal?.addEventListener('abort', onAbort, { once: true })
  let reconnectMs = o.reconnectMs ?? 1000
  try {
    while (!stop.signal.aborted) {
      try {
        const res = await fetchImpl(url, { headers: { accept: 'text/event-stream' }, signal: stop.signal })
        if (res.ok && res.body !== null) {
          for await (const message of messages(res.body)) {
            if (message.retry !== undefined) reconnectMs = message.retry
            if (message.event === 'status' && message.data !== '') yield JSON.parse(message.data) as GatewayStatus
          }
        } else {
          await res.body?.cancel()
        }
      } catch {
        // A refused or broken connection: reconnect after the wait (unless the caller stopped).
        if (stop.signal.aborted) return
      }
      if (stop.signal.aborted) return
      await sleep(reconnectMs, stop.signal).catch(() => {})
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort)
    stop.abort()
  }
}

interface Message { event: string, data: string, retry?: number }

/** The messages of an event stream (the WHATWG parsing rules for `event`, `data` and `retry`; comments skipped). */
async function * messages (body: ReadableStream<Uint8Array>): AsyncGenerator<Message> {
  const decoder = new TextDecoder()
  const reader = body.getReader()
  let buffer = ''
  let event = ''
  let data: string[] = []
  let retry: number | undefined
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buffer.search(/\r\n|\r|\n/)) !== -1) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1))
        if (line === '') {
          if (data.length > 0 || retry !== undefined) yield { event: event === '' ? 'message' : event, data: data.join('\n'), ...(retry === undefined ? {} : { retry }) }
          event = ''
          data = []
          retry = undefined
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon === -1 ? line : line.slice(0, colon)
        let value = colon === -1 ? '' : line.slice(colon + 1)
        if (value.startsWith(' ')) value = value.slice(1)
        if (field === 'event') event = value
        else if (field === 'data') data.push(value)
        else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value)
      }
    }
  } finally {
    reader.releaseLock()
  }
}
