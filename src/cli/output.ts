/**
 * What the control commands print: `--json` gives the admin API's JSON as is (one document on stdout);
 * otherwise tidy aligned tables and key/value lists for a terminal.
 */

export interface Output {
  json: boolean
  write: (text: string) => void
}

export function consoleOutput (json: boolean): Output {
  return { json, write: (text) => { process.stdout.write(text.endsWith('\n') ? text : text + '\n') } }
}

/** A table with a header row; columns padded to their widest cell. */
export function table (headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

/** Aligned `label  value` lines. */
export function keyValues (pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')
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
