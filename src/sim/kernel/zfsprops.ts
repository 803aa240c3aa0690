// The native ZFS dataset properties of OpenZFS 2.2.7 (what FreeBSD 14.3 ships in
// sys/contrib/openzfs), as module/zcommon/zfs_prop.c zfs_prop_init registers them, in the order
// of include/sys/fs/zfs.h's zfs_prop_t enum: zprop_iter_common walks the table by property
// number when not asked to sort, so this is the order of `zfs get all` (libzfs_util.c
// zprop_expand_list). Plain data only: kernel/zfs.ts computes the values.

/** zprop_type_t: how a value is stored and printed. */
export type PropKind = 'number' | 'string' | 'index'

/** zprop_attr_t: PROP_READONLY, PROP_DEFAULT (settable, not inherited), PROP_INHERIT, PROP_ONETIME(_DEFAULT). */
export type PropAttr = 'readonly' | 'default' | 'inherit' | 'onetime' | 'onetime_default'

export interface PropDesc {
  name: string
  /** pd_colname: the `zfs list` header; lowercased, also a name the property answers to (propname_match). */
  col: string
  kind: PropKind
  attr: PropAttr
  /** pd_types: f filesystem, s snapshot, v volume. */
  types: string
  /** pd_visible: hidden properties are never listed by `all`. */
  visible: boolean
  /** pd_always_flex: strings, indexes and a few numbers take the width of their values. */
  flex: boolean
  /** pd_rightalign: numbers. */
  right: boolean
  /** For an index: the longest name in its table (zprop_width). */
  idxWidth: number
  /** pd_values, the text of "must be one of" errors and of the usage table. */
  values?: string
}

