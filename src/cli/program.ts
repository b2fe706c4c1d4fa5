/**
 * The `intent-gate` command tree. Each command group is one file in ./commands and one line here (`demo` plugs
 * in the same way).
 */
import { Command } from 'commander'
import { registerServeCommand } from './commands/serve.js'
import { registerDrainCommands } from './commands/drain.js'
import { registerInflightCommands } from './commands/inflight.js'
import { registerUpstreamsCommands } from './commands/upstreams.js'
import { registerUpgradeCommands } from './commands/upgrade.js'
import { registerCheckpointCommands } from './commands/checkpoint.js'
import { registerDbCommands } from './commands/db.js'
import { registerContractCommands } from './commands/contract.js'
import { registerDemoCommand } from './commands/demo.js'
import { registerInstanceCommands } from './commands/instance.js'

export type RegisterCommands = (program: Command) => void

export const COMMAND_GROUPS: readonly RegisterCommands[] = [
  registerServeCommand,
  registerDrainCommands,
  registerInstanceCommands,
  registerInflightCommands,
  registerUpstreamsCommands,
  registerUpgradeCommands,
  registerCheckpointCommands,
  registerDbCommands,
  registerContractCommands,
  registerDemoCommand
]

export function buildProgram (): Command {
  const program = new Command('intent-gate')
    .description('a drain-aware gateway and upgrade coordinator for intent-settlement systems')
    // Answered in ./version.ts before parsing; listed here for --help.
    .addHelpText('after', '\nintent-gate --version [--json]   the release (with --json: the Redis key layouts it writes and reads)')
    .showHelpAfterError()
    // Usage errors are thrown, not exited on, so the caller can give them exit status 2.
    .exitOverride()
  for (const register of COMMAND_GROUPS) register(program)
  return program
}
