/**
 * `intent-gate-sandbox service ...`: starts the sample intent service, prints one JSON line
 * `{"url", "versions", "settle_ms", "verify", "settler"}` once it listens, and stops on SIGTERM/SIGINT.
 * Exit status 2 for bad usage (the message names the flag).
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { ConfigError, UsageError } from '../../src/errors.js'
import { loadVersionCatalog, type Catalog } from '../../src/versions/index.js'
import { parseServiceArgs, versionModuleArgs, type ServiceOptions } from './args.js'
import { IntentService } from './server.js'
import { ClockSettler, type ChainSettlerOptions, type Settler } from './settler.js'

export async function main (argv: string[]): Promise<void> {
  let catalog: Catalog
  let options: ServiceOptions
  let settler: Settler
  try {
    catalog = await loadVersionCatalog(versionModuleArgs(argv))
    options = parseServiceArgs(argv, catalog.known)
    settler = options.chainRpc === null
      ? new ClockSettler(options.settleMs)
      : await chainSettler({ rpcUrl: options.chainRpc, settleMs: options.settleMs })
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof ConfigError)) throw err
    // A bad --versions-module reads as a usage error too: the flag and the file, then what is wrong.
    const message = err instanceof ConfigError ? `--versions-module: ${err.problems.join('; ').replace(/^versions\.modules: /, '')}` : err.message
    process.stderr.write(`intent-gate-sandbox service: ${message}\n`)
    process.exitCode = 2
    return
  }
  const service = new IntentService({
    catalog,
    versions: options.versions,
    settler,
    verify: options.verify,
    controlThroughProxy: options.controlThroughProxy
  })
  service.server.listen(options.port, options.host)
  await once(service.server, 'listening')
  const { port } = service.server.address() as AddressInfo
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  process.stdout.write(JSON.stringify({
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    versions: options.versions,
    settle_ms: options.settleMs,
    verify: options.verify,
    settler: options.chainRpc === null ? 'clock' : 'chain'
  }) + '\n')

  const stop = (): void => {
    service.server.close()
    service.server.closeIdleConnections()
    settler.close().catch((err: unknown) => { process.stderr.write(`settler close failed: ${String(err)}\n`) })
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

/** Loaded only with --chain-rpc, so the clock-driven service never pulls in the chain client. */
async function chainSettler (options: ChainSettlerOptions): Promise<Settler> {
  const modulePath = './chain-settler.js'
  let mod: { createChainSettler?: (o: ChainSettlerOptions) => Promise<Settler> }
  try {
    mod = await import(modulePath) as typeof mod
  } catch (err) {
    throw new UsageError(`--chain-rpc: this build has no chain-backed settler (${(err as Error).message})`)
  }
  if (typeof mod.createChainSettler !== 'function') throw new UsageError('--chain-rpc: chain-settler.js does not export createChainSettler')
  return await mod.createChainSettler(options)
}
