// The grant rules of the catalogue (audit-rules §3 A, M, S, H, I, Z): the lead concatenates them
// with the hygiene rules. Each reads the grant verdicts of the context (src/audit/grants.ts).
import type {Rule} from '../rule.js'
import {ALLOW_RULES} from './allow.js'
import {HIERARCHY_RULES} from './hierarchy.js'
import {IPC_RULES} from './ipc.js'
import {MOUNT_RULES} from './mount.js'
import {STATFS_RULES} from './statfs.js'
import {ZFS_RULES} from './zfs.js'

export const GRANT_RULES: Rule[] = [...ALLOW_RULES, ...MOUNT_RULES, ...STATFS_RULES, ...HIERARCHY_RULES, ...IPC_RULES, ...ZFS_RULES]
