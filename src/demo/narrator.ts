/**
 * What the demo prints: a heading per stage, one short line for what is happening, indented lines for the
 * figures, and a time stamp (seconds since the demo began) on lines that sample something live.
 */

export interface Narrator {
  stage (title: string): void
  /** What is happening now. */
  say (text: string): void
  /** A live sample: `  12.4s  <text>`. */
  sample (text: string): void
  /** Aligned `label  value` figures. */
  figures (pairs: ReadonlyArray<readonly [string, string]>): void
  blank (): void
}

export function createNarrator (write: (text: string) => void, totalStages: number, now: () => number = Date.now): Narrator {
  const began = now()
  let stageNumber = 0
  const line = (text: string): void => write(text + '\n')
  return {
    stage (title) {
      stageNumber++
      line(`\n[${stageNumber}/${totalStages}] ${title}`)
    },
    say (text) { line(`  ${text}`) },
    sample (text) { line(`  ${((now() - began) / 1000).toFixed(1).padStart(6)}s  ${text}`) },
    figures (pairs) {
      const width = Math.max(...pairs.map(([label]) => label.length))
      for (const [label, value] of pairs) line(`    ${label.padEnd(width)}  ${value}`)
    },
    blank () { line('') }
  }
}