// One row per zfs_prop_t, in enum order: name, colname, kind, attr, types, flags
// (h hidden, x flex number, l left-aligned number), longest index name, values.
type Row = [string, string, PropKind, PropAttr, string, string, number, string?]
const ROWS: Row[] = [
  ['type', 'TYPE', 'string', 'readonly', 'fsv', '', 0, 'filesystem | volume | snapshot | bookmark'],
  ['creation', 'CREATION', 'number', 'readonly', 'fsv', 'xl', 0, '<date>'],
  ['used', 'USED', 'number', 'readonly', 'fsv', '', 0, '<size>'],
  ['available', 'AVAIL', 'number', 'readonly', 'fv', '', 0, '<size>'],
  ['referenced', 'REFER', 'number', 'readonly', 'fsv', '', 0, '<size>'],
  ['compressratio', 'RATIO', 'number', 'readonly', 'fsv', '', 0, '<1.00x or higher if compressed>'],
  ['mounted', 'MOUNTED', 'index', 'readonly', 'f', '', 3, 'yes | no'],
  ['origin', 'ORIGIN', 'string', 'readonly', 'fv', '', 0, '<snapshot>'],
  ['quota', 'QUOTA', 'number', 'default', 'f', '', 0, '<size> | none'],
  ['reservation', 'RESERV', 'number', 'default', 'fv', '', 0, '<size> | none'],
  ['volsize', 'VOLSIZE', 'number', 'default', 'sv', '', 0, '<size>'],
  ['volblocksize', 'VOLBLOCK', 'number', 'onetime', 'v', '', 0, '512 to 128k, power of 2'],
  ['recordsize', 'RECSIZE', 'number', 'inherit', 'f', '', 0, '512 to 1M, power of 2'],
  ['mountpoint', 'MOUNTPOINT', 'string', 'inherit', 'f', '', 0, '<path> | legacy | none'],
  ['sharenfs', 'SHARENFS', 'string', 'inherit', 'f', '', 0, 'on | off | NFS share options'],
  ['checksum', 'CHECKSUM', 'index', 'inherit', 'fv', '', 9, 'on | off | fletcher2 | fletcher4 | sha256 | sha512 | skein | edonr | blake3'],
  ['compression', 'COMPRESS', 'index', 'inherit', 'fv', '', 14, 'on | off | lzjb | gzip | gzip-[1-9] | zle | lz4 | zstd | zstd-[1-19] | zstd-fast | zstd-fast-[1-10,20,30,40,50,60,70,80,90,100,500,1000]'],
  ['atime', 'ATIME', 'index', 'inherit', 'f', '', 3, 'on | off'],
  ['devices', 'DEVICES', 'index', 'inherit', 'fs', '', 3, 'on | off'],
  ['exec', 'EXEC', 'index', 'inherit', 'fs', '', 3, 'on | off'],
  ['setuid', 'SETUID', 'index', 'inherit', 'fs', '', 3, 'on | off'],
  ['readonly', 'RDONLY', 'index', 'inherit', 'fv', '', 3, 'on | off'],
  // ZFS_PROP_ZONED is registered as "jailed" under __FreeBSD__.
  ['jailed', 'JAILED', 'index', 'inherit', 'f', '', 3, 'on | off'],
  ['snapdir', 'SNAPDIR', 'index', 'inherit', 'f', '', 7, 'hidden | visible'],
  ['aclmode', 'ACLMODE', 'index', 'inherit', 'f', '', 11, 'discard | groupmask | passthrough | restricted'],
  ['aclinherit', 'ACLINHERIT', 'index', 'inherit', 'f', '', 13, 'discard | noallow | restricted | passthrough | passthrough-x'],
  ['createtxg', 'CREATETXG', 'number', 'readonly', 'fsv', 'x', 0, '<uint64>'],
  ['name', 'NAME', 'string', 'readonly', 'fsv', 'h', 0],
  ['canmount', 'CANMOUNT', 'index', 'default', 'f', '', 6, 'on | off | noauto'],
  ['iscsioptions', 'ISCSIOPTIONS', 'string', 'inherit', 'v', 'h', 0],
  ['xattr', 'XATTR', 'index', 'inherit', 'fs', '', 3, 'on | off | dir | sa'],
  ['numclones', 'NUMCLONES', 'number', 'readonly', 's', 'h', 0],
  ['copies', 'COPIES', 'index', 'inherit', 'fv', '', 1, '1 | 2 | 3'],
  ['version', 'VERSION', 'index', 'default', 'fs', '', 7, '1 | 2 | 3 | 4 | 5 | current'],
  ['utf8only', 'UTF8ONLY', 'index', 'onetime', 'fs', '', 3, 'on | off'],
  ['normalization', 'NORMALIZATION', 'index', 'onetime', 'fs', '', 6, 'none | formC | formD | formKC | formKD'],
  ['casesensitivity', 'CASE', 'index', 'onetime', 'fs', '', 11, 'sensitive | insensitive | mixed'],
  ['vscan', 'VSCAN', 'index', 'inherit', 'f', '', 3, 'on | off'],
  ['nbmand', 'NBMAND', 'index', 'inherit', 'fs', '', 3, 'on | off'],
  ['sharesmb', 'SHARESMB', 'string', 'inherit', 'f', '', 0, 'on | off | SMB share options'],
  ['refquota', 'REFQUOTA', 'number', 'default', 'f', '', 0, '<size> | none'],
  ['refreservation', 'REFRESERV', 'number', 'default', 'fv', '', 0, '<size> | none'],
  ['guid', 'GUID', 'number', 'readonly', 'fsv', 'x', 0, '<uint64>'],
  ['primarycache', 'PRIMARYCACHE', 'index', 'inherit', 'fsv', '', 8, 'all | none | metadata'],
  ['secondarycache', 'SECONDARYCACHE', 'index', 'inherit', 'fsv', '', 8, 'all | none | metadata'],
  ['usedbysnapshots', 'USEDSNAP', 'number', 'readonly', 'fv', '', 0, '<size>'],
  ['usedbydataset', 'USEDDS', 'number', 'readonly', 'fv', '', 0, '<size>'],
  ['usedbychildren', 'USEDCHILD', 'number', 'readonly', 'fv', '', 0, '<size>'],
  ['usedbyrefreservation', 'USEDREFRESERV', 'number', 'readonly', 'fv', '', 0, '<size>'],
  ['useraccounting', 'USERACCOUNTING', 'number', 'readonly', 'fsv', 'h', 0],
  ['stmf_sbd_lu', 'STMF_SBD_LU', 'string', 'inherit', 'v', 'h', 0],
  ['defer_destroy', 'DEFER_DESTROY', 'index', 'readonly', 's', '', 3, 'yes | no'],
  ['userrefs', 'USERREFS', 'number', 'readonly', 's', '', 0, '<count>'],
  ['logbias', 'LOGBIAS', 'index', 'inherit', 'fv', '', 10, 'latency | throughput'],
  ['unique', 'UNIQUE', 'number', 'readonly', 'fsv', 'h', 0],
  ['objsetid', 'OBJSETID', 'number', 'readonly', 'fsv', 'x', 0, '<uint64>'],
  ['dedup', 'DEDUP', 'index', 'inherit', 'fv', '', 13, 'on | off | verify | sha256[,verify] | sha512[,verify] | skein[,verify] | edonr,verify | blake3[,verify]'],
  ['mlslabel', 'MLSLABEL', 'string', 'inherit', 'fsv', '', 0, '<sensitivity label>'],
  ['sync', 'SYNC', 'index', 'inherit', 'fv', '', 8, 'standard | always | disabled'],
  ['dnodesize', 'DNSIZE', 'index', 'inherit', 'f', '', 6, 'legacy | auto | 1k | 2k | 4k | 8k | 16k'],
  ['refcompressratio', 'REFRATIO', 'number', 'readonly', 'fsv', '', 0, '<1.00x or higher if compressed>'],
  ['written', 'WRITTEN', 'number', 'readonly', 'fsv', '', 0, '<size>'],
  ['clones', 'CLONES', 'string', 'readonly', 's', '', 0, '<dataset>[,...]'],
  ['logicalused', 'LUSED', 'number', 'readonly', 'fv', '', 0, '<size>'],
  ['logicalreferenced', 'LREFER', 'number', 'readonly', 'fsv', '', 0, '<size>'],
  ['inconsistent', 'INCONSISTENT', 'number', 'readonly', 'fsv', 'h', 0],
  ['volmode', 'VOLMODE', 'index', 'inherit', 'fv', '', 7, 'default | full | geom | dev | none'],
  ['filesystem_limit', 'FSLIMIT', 'number', 'default', 'f', '', 0, '<count> | none'],
  ['snapshot_limit', 'SSLIMIT', 'number', 'default', 'fv', '', 0, '<count> | none'],
  ['filesystem_count', 'FSCOUNT', 'number', 'readonly', 'f', '', 0, '<count>'],
  ['snapshot_count', 'SSCOUNT', 'number', 'readonly', 'fv', '', 0, '<count>'],
  ['snapdev', 'SNAPDEV', 'index', 'inherit', 'fv', '', 7, 'hidden | visible'],
  ['acltype', 'ACLTYPE', 'index', 'inherit', 'fs', '', 5, 'off | nfsv4 | posix'],
  ['context', 'CONTEXT', 'string', 'default', 'fsv', '', 0, '<selinux context>'],
  ['fscontext', 'FSCONTEXT', 'string', 'default', 'fsv', '', 0, '<selinux fscontext>'],
  ['defcontext', 'DEFCONTEXT', 'string', 'default', 'fsv', '', 0, '<selinux defcontext>'],
  ['rootcontext', 'ROOTCONTEXT', 'string', 'default', 'fsv', '', 0, '<selinux rootcontext>'],
  ['relatime', 'RELATIME', 'index', 'inherit', 'f', '', 3, 'on | off'],
  ['redundant_metadata', 'REDUND_MD', 'index', 'inherit', 'fv', '', 4, 'all | most | some | none'],
  ['overlay', 'OVERLAY', 'index', 'inherit', 'f', '', 3, 'on | off'],
  ['prevsnap', 'PREVSNAP', 'string', 'readonly', 'fv', 'h', 0],
  ['receive_resume_token', 'RESUMETOK', 'string', 'readonly', 'fv', '', 0, '<string token>'],
  ['encryption', 'ENCRYPTION', 'index', 'onetime', 'fsv', '', 11, 'on | off | aes-128-ccm | aes-192-ccm | aes-256-ccm | aes-128-gcm | aes-192-gcm | aes-256-gcm'],
  ['keylocation', 'KEYLOCATION', 'string', 'default', 'fv', '', 0, 'prompt | <file URI> | <https URL> | <http URL>'],
  ['keyformat', 'KEYFORMAT', 'index', 'onetime_default', 'fv', '', 10, 'none | raw | hex | passphrase'],
  ['pbkdf2salt', 'PBKDF2SALT', 'number', 'onetime_default', 'fv', 'h', 0],
  ['pbkdf2iters', 'PBKDF2ITERS', 'number', 'onetime_default', 'fv', 'x', 0, '<iters>'],
  ['encryptionroot', 'ENCROOT', 'string', 'readonly', 'fsv', '', 0, '<filesystem | volume>'],
  ['keyguid', 'KEYGUID', 'number', 'readonly', 'fsv', 'h', 0],
  ['keystatus', 'KEYSTATUS', 'index', 'readonly', 'fsv', '', 11, 'none | unavailable | available'],
  ['remaptxg', 'REMAPTXG', 'number', 'readonly', 'fsv', 'h', 0],
  ['special_small_blocks', 'SPECIAL_SMALL_BLOCKS', 'number', 'inherit', 'f', '', 0, 'zero or 512 to 1M, power of 2'],
  ['ivsetguid', 'IVSETGUID', 'number', 'readonly', 'fsv', 'h', 0],
  ['redacted', 'REDACTED', 'number', 'readonly', 'fsv', 'h', 0],
  ['redact_snaps', 'RSNAPS', 'string', 'readonly', 'fsv', '', 0, '<snapshot>[,...]'],
  ['snapshots_changed', 'SNAPSHOTS_CHANGED', 'number', 'readonly', 'fv', 'xl', 0, '<date>'],
  ['prefetch', 'PREFETCH', 'index', 'inherit', 'fsv', '', 8, 'none | metadata | all'],
]

