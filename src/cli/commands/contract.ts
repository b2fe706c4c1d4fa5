/**
 * `intent-gate contract upload FILE.wasm [--config FILE] [--json]`: stores new contract code on the chain with the
 * configured signer (`[chain]`), prints the code id and the checksum (the chain's, checked against the file's
 * SHA-256). A file that is not WebAssembly is refused before anything is sent.
 */
import { existsSync, readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { DEFAULT_CONFIG_FILE } from '../../config/default-file.js'
import { ConfigError, UsageError } from '../../errors.js'
import { consoleOutput, keyValues } from '../output.js'

interface UploadOptions { config?: string, json?: boolean }

export function registerContractCommands (program: Command): void {
  const contract = program.command('contract').description('contract code on the chain')

  contract.command('upload')
    .argument('<file>', 'the WebAssembly module (.wasm, or .wasm.gz)')
    .option('--config <file>', `the TOML configuration (default: ${DEFAULT_CONFIG_FILE} when it exists)`)
    .option('--json', 'machine-readable output')
    .description('store new contract code (MsgStoreCode, signed by chain.signer_mnemonic_env\'s key); prints its code id and checksum')
    .action(async (file: string, opts: UploadOptions) => {
      // cosmjs and the config loader are loaded when the command runs: the other commands do not pay for them.
      const [{ uploadCode }, { createContractClient }, { loadConfig }, { createLogger }] = await Promise.all([
        import('../../chain/code-upload.js'), import('../../chain/contract-client.js'), import('../../config/load.js'), import('../../log.js')
      ])
      const config = loadConfig({ file: opts.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined) })
      if (!config.chain.enabled) throw new ConfigError(['chain.enabled: is false, so there is no chain to upload to'])
      let content: Uint8Array
      try {
        content = readFileSync(file)
      } catch (err) {
        throw new UsageError(`FILE ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
      }
      const logger = createLogger({ level: 'warn' })
      const client = createContractClient({ chain: config.chain, logger })
      try {
        const result = await uploadCode(client, file, content)
        const out = consoleOutput(opts.json === true)
        out.write(out.json
          ? JSON.stringify(result)
          : keyValues([['code id', String(result.code_id)], ['checksum', result.checksum], ['tx', result.tx_hash], ['height', String(result.height)], ['bytes', String(result.bytes)]]))
      } finally {
        client.close()
      }
    })
}
