/**
 * What the control commands print: `--json` gives the admin API's JSON as is (one document on stdout);
 * otherwise tidy aligned tables and key/value lists for a terminal.
 */

export interface Output {
  json: boolean
  write: (text: string) => void
}

export function consoleOutput (json: boolean): Output {
  return { json, write: (text) => { const safe = terminalSafe(text, true); process.stdout.write(safe.endsWith('\n') ? safe : safe + '\n') } }
}

// C0 controls, DEL, C1 controls, and the bidirectional overrides and isolates (text that reorders what follows).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/**
 * Operator text (a drain reason, an upgrade's error, a problem's detail) as it may reach a terminal: control
 * characters shown as escapes (`\x1b`, `\u202e`), never sent raw, so nobody who can set a drain reason can move the
 * cursor, rewrite earlier lines or retitle the window of whoever runs the CLI. `keepLines`: newlines (and tabs) of
 * the CLI's own layout stay.
 */
export function terminalSafe (text: string, keepLines = false): string {
  return text.replace(CONTROL, (c) => {
    if (keepLines && (c === '\n' || c === '\t')) return c
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** A table with a header row; columns padded to their widest cell. */
export function table (headers: readonly string[], rawRows: ReadonlyArray<readonly string[]>): string {
  const rows = rawRows.map((r) => r.map((c) => terminalSafe(c)))
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

/** Aligned `label  value` lines. */
export function keyValues (pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${terminalSafe(v)}`).join('\n')
}

/** Unix seconds → ISO time, or `-`. */
export function time (secs: number | null | undefined): string {
  return secs === null || secs === undefined ? '-' : new Date(secs * 1000).toISOString().replace('.000Z', 'Z')
}

/** Seconds → `1h02m03s` style, or `-`. */
export function duration (secs: number | null | undefined): string {
  if (secs === null || secs === undefined) return '-'
  const h = Math.floor(secs / 3600)
  const m = Math.floor((secs % 3600) / 60)
  const s = secs % 60
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`
  return `${s}s`
}
