/**
 * Real `redis-server` processes for tests: each on a free loopback port, in its own temp dir, without
 * persistence unless a test asks for it (restart-with-data). Never touches the machine's Redis on 6379.
 *
 *   const redis = await startRedis(t)                       // teardown registered on t
 *   const redis = await startRedis(t, { persistence: true }) // restart() keeps the data (AOF, fsync always)
 *   await redis.cli('SET', 'intent-gate:{default}:drain', '1')
 *   await redis.kill(); await redis.restart()
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../../sandbox/free-port.js'

const execFileAsync = promisify(execFile)

/** The part of tap's `t` the helpers need: anything with `teardown` works. */
export interface Teardown {
  teardown (fn: () => unknown): void
}

export interface RedisOptions {
  /** AOF with `appendfsync always`, so `kill()` (SIGKILL) then `restart()` keeps every acknowledged write. */
  persistence?: boolean
  /** Extra `redis-server` arguments, e.g. `['--replicaof', '127.0.0.1', '6400']`. */
  args?: string[]
}

export interface RedisServer {
  readonly host: '127.0.0.1'
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** The server's working directory (data files, config). */
  readonly dir: string
  /** The running process's pid, or null while stopped. */
  pid (): number | null
  /** SIGTERM and wait for the exit (Redis flushes the AOF on the way out). Idempotent. */
  stop (): Promise<void>
  /** SIGKILL and wait for the exit: a crash. Idempotent. */
  kill (): Promise<void>
  /** Starts it again on the same port and dir (stops it first if it runs); data survives with `persistence`. */
  restart (): Promise<void>
  /** Runs `redis-cli -h 127.0.0.1 -p <port> ...args`; resolves to stdout without the trailing newline. */
  cli (...args: string[]): Promise<string>
  /**
   * Every write this server took so far has reached `replicas` replicas (or `timeoutMs` passed): resolves to how
   * many acknowledged. `WAIT` counts only its own connection's writes (a fresh redis-cli's `WAIT` returns at
   * once, whatever lags), so it writes `fenceKey` first on the same connection. On a cluster node the key must
   * hash to a slot the node serves (use the namespace's hash tag).
   */
  replicated (fenceKey: string, replicas: number, timeoutMs: number): Promise<number>
  /** Stops the server and removes its dir; registered on `t.teardown` when a `t` was given. */
  dispose (): Promise<void>
}

/** A spawned redis-server (plain or `--sentinel`) that answered PING. */
export interface RedisProcess {
  readonly child: ChildProcess
  /** Resolves when the process has exited (immediately if it already has). */
  exited (): Promise<void>
  /** Everything it logged so far (stdout), for failure messages. */
  log (): string
}

const READY_MARKERS = ['Ready to accept connections', 'Sentinel ID is']
const live = new Set<ChildProcess>()
let exitHookInstalled = false

export { freePort }

/** Thrown by `spawnRedisProcess` when the port was taken between `freePort()` and the bind. */
export class PortInUseError extends Error {}

/**
 * Spawns `redis-server <args>` and resolves once it logs that it is ready and answers PING on `port`.
 * `args` must include the port and `--logfile ""` is appended so the log reaches stdout.
 */
export async function spawnRedisProcess (args: string[], port: number, cwd: string): Promise<RedisProcess> {
  installExitHook()
  const child = spawn('redis-server', [...args, '--logfile', ''], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let output = ''
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => { live.delete(child); resolve() })
  })
  const exited = async (): Promise<void> => { await exit }

  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (READY_MARKERS.some((m) => output.includes(m))) {
        child.stdout?.off('data', onData)
        child.stdout?.on('data', (c: Buffer) => { output += c.toString() })
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (c: Buffer) => { output += c.toString() })
    child.once('error', reject)
    exit.then(() => {
      if (output.includes('Address already in use')) reject(new PortInUseError(`port ${port} in use`))
      else reject(new Error(`redis-server exited before it was ready (code ${String(child.exitCode)}):\n${output}`))
    }, reject)
  })
  await ping(port)
  return { child, exited, log: () => output }
}

