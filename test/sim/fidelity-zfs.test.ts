// zfs(8) fidelity, round 2 (issue 12): the quota and reservation family, the space and logical
// space statistics, creation's date, and `zfs get all`. Every rule names the OpenZFS 2.2.7 source
// it follows (FreeBSD 14.3 ships it in sys/contrib/openzfs); each test builds its own host.
import {readFileSync} from 'node:fs'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {parseZfsColumns} from '../../src/host/parse.js'
import {nicebytes, nicenum, zfsDate} from '../../src/sim/tools/zfs.js'
import {makeSim, type TestSim} from '../helpers/sim.js'

let sim: TestSim
beforeEach(async () => {
  sim = await makeSim()
})
afterEach(() => sim.cleanup())

const zfs = (...a: string[]) => sim.run('zfs', ...a)
const value = async (prop: string, ds: string, ...flags: string[]): Promise<string> =>
  (await zfs('get', '-H', ...flags, '-o', 'value', prop, ds)).stdout.trimEnd()
const G = 1024 ** 3
const M = 1024 ** 2

describe('numbers (lib/libzutil/zutil_nicenum.c zfs_nicenum_format)', () => {
  it('prints exact multiples bare, else the most decimals that fit five characters, ties to even', () => {
    expect([0, 512, 1024, 98_304, 2 * G].map(nicebytes)).toEqual(['0B', '512B', '1K', '96K', '2G'])
    // 1.125K is a tie at two decimals: printf's %.2f rounds the exact value to even.
    expect([1152, 1536, 10_239, 1_073_643_520, 1_000_000].map(nicebytes)).toEqual(['1.12K', '1.50K', '10.0K', '1024M', '977K'])
    // zfs_nicenum (logicalused, logicalreferenced, written, userrefs) has no unit below 1024.
    expect([0, 512, 98_304].map(nicenum)).toEqual(['0', '512', '96K'])
  })

  it('dates as strftime "%a %b %e %k:%M %Y" (creation) and with ":%S" (snapshots_changed)', () => {
    expect(zfsDate(1_760_000_000, false)).toBe('Thu Oct  9  8:53 2025')
    expect(zfsDate(1_764_629_220, false)).toBe('Mon Dec  1 22:47 2025')
    expect(zfsDate(1_764_629_229, true)).toBe('Mon Dec  1 22:47:09 2025')
  })
})