/** The table, by zfs_prop_t number. */
export const ZFS_PROPS: readonly PropDesc[] = ROWS.map(([name, col, kind, attr, types, flags, idxWidth, values]) => ({
  name, col, kind, attr, types, idxWidth, ...(values === undefined ? {} : {values}),
  visible: !flags.includes('h'),
  // zprop_register_number takes flex from its caller (B_TRUE only for guid, createtxg, pbkdf2iters,
  // objsetid and the two dates); strings and indexes are always flex; hidden ones as registered.
  flex: kind !== 'number' || flags.includes('x') || (flags.includes('h') && name === 'name'),
  // zprop_register_number and hidden numbers align right; creation and snapshots_changed do not.
  right: kind === 'number' && !flags.includes('l'),
}))

/**
 * zprop_name_to_prop over all properties, hidden ones too (show_all): the name, or the column
 * name in lowercase (zprop_common.c propname_match), so `lrefer`, `avail`, `reserv` work.
 */
export function lookupProp(name: string): PropDesc | undefined {
  return ZFS_PROPS.find((p) => p.name === name || p.col.toLowerCase() === name)
}

/** zfs_prop_inheritable: PROP_INHERIT and PROP_ONETIME. */
export const isInheritable = (p: PropDesc): boolean => p.attr === 'inherit' || p.attr === 'onetime'

