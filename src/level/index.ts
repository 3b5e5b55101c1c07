/**
 * Storage for Node.js that survives an OS crash or a power loss: a LevelDB
 * datastore whose writes are synced to disk. Its own entry point keeps the
 * main one free of native code. See docs/durability.md for what each store
 * survives.
 *
 * @packageDocumentation
 */
export { SyncedLevelDatastore, type SyncedLevelDatastoreOptions } from './synced-level-datastore.ts'
