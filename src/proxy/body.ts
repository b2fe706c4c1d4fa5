/**
 * Reads a request body into memory with a hard limit: a declared Content-Length over the limit is refused before
 * a byte is read, and a streamed body is refused the moment it crosses the limit (the rest is not read).
 */
import type { IncomingMessage } from 'node:http'
import { PayloadTooLargeError } from '../errors.js'

/** The client went away before its body ended: there is nobody left to answer. */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError'
}

export async function readBody (req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) {
    throw new PayloadTooLargeError(`the body is ${declared} bytes; at most ${limit} are accepted`)
  }
  return await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        req.pause()
        reject(new PayloadTooLargeError(`the body exceeds ${limit} bytes`))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size))
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(new ClientClosedError(`the client connection failed while sending the body: ${err.message}`, { cause: err }))
    }
    const onClose = (): void => {
      if (req.complete) return
      cleanup()
      reject(new ClientClosedError('the client closed the connection before the body ended'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}
