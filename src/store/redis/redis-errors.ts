/** How the Redis store tells a lost connection from a refused command. */

/** Errors after which the connection cannot be trusted until a command succeeds again. */
export function isConnectivityError (err: unknown): boolean {
  if (!(err instanceof Error)) return true
  if (err.name !== 'ReplyError') return true
  return /^(READONLY|LOADING|MASTERDOWN|BUSY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)/.test(err.message)
}

/** ioredis refused to send (not connected, no offline queue): the command never reached Redis. */
export function neverSent (err: unknown): boolean {
  return err instanceof Error && err.message.includes('enableOfflineQueue options is false')
}
