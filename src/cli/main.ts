#!/usr/bin/env node
/**
 * The `intent-gate` binary. Exit status (docs/specification.md section 1): 0 done; 1 the operation failed or was refused;
 * 2 bad usage or bad configuration, with a message naming the flag or key.
 */
import { CommanderError } from 'commander'
import { ConfigError, IntentGateError, LayoutMismatchError, UsageError } from '../errors.js'
import { AdminCallError } from '../admin/errors.js'
import { buildProgram } from './program.js'
import { versionAnswer } from './version.js'
import { terminalSafe } from './output.js'

async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    const version = versionAnswer(argv.slice(2))
    if (version !== null) {
      process.stdout.write(version + '\n')
      return 0
    }
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message (and the help); help and --version are not failures.
      return err.exitCode === 0 ? 0 : 2
    }
    // A namespace this release cannot share is a deployment mistake, like bad configuration (exit 2).
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof LayoutMismatchError) {
      process.stderr.write(`intent-gate: ${terminalSafe(err.message, true)}\n`)
      return 2
    }
    if (err instanceof AdminCallError) {
      if (argv.includes('--json') && err.body !== null && typeof err.body === 'object') process.stdout.write(JSON.stringify(err.body) + '\n')
      process.stderr.write(`intent-gate: ${terminalSafe(err.message, true)}\n`)
      return 1
    }
    // Every other deliberate error (a refused migration, a corrupt checkpoint...) is the operation failing: exit 1.
    if (err instanceof IntentGateError) {
      process.stderr.write(`intent-gate: ${terminalSafe(err.message, true)}\n`)
      return 1
    }
    process.stderr.write(`intent-gate: ${terminalSafe(err instanceof Error ? (err.stack ?? err.message) : String(err), true)}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv)
