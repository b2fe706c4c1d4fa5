#!/usr/bin/env node
/**
 * The `intent-gate` binary. Exit status (INTERFACE section 1): 0 done; 1 the operation failed or was refused;
 * 2 bad usage or bad configuration, with a message naming the flag or key.
 */
import { CommanderError } from 'commander'
import { ConfigError, IntentGateError, UsageError } from '../errors.js'
import { AdminCallError } from '../admin/errors.js'
import { buildProgram } from './program.js'

async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message (and the help); help and --version are not failures.
      return err.exitCode === 0 ? 0 : 2
    }
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`intent-gate: ${err.message}\n`)
      return 2
    }
    if (err instanceof AdminCallError) {
      if (argv.includes('--json') && err.body !== null && typeof err.body === 'object') process.stdout.write(JSON.stringify(err.body) + '\n')
      process.stderr.write(`intent-gate: ${err.message}\n`)
      return 1
    }
    // Every other deliberate error (a refused migration, a corrupt checkpoint...) is the operation failing: exit 1.
    if (err instanceof IntentGateError) {
      process.stderr.write(`intent-gate: ${err.message}\n`)
      return 1
    }
    process.stderr.write(`intent-gate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv)