describe('quota, refquota, reservation, refreservation (libzfs_util.c zprop_parse_value, zfs_setprop_error)', () => {
  it('take sizes with suffixes, print none by default and the size where set, -p in bytes', async () => {
    expect((await zfs('set', 'quota=1.5G', 'refquota=512M', 'reserv=10m', 'refreservation=1MiB', 'zroot/home')).code).toBe(0)
    // VALUE is as wide as the widest fixed column of the list: REFRESERV (zprop_width).
    expect((await zfs('get', 'quota,refquota,reservation,refreservation', 'zroot/home')).stdout).toBe(
      'NAME        PROPERTY        VALUE      SOURCE\n' +
      'zroot/home  quota           1.50G      local\n' +
      'zroot/home  refquota        512M       local\n' +
      'zroot/home  reservation     10M        local\n' +
      'zroot/home  refreservation  1M         local\n',
    )
    expect(await value('quota', 'zroot/home', '-p')).toBe(String(1.5 * G))
    // Not inheritable (PROP_DEFAULT in zfs_prop.c): the child has its own default.
    expect((await zfs('create', 'zroot/home/u')).code).toBe(0)
    expect((await zfs('get', '-H', 'quota,refquota,reservation', 'zroot/home/u')).stdout).toBe(
      'zroot/home/u\tquota\tnone\tdefault\nzroot/home/u\trefquota\tnone\tdefault\nzroot/home/u\treservation\tnone\tdefault\n',
    )
    expect(await value('quota', 'zroot/home/u', '-p')).toBe('0')
    // `none` sets 0 locally: still `none`, now local.
    expect((await zfs('set', 'quota=none', 'zroot/home')).code).toBe(0)
    expect((await zfs('get', '-H', '-o', 'value,source', 'quota', 'zroot/home')).stdout).toBe('none\tlocal\n')
  })

  it('refuse what libzfs refuses, exit 255 (set_callback -1 through zfs_for_each)', async () => {
    const set = (pv: string) => zfs('set', pv, 'zroot/home')
    const e = (why: string) => ({code: 255, stdout: '', stderr: `cannot set property for 'zroot/home': ${why}\n`})
    expect(await set('quota=0')).toEqual(e("use 'none' to disable quota/refquota"))
    expect(await set('refquota=0')).toEqual(e("use 'none' to disable quota/refquota"))
    expect(await set('quota=abc')).toEqual(e("bad numeric value 'abc'"))
    expect(await set('quota=-1G')).toEqual(e("bad numeric value '-1G'"))
    expect(await set('quota=10Q')).toEqual(e("invalid numeric suffix 'Q'"))
    expect(await set('quota=10GBB')).toEqual(e("invalid numeric suffix 'GBB'"))
    expect(await set('quota=1BB')).toEqual(e("invalid numeric suffix 'BB'"))
    expect(await set('quota=1Z')).toEqual(e('numeric value is too large'))
    expect(await set('quota=auto')).toEqual(e("'auto' is invalid value for 'quota'"))
    expect(await set('refreservation=auto')).toEqual(e("'refreservation=auto' only allowed on volumes"))
    expect(await set('used=1G')).toEqual(e("'used' is readonly"))
    expect(await set('lrefer=1G')).toEqual(e("'lrefer' is readonly"))
    expect(await set('frobnicate=1')).toEqual(e("invalid property 'frobnicate'"))
    expect((await zfs('snapshot', 'zroot/home@s')).code).toBe(0)
    expect(await zfs('set', 'quota=1G', 'zroot/home@s')).toEqual({code: 255, stdout: '', stderr: "cannot set property for 'zroot/home@s': 'quota' does not apply to datasets of this type\n"})
    // Nothing changed.
    expect(await value('quota', 'zroot/home')).toBe('none')
  })

  it('check the space as the kernel does: ENOSPC words of zfs_setprop_error', async () => {
    const e = (ds: string, why: string) => ({code: 255, stdout: '', stderr: `cannot set property for '${ds}': ${why}\n`})
    // dsl_dir_set_quota_check: below what is used (96K here).
    expect(await zfs('set', 'quota=64K', 'zroot/home')).toEqual(e('zroot/home', 'size is less than current used or reserved space'))
    // dsl_dataset_set_refquota_check: below what is referenced.
    expect(await zfs('set', 'refquota=64K', 'zroot/home')).toEqual(e('zroot/home', 'size is less than current used or reserved space'))
    // ... or below the reservation.
    expect((await zfs('set', 'reservation=10M', 'zroot/home')).code).toBe(0)
    expect(await zfs('set', 'quota=5M', 'zroot/home')).toEqual(e('zroot/home', 'size is less than current used or reserved space'))
    // dsl_dir_set_reservation_check: more than the parent has, or more than the quota.
    expect(await zfs('set', 'reservation=300G', 'zroot/home')).toEqual(e('zroot/home', 'size is greater than available space'))
    expect((await zfs('set', 'quota=20M', 'zroot/home')).code).toBe(0)
    expect(await zfs('set', 'reservation=30M', 'zroot/home')).toEqual(e('zroot/home', 'size is greater than available space'))
    // dsl_dataset_set_refreservation_check: more than the refquota.
    expect((await zfs('set', 'refquota=2M', 'zroot/tmp')).code).toBe(0)
    expect(await zfs('set', 'refreservation=3M', 'zroot/tmp')).toEqual(e('zroot/tmp', 'size is greater than available space'))
    // zfs create -o: the kernel's refusal is zfs_standard_error's ENOSPC (libzfs_dataset.c zfs_create).
    expect(await zfs('create', '-o', 'quota=1K', 'zroot/q')).toEqual({code: 1, stdout: '', stderr: "cannot create 'zroot/q': out of space\n"})
    expect(sim.kernel().datasets.some((d) => d.name === 'zroot/q')).toBe(false)
    expect((await zfs('create', '-o', 'quota=1G', '-o', 'refreserv=1M', 'zroot/q')).code).toBe(0)
    expect((await zfs('get', '-H', '-o', 'property,value,source', 'quota,refreservation', 'zroot/q')).stdout).toBe('quota\t1G\tlocal\nrefreservation\t1M\tlocal\n')
  })

  it('bound used and available as dsl_dir.c and dsl_dataset.c account them', async () => {
    const before = Number(await value('available', 'zroot', '-p'))
    // A reservation counts in the parent's usedbychildren and leaves the pool.
    expect((await zfs('set', 'reservation=10M', 'zroot/home')).code).toBe(0)
    expect(Number(await value('available', 'zroot', '-p'))).toBe(before - (10 * M - 98_304))
    // Its owner may use it on top of what the parent leaves (dsl_dir_space_available).
    expect(Number(await value('available', 'zroot/home', '-p'))).toBe(before)
    // A quota bounds the dataset's available space: quota - used.
    expect((await zfs('set', 'quota=1G', 'zroot/home')).code).toBe(0)
    expect(await value('available', 'zroot/home', '-p')).toBe(String(G - 98_304))
    expect(await value('available', 'zroot/home')).toBe('1024M')
    // refquota bounds it by what it refers to (dsl_get_available).
    expect((await zfs('set', 'refquota=1M', 'zroot/home')).code).toBe(0)
    expect(await value('available', 'zroot/home', '-p')).toBe(String(M - 98_304))
    // An unused refreservation is used by the dataset itself (usedbyrefreservation).
    expect((await zfs('set', 'refreservation=512K', 'zroot/tmp')).code).toBe(0)
    expect((await zfs('get', '-Hp', '-o', 'property,value', 'used,usedbydataset,usedbyrefreservation', 'zroot/tmp')).stdout).toBe(
      `used\t${512 * 1024}\nusedbydataset\t98304\nusedbyrefreservation\t${512 * 1024 - 98_304}\n`,
    )
  })
})