/** One PING over a raw socket: proves the port answers, not just that the log said so. */
async function ping (port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let reply = ''
    socket.setTimeout(5000, () => socket.destroy(new Error(`redis on port ${port} did not answer PING`)))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => {
      reply += d.toString()
      if (reply.includes('\r\n')) {
        socket.end()
        if (reply.startsWith('+PONG')) resolve()
        else reject(new Error(`redis on port ${port} answered PING with ${reply.trim()}`))
      }
    })
    socket.once('error', reject)
  })
}

/** Stops a process with `signal` and waits for it; SIGKILL after 5 s if it will not go. */
export async function stopProcess (proc: RedisProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (proc === null || proc.child.exitCode !== null || proc.child.signalCode !== null) return
  const escalate = setTimeout(() => proc.child.kill('SIGKILL'), 5000)
  proc.child.kill(signal)
  await proc.exited()
  clearTimeout(escalate)
}

/** Runs redis-cli against a port; stdout without its trailing newline. */
export async function redisCli (port: number, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args])
  return stdout.replace(/\n$/, '')
}

/** A write, then `WAIT`, on one connection (see RedisServer.replicated). */
export async function replicatedFence (port: number, fenceKey: string, replicas: number, timeoutMs: number): Promise<number> {
  const child = execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port)])
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8') })
  const exited = new Promise<number | null>((resolve, reject) => { child.on('error', reject); child.on('close', resolve) })
  child.stdin?.end(`SET ${fenceKey} fence\nWAIT ${replicas} ${timeoutMs}\n`)
  const code = await exited
  const lines = stdout.trim().split('\n')
  if (code !== 0 || lines[0] !== 'OK') throw new Error(`redis-cli on ${port}: SET ${fenceKey} answered ${JSON.stringify(stdout)}`)
  return Number(lines[1])
}

/** Picks a free port and starts on it, retrying when another process wins the race for the port. */
export async function spawnOnFreePort (makeArgs: (port: number) => string[], cwd: string): Promise<{ port: number, proc: RedisProcess }> {
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    try {
      return { port, proc: await spawnRedisProcess(makeArgs(port), port, cwd) }
    } catch (err) {
      if (!(err instanceof PortInUseError)) throw err
      lastError = err
    }
  }
  throw lastError
}

export async function makeTempDir (prefix: string): Promise<string> {
  return await mkdtemp(path.join(os.tmpdir(), `intent-gate-${prefix}-`))
}

function serverArgs (port: number, dir: string, opts: RedisOptions): string[] {
  const persistence = opts.persistence === true
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no']
  // No diskless-sync delay: Redis 7 holds a replica's first full sync 5 s for more replicas to join it, and a test
  // with one replica (wait_replicas) would see WAIT answer 0 until then.
  return ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--repl-diskless-sync-delay', '0', ...persistence, ...(opts.args ?? [])]
}

/** Starts a redis-server on a free loopback port; with `t`, stops it and removes its dir at teardown. */
export async function startRedis (t?: Teardown, opts: RedisOptions = {}): Promise<RedisServer> {
  const dir = await makeTempDir('redis')
  let started: { port: number, proc: RedisProcess }
  try {
    started = await spawnOnFreePort((port) => serverArgs(port, dir, opts), dir)
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  const port = started.port
  let proc: RedisProcess | null = started.proc
  let disposed = false

  const server: RedisServer = {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: () => (proc !== null && proc.child.exitCode === null && proc.child.signalCode === null ? proc.child.pid ?? null : null),
    stop: async () => { await stopProcess(proc, 'SIGTERM') },
    kill: async () => { await stopProcess(proc, 'SIGKILL') },
    restart: async () => {
      if (disposed) throw new Error('restart() after dispose()')
      await stopProcess(proc, 'SIGTERM')
      proc = await spawnRedisProcess(serverArgs(port, dir, opts), port, dir)
    },
    cli: async (...args) => await redisCli(port, args),
    replicated: async (fenceKey, replicas, timeoutMs) => await replicatedFence(port, fenceKey, replicas, timeoutMs),
    dispose: async () => {
      disposed = true
      await stopProcess(proc, 'SIGKILL')
      await rm(dir, { recursive: true, force: true })
    }
  }
  t?.teardown(server.dispose)
  return server
}

/** A test process that dies without its teardown must not leave redis-servers behind. */
function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
}