/**
 * zprop_width: the column name's width, at least 5 for a number ("20.4M"), at least the longest
 * name of an index; `fixed` unless the property is flex (then its values widen it).
 */
export function propWidth(p: PropDesc): {width: number; fixed: boolean} {
  let width = p.col.length
  if (p.kind === 'number') width = Math.max(width, 5)
  if (p.kind === 'index') width = Math.max(width, p.idxWidth)
  return {width, fixed: !p.flex}
}

/** zfs_prop_valid_for_type for the simulated types. */
export const validForType = (p: PropDesc, type: 'filesystem' | 'volume' | 'snapshot'): boolean => p.types.includes(type[0] as string)

/**
 * The value a settable property has where nothing sets it (zfs_prop.c defaults as libzfs prints
 * them): compression is ZIO_COMPRESS_ON in 2.2 (include/sys/zio.h ZIO_COMPRESS_DEFAULT), acltype
 * nfsv4 outside Linux, xattr ZFS_XATTR_DIR (printed as "on", the first name of that value).
 */
export const PROP_DEFAULTS: Readonly<Record<string, string>> = {
  recordsize: '131072', sharenfs: 'off', checksum: 'on', compression: 'on', atime: 'on', devices: 'on', exec: 'on',
  setuid: 'on', readonly: 'off', jailed: 'off', snapdir: 'hidden', aclmode: 'discard', aclinherit: 'restricted',
  canmount: 'on', xattr: 'on', copies: '1', vscan: 'off', nbmand: 'off', sharesmb: 'off', primarycache: 'all',
  secondarycache: 'all', logbias: 'latency', dedup: 'off', mlslabel: 'none', sync: 'standard', dnodesize: 'legacy',
  volmode: 'default', snapdev: 'hidden', acltype: 'nfsv4', context: 'none', fscontext: 'none', defcontext: 'none',
  rootcontext: 'none', relatime: 'on', redundant_metadata: 'all', overlay: 'on', encryption: 'off', keylocation: 'none',
  keyformat: 'none', pbkdf2iters: '0', special_small_blocks: '0', prefetch: 'all',
  // include/sys/fs/zfs.h ZVOL_DEFAULT_BLOCKSIZE (2.2).
  volblocksize: '16384',
}

/** The quota and reservation family: bytes, 0 (printed `none`) by default. */
export const SPACE_PROPS = new Set(['quota', 'refquota', 'reservation', 'refreservation'])
