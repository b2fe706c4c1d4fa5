/**
 * Opens the coordinator's SQLite file (creating its directory), in WAL mode with full fsync, so every state
 * change the coordinator records survives a kill -9 the moment the call returns.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'

export type SqliteDb = Database.Database

export function openDatabase (file: string): SqliteDb {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  return db
}
