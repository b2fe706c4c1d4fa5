/** `intent-gate serve [--config FILE]`: runs the gateway in this process until SIGTERM/SIGINT. */
import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { DEFAULT_CONFIG_FILE } from '../../config/default-file.js'

export function registerServeCommand (program: Command): void {
  program.command('serve')
    .description('run the proxy, the admin API, the coordinator and the IBC watcher')
    .option('--config <file>', `the TOML configuration (default: ${DEFAULT_CONFIG_FILE} when it exists, else defaults and environment only)`)
    .action(async (opts: { config?: string }) => {
      const file = opts.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined)
      // Loaded when the command runs, not when the CLI starts: every other command would pay for them.
      const [{ loadConfig, unknownVersionProblems }, { adminToken }, { loadVersionCatalog }, { ConfigError }] = await Promise.all([
        import('../../config/load.js'), import('../../admin/token.js'), import('../../versions/index.js'), import('../../errors.js')
      ])
      // Configuration problems are found before the gateway's modules load, so they are reported at once.
      const config = loadConfig({ file, env: process.env })
      // The versions of `[versions] modules` are known only once their files load (a bad one: exit 2, named).
      const versions = await loadVersionCatalog(config.versions.modules)
      const unknownVersions = unknownVersionProblems(config, versions.known)
      if (unknownVersions.length > 0) throw new ConfigError(unknownVersions)
      adminToken(config, process.env)
      // Loaded here, not at the top: control commands should not pay for loading the whole gateway.
      const { runServe } = await import('../../main.js')
      const code = await runServe({ config, versions })
      // Timers of parts already closed must not keep a stopped gateway alive: exit now, status decided.
      process.exit(code)
    })
}
