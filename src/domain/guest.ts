// What nest reads and changes in a migrated guest's userland (issue 13, migration.md §4, §5):
// pure functions over the text of the guest's files, read by the caller from the imported
// copy. Nothing here runs, sources or opens anything.
export * from './guest/text.js'
export * from './guest/version.js'
export * from './guest/rc.js'
export * from './guest/network.js'
export * from './guest/fstab.js'
export * from './guest/bastille.js'
export * from './guest/resources.js'
