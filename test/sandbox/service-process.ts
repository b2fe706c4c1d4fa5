/**
 * Starts the built sample intent service (`node dist/sandbox/cli.js service ...`) on port 0 for a test, waits for
 * its JSON line, and stops it (SIGTERM) at teardown. Build first (`npm run build`). Other tests (proxy, e2e,
 * bench) may use it too.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const SANDBOX_CLI = fileURLToPath(new URL('../../dist/sandbox/cli.js', import.meta.url))

export interface RunningService {
  url: string
  info: Record<string, unknown>
  child: ChildProcess
  /** Stops it with SIGTERM and resolves with its exit code (also done at teardown). */
  stop: () => Promise<number | null>
}

interface Teardown { teardown: (fn: () => unknown) => void }

export async function startService (t: Teardown, args: readonly string[]): Promise<RunningService> {
  const child = spawn(process.execPath, [SANDBOX_CLI, 'service', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    return (await exited)[0]
  }
  t.teardown(stop)
  const lines = createInterface({ input: child.stdout! })
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    exited.then(([code]) => { throw new Error(`service exited (${code}) before listening: ${stderr}`) })
  ])
  const info = JSON.parse(first) as Record<string, unknown>
  return { url: info['url'] as string, info, child, stop }
}

/** Runs the CLI to completion (for usage errors): exit code and stderr. */
export async function runService (args: readonly string[]): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, [SANDBOX_CLI, 'service', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stderr }
}