describe('the space statistics and their names (zfs_prop.c, zprop_common.c propname_match)', () => {
  it('answer to their column names: lused, lrefer, avail, refer, usedds, reserv, refreserv', async () => {
    expect((await zfs('get', '-H', '-o', 'property', 'lused,lrefer,avail,refer,usedds,usedsnap,usedchild,usedrefreserv,reserv,refreserv,ratio,refratio', 'zroot/home')).stdout)
      .toBe(['logicalused', 'logicalreferenced', 'available', 'referenced', 'usedbydataset', 'usedbysnapshots', 'usedbychildren',
        'usedbyrefreservation', 'reservation', 'refreservation', 'compressratio', 'refcompressratio'].map((p) => `${p}\n`).join(''))
    // logical sizes print with zfs_nicenum (no B), the others with zfs_nicebytes.
    expect((await zfs('list', '-o', 'name,used,lused,refer,lrefer,usedchild', 'zroot/home')).stdout).toBe(
      'NAME         USED  LUSED  REFER  LREFER  USEDCHILD\nzroot/home    96K    96K    96K     96K         0B\n',
    )
    expect((await zfs('list', '-Hp', '-o', 'name,lused,lrefer', 'zroot/home')).stdout).toBe('zroot/home\t98304\t98304\n')
  })

  it('the real `zfs list -H -o name,used,...,lrefer` sample reads the same way (openzfs/zfs#17938)', async () => {
    const real = readFileSync(new URL('../fixtures/freebsd-outputs/zfs/zfs-list-H-and-Hp-dash-values-freebsd14.3.txt', import.meta.url), 'utf8')
    const header = real.split('\n')[0] as string
    const cols = (/-o (\S+)/.exec(header)?.[1] ?? '').split(',')
    const r = await zfs('list', '-H', '-o', cols.join(','), 'zroot/home')
    expect(r.stdout).toBe('zroot/home\t96K\t96K\t0B\t0B\t0B\t96K\n')
    expect(parseZfsColumns(r.stdout, cols)._unsafeUnwrap()).toEqual([
      {name: 'zroot/home', used: '96K', usedbydataset: '96K', usedbyrefreservation: '0B', usedbysnapshots: '0B', usedbychildren: '0B', lrefer: '96K'},
    ])
  })

  it('a snapshot refers to its dataset, uses nothing, and has no available space', async () => {
    expect((await zfs('snapshot', 'zroot/home@s')).code).toBe(0)
    expect((await zfs('list', '-t', 'snapshot', '-o', 'name,used,avail,refer,lrefer', 'zroot/home@s')).stdout).toBe(
      'NAME           USED  AVAIL  REFER  LREFER\nzroot/home@s     0B      -    96K     96K\n',
    )
  })

  it('written exists after a snapshot, snapshots_changed after a snapshot is made or destroyed', async () => {
    const get = async () => (await zfs('get', '-H', '-o', 'property,value', 'all', 'zroot/home')).stdout
    expect(await get()).not.toMatch(/^written|^snapshots_changed/m)
    expect((await zfs('snapshot', 'zroot/home@s')).code).toBe(0)
    const after = await get()
    expect(after).toMatch(/^written\t0$/m)
    const changed = /^snapshots_changed\t(.*)$/m.exec(after)?.[1] ?? ''
    expect(changed).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3]\d [ 12]\d:\d\d:\d\d \d{4}$/)
    const secs = Number(await value('snapshots_changed', 'zroot/home', '-p'))
    expect(zfsDate(secs, true)).toBe(changed)
    expect((await zfs('destroy', 'zroot/home@s')).code).toBe(0)
    expect(Number(await value('snapshots_changed', 'zroot/home', '-p'))).toBeGreaterThan(secs)
  })

  it('creation is a date, -p seconds since the epoch', async () => {
    expect((await zfs('create', 'zroot/c')).code).toBe(0)
    const secs = Number(await value('creation', 'zroot/c', '-p'))
    expect(await value('creation', 'zroot/c')).toBe(zfsDate(secs, false))
    expect((await zfs('get', 'creation', 'zroot/c')).stdout).toBe(`NAME     PROPERTY  VALUE                  SOURCE\nzroot/c  creation  ${zfsDate(secs, false)}  -\n`)
  })
})

