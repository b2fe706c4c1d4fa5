#!/usr/bin/env node
/**
 * `intent-gate-sandbox`: the stand-ins for the world around the gateway (a sample intent service, a local
 * chain, a load generator), used by the tests and the demo. Nothing in src/ imports this folder.
 */
const USAGE = `usage:
  intent-gate-sandbox service --listen HOST:PORT --versions 1.0[,2.0] [--settle-ms N] [--chain-rpc URL]
  intent-gate-sandbox chain --listen HOST:PORT [--state FILE] [--block-ms N]
  intent-gate-sandbox realchain [--build]
  intent-gate-sandbox load --target URL [--rate N] [--duration S] [--version 1.0|2.0] [--progress-ms N] [--poll-ms N] [--finish-timeout S]`

const [command, ...rest] = process.argv.slice(2)
if (command === 'service') {
  const { main } = await import('./service/main.js')
  await main(rest)
} else if (command === 'chain') {
  const { main } = await import('./chain/main.js')
  await main(rest)
} else if (command === 'realchain') {
  const { main } = await import('./realchain/main.js')
  await main(rest)
} else if (command === 'load') {
  const { main } = await import('./load/main.js')
  await main(rest)
} else {
  process.stderr.write(`${command === undefined ? 'missing command' : `unknown command '${command}'`}\n${USAGE}\n`)
  process.exitCode = 2
}