describe('zfs get all (zfs_main.c zfs_do_get, libzfs_util.c zprop_expand_list, zprop_print_headers)', () => {
  // zfs_prop_t order (include/sys/fs/zfs.h), visible properties that a filesystem has a value for.
  const FS = ['type', 'creation', 'used', 'available', 'referenced', 'compressratio', 'mounted', 'quota', 'reservation',
    'recordsize', 'mountpoint', 'sharenfs', 'checksum', 'compression', 'atime', 'devices', 'exec', 'setuid', 'readonly',
    'jailed', 'snapdir', 'aclmode', 'aclinherit', 'createtxg', 'canmount', 'xattr', 'copies', 'version', 'utf8only',
    'normalization', 'casesensitivity', 'vscan', 'nbmand', 'sharesmb', 'refquota', 'refreservation', 'guid',
    'primarycache', 'secondarycache', 'usedbysnapshots', 'usedbydataset', 'usedbychildren', 'usedbyrefreservation',
    'logbias', 'objsetid', 'dedup', 'mlslabel', 'sync', 'dnodesize', 'refcompressratio', 'logicalused',
    'logicalreferenced', 'volmode', 'filesystem_limit', 'snapshot_limit', 'filesystem_count', 'snapshot_count',
    'snapdev', 'acltype', 'context', 'fscontext', 'defcontext', 'rootcontext', 'relatime', 'redundant_metadata',
    'overlay', 'encryption', 'keylocation', 'keyformat', 'pbkdf2iters', 'special_small_blocks', 'prefetch']

  it('lists the native properties by number, then the user properties, with their sources', async () => {
    expect((await zfs('set', 'nest:name=web', 'zroot/home')).code).toBe(0)
    expect((await zfs('set', 'nest:policy=parent', 'zroot')).code).toBe(0)
    const rows = (await zfs('get', '-H', 'all', 'zroot/home')).stdout.trimEnd().split('\n').map((l) => l.split('\t'))
    expect(rows.map((r) => r[1])).toEqual([...FS, 'nest:name', 'nest:policy'])
    const src = Object.fromEntries(rows.map((r) => [r[1], `${r[2]} ${r[3]}`]))
    expect(src).toMatchObject({
      type: 'filesystem -', used: '96K -', mounted: 'yes -', quota: 'none default', recordsize: '128K default',
      mountpoint: '/home local', compression: 'lz4 inherited from zroot', atime: 'off inherited from zroot',
      checksum: 'on default', version: '5 -', casesensitivity: 'sensitive -', acltype: 'nfsv4 default',
      logicalused: '96K -', filesystem_limit: 'none default', 'nest:name': 'web local', 'nest:policy': 'parent inherited from zroot',
    })
  })

  it('pads as zprop_print_headers: NAME, PROPERTY of the longest listed name, VALUE of the widest entry', async () => {
    const lines = (await zfs('get', 'all', 'zroot/home')).stdout.split('\n')
    // PROPERTY: 20 (usedbyrefreservation, receive_resume_token); VALUE: 21 (creation's date is
    // wider than SPECIAL_SMALL_BLOCKS, the widest fixed column).
    expect(lines[0]).toBe(`${'NAME'.padEnd(10)}  ${'PROPERTY'.padEnd(20)}  ${'VALUE'.padEnd(21)}  SOURCE`)
    expect(lines[3]).toBe(`zroot/home  ${'used'.padEnd(20)}  ${'96K'.padEnd(21)}  -`)
    // A single property: its own widths (VALUE at least 5, a number's column at least 5).
    expect((await zfs('get', 'used', 'zroot/home')).stdout).toBe('NAME        PROPERTY  VALUE  SOURCE\nzroot/home  used      96K    -\n')
    // An index's width is its longest name (compression: zstd-fast-1000).
    expect((await zfs('get', 'compression', 'zroot/home')).stdout).toBe(
      'NAME        PROPERTY     VALUE           SOURCE\nzroot/home  compression  lz4             inherited from zroot\n',
    )
  })

  it('lays a row out as the real `zfs get all` row (zap#8): PROPERTY and VALUE padded to the widest', async () => {
    // The real row: a 22-character PROPERTY column (a user property that long, iocage's
    // org.freebsd.ioc:active) and a 32-character VALUE column. The same widths here give the same row.
    const real = readFileSync(new URL('../fixtures/freebsd-outputs/zfs/zfs-get-row-jailed-on-local.txt', import.meta.url), 'utf8').trimEnd()
    const ds = 'zroot/iocage/jails/homeBackup/data'
    const mp = `/m/${'x'.repeat(29)}`
    expect((await zfs('create', '-p', '-o', 'jailed=on', '-o', `mountpoint=${mp}`, ds)).code).toBe(0)
    expect((await zfs('set', 'org.freebsd.ioc:active=yes', ds)).code).toBe(0)
    const rows = (await zfs('get', 'all', ds)).stdout.split('\n')
    const row = rows.find((l) => / jailed /.test(l))
    // NAME is as wide as the one name, so only the name differs.
    expect(row).toBe(real.replace('iocage/iocage/jails/homeBackup/data', ds))
  })

  it('a snapshot lists only what applies to it; a clone its origin, its snapshot the clones', async () => {
    expect((await zfs('snapshot', 'zroot/home@s')).code).toBe(0)
    expect((await zfs('clone', 'zroot/home@s', 'zroot/c')).code).toBe(0)
    const props = async (ds: string) => (await zfs('get', '-H', '-o', 'property', 'all', ds)).stdout.trimEnd().split('\n')
    expect(await props('zroot/home@s')).toEqual(['type', 'creation', 'used', 'referenced', 'compressratio', 'devices', 'exec',
      'setuid', 'createtxg', 'xattr', 'version', 'utf8only', 'normalization', 'casesensitivity', 'nbmand', 'guid',
      'primarycache', 'secondarycache', 'defer_destroy', 'userrefs', 'objsetid', 'mlslabel', 'refcompressratio',
      'clones', 'logicalreferenced', 'acltype', 'context', 'fscontext', 'defcontext', 'rootcontext', 'encryption', 'prefetch'])
    expect(await value('clones', 'zroot/home@s')).toBe('zroot/c')
    expect(await value('origin', 'zroot/c')).toBe('zroot/home@s')
    expect((await props('zroot/c')).slice(0, 8)).toEqual(['type', 'creation', 'used', 'available', 'referenced', 'compressratio', 'mounted', 'origin'])
    // Named explicitly, what does not apply is `-` with source `-`.
    expect((await zfs('get', '-H', 'origin,available,mountpoint', 'zroot/home@s')).stdout).toBe(
      'zroot/home@s\torigin\t-\t-\nzroot/home@s\tavailable\t-\t-\nzroot/home@s\tmountpoint\t-\t-\n',
    )
  })

  it('-s keeps the sources asked for, -o the columns (received is `-`), bad ones are usage errors', async () => {
    expect((await zfs('get', '-H', '-s', 'local', '-o', 'property,value', 'all', 'zroot/home')).stdout).toBe('mountpoint\t/home\n')
    expect((await zfs('get', '-H', '-s', 'inherited', '-o', 'property,source', 'all', 'zroot/home')).stdout).toBe(
      'compression\tinherited from zroot\natime\tinherited from zroot\n',
    )
    expect((await zfs('get', '-o', 'all', 'used', 'zroot/home')).stdout).toBe(
      'NAME        PROPERTY  VALUE  RECEIVED  SOURCE\nzroot/home  used      96K    -         -\n',
    )
    // No row, no header.
    expect((await zfs('get', '-s', 'received', 'all', 'zroot/home')).stdout).toBe('')
    const bad = await zfs('get', '-s', 'bogus', 'all', 'zroot/home')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^invalid source 'bogus'\nusage:\n\tget \[-rHp\]/)
    const col = await zfs('get', '-o', 'name,bogus', 'used', 'zroot/home')
    expect([col.code, col.stderr.split('\n')[0]]).toEqual([2, "invalid column name 'bogus'"])
    const prop = await zfs('get', 'bogus', 'zroot/home')
    expect([prop.code, prop.stderr.split('\n')[0]]).toEqual([2, "bad property list: invalid property 'bogus'"])
    // usage(B_FALSE) lists the properties: read-only ones first, each group sorted (usage_prop_cb).
    // "\t%-15s " then " NO    " or "YES    ", then "  YES   " or "   NO   ", then the values.
    expect(prop.stderr).toContain('\n\tPROPERTY       EDIT  INHERIT   VALUES\n\n\tavailable        NO       NO   <size>\n')
    expect(prop.stderr).toContain('\tquota           YES       NO   <size> | none\n')
    expect(prop.stderr).toContain('\tjailed          YES      YES   on | off\n')
    expect(prop.stderr).toContain('\tuserquota@...   YES       NO   <size> | none\n')
  })

  it('-t snapshot with a dataset lists its snapshots (zfs_do_get: depth 1)', async () => {
    expect((await zfs('snapshot', 'zroot/home@a')).code).toBe(0)
    expect((await zfs('snapshot', 'zroot/home@b')).code).toBe(0)
    expect((await zfs('get', '-H', '-t', 'snapshot', '-o', 'name,value', 'type', 'zroot/home')).stdout).toBe('zroot/home@a\tsnapshot\nzroot/home@b\tsnapshot\n')
  })

  it('zfs set parses its arguments as zfs_do_set does', async () => {
    const first = async (...a: string[]) => {
      const r = await zfs('set', ...a)
      return [r.code, r.stderr.split('\n')[0]]
    }
    expect(await first()).toEqual([2, 'missing arguments'])
    expect(await first('quota=1G')).toEqual([2, 'missing dataset name(s)'])
    expect(await first('zroot/home')).toEqual([2, 'missing property=value argument(s)'])
    expect(await first('quota=1G', 'zroot/home', 'atime=on')).toEqual([2, 'invalid argument order'])
    expect(await first('quota=1G', 'quota=2G', 'zroot/home')).toEqual([255, "property 'quota' specified multiple times"])
    expect(await first('quota=1G', 'zroot/nope')).toEqual([1, "cannot open 'zroot/nope': dataset does not exist"])
    // A failure on one dataset stops nothing on the others; the status ORs -1 in (255).
    const r = await zfs('set', 'quota=64K', 'zroot/nope', 'zroot/home', 'zroot/ROOT/default')
    expect(r).toEqual({code: 255, stdout: '', stderr: "cannot open 'zroot/nope': dataset does not exist\n"
      + "cannot set property for 'zroot/home': size is less than current used or reserved space\n"
      + "cannot set property for 'zroot/ROOT/default': size is less than current used or reserved space\n"})
    expect((await zfs('set', 'quota=1M', 'zroot/nope', 'zroot/home')).code).toBe(1)
    expect(await value('quota', 'zroot/home')).toBe('1M')
    // zfs_set_prop_nvlist sets what it can and reports each refusal.
    expect(await zfs('set', 'refquota=1K', 'atime=on', 'reservation=300G', 'zroot/home')).toEqual({code: 255, stdout: '',
      stderr: "cannot set property for 'zroot/home': size is less than current used or reserved space\n"
        + "cannot set property for 'zroot/home': size is greater than available space\n"})
    expect(await value('atime', 'zroot/home')).toBe('on')
    // A quota or reservation refused in order is tried again after the others.
    expect((await zfs('set', 'quota=none', 'reservation=10M', 'zroot/tmp')).code).toBe(0)
    expect((await zfs('set', 'quota=5M', 'reservation=none', 'zroot/tmp')).code).toBe(0)
    expect((await zfs('get', '-H', '-o', 'value', 'quota,reservation', 'zroot/tmp')).stdout).toBe('5M\nnone\n')
    // Several datasets, several properties.
    expect((await zfs('set', 'quota=1G', 'atime=on', 'zroot/home', 'zroot/tmp')).code).toBe(0)
    expect((await zfs('get', '-H', '-o', 'name,property,value,source', 'quota,atime', 'zroot/home', 'zroot/tmp')).stdout).toBe(
      'zroot/home\tquota\t1G\tlocal\nzroot/home\tatime\ton\tlocal\nzroot/tmp\tquota\t1G\tlocal\nzroot/tmp\tatime\ton\tlocal\n',
    )
  })

  it('refuses what the model does not act on, loudly', async () => {
    expect(await zfs('set', 'recordsize=1M', 'zroot/home')).toEqual({code: 69, stdout: '', stderr: 'sim: zfs: zfs set recordsize: not simulated\n'})
    expect((await zfs('get', 'userused@root', 'zroot/home')).code).toBe(69)
    expect((await zfs('get', 'numclones', 'zroot/home')).code).toBe(69)
  })
})

describe('nest still reads zfs (src/host/parse.ts parseZfsColumns)', () => {
  it('reads its `zfs list -H -p` columns with quotas set', async () => {
    expect((await zfs('set', 'quota=1G', 'nest:name=web', 'zroot/home')).code).toBe(0)
    const cols = ['name', 'type', 'mountpoint', 'mounted', 'jailed', 'origin', 'nest:name']
    const r = await zfs('list', '-H', '-p', '-r', '-t', 'filesystem,snapshot', '-o', cols.join(','), 'zroot/home')
    expect(parseZfsColumns(r.stdout, cols)._unsafeUnwrap()).toEqual([
      {name: 'zroot/home', type: 'filesystem', mountpoint: '/home', mounted: 'yes', jailed: 'off', origin: '-', 'nest:name': 'web'},
    ])
  })
})
