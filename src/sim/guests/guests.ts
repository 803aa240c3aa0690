// The guest fixtures shipped with the simulator (src/sim/guests/README.md says where each
// detail comes from), and a generator of larger ones for the bench. Each is plain data in the
// format of format.ts (JSON.stringify of one is a fixture file `--disk` can read back).
import type {GuestFeature} from '../kernel/disks.js'
import type {FixtureDataset, FixtureDisk, FixtureFile, FixturePool, GuestFixture} from './format.js'

const GIB_SECTORS = 2 * 1024 * 1024

/**
 * bin/freebsd-version/freebsd-version.sh.in as a release build writes it: the
 * `USERLAND_VERSION="@@REVISION@@-@@BRANCH@@"` line filled in (newvers.sh); the rest of the
 * script abbreviated to what answers `freebsd-version -u`.
 */
/**
 * The empty directories every FreeBSD root has that a jail needs (etc/mtree/BSD.root.dist): the
 * mount points of devfs (mount.devfs), procfs, and the datasets bsdinstall puts below the root.
 */
export const ROOT_DIRS: FixtureFile[] = [
  {path: '/dev', type: 'dir', mode: '0555'}, {path: '/proc', type: 'dir', mode: '0555'}, {path: '/mnt', type: 'dir'}, {path: '/media', type: 'dir'},
  {path: '/root', type: 'dir', mode: '0750'}, {path: '/tmp', type: 'dir', mode: '1777'}, {path: '/var', type: 'dir'}, {path: '/usr', type: 'dir'},
]

export const freebsdVersion = (userland: string): FixtureFile => ({
  path: '/bin/freebsd-version', mode: '0555',
  text: [
    '#!/bin/sh', '#', '# SPDX-License-Identifier: BSD-2-Clause', '#', '', 'set -e', '', `USERLAND_VERSION="${userland}"`, '',
    ': ${ROOT:=}', ': ${LOADER_DIR:=$ROOT/boot/loader.conf}', ': ${KERNEL_NAME:=kernel}', '',
    'userland_version() {', '\techo $USERLAND_VERSION', '}', '',
    'main() {', '\tuserland_version', '}', '', 'main "$@"', '',
  ].join('\n'),
})

/** Features of a pool made by OpenZFS 2.2 (module/zcommon/zfeature_common.c guids; those a fresh pool makes active, abbreviated). */
const FEATURES_22: GuestFeature[] = [
  {guid: 'com.delphix:hole_birth'}, {guid: 'com.delphix:embedded_data'}, {guid: 'com.delphix:extensible_dataset'},
  {guid: 'org.zfsonlinux:large_dnode'}, {guid: 'com.delphix:spacemap_v2'}, {guid: 'com.delphix:log_spacemap'},
  {guid: 'org.illumos:lz4_compress'}, {guid: 'com.delphix:head_errlog'}, {guid: 'com.klarasystems:vdev_zaps_v2'},
]

/** Features OpenZFS 2.3/2.4 added that 2.2.7 does not know (zfs-2.4.0 zfeature_common.c). */
const FEATURES_24_NEW: GuestFeature[] = [
  {guid: 'org.zfsonlinux:longname', description: 'support filename up to 1024 bytes'},
  {guid: 'com.klarasystems:fast_dedup', description: 'Support for advanced deduplication', readonlyCompat: true},
]

/** share/examples/jails/jib (freebsd-src commit 3ce83dbf) as Bastille installs it, abbreviated to its header. */
const JIB_SCRIPT = '#!/bin/sh\n#-\n# Copyright (c) 2016 Devin Teske\n# All rights reserved.\n#\n############################################################ IDENT(1)\n#\n# $Title: if_bridge(4) management script for vnet jails $\n#\n'

const rcConf = (lines: string[]): FixtureFile => ({path: '/etc/rc.conf', text: `${lines.join('\n')}\n`})

/** The lines both of Bastille's jail.conf templates start with (create.sh), down to osrelease. */
const bastilleHead = (name: string, ruleset: number, release: string): string => `${name} {
  enforce_statfs = 2;
  devfs_ruleset = ${ruleset};
  exec.clean;
  exec.consolelog = /var/log/bastille/${name}_console.log;
  exec.start = '/bin/sh /etc/rc';
  exec.stop = '/bin/sh /etc/rc.shutdown';
  host.hostname = ${name};
  mount.devfs;
  mount.fstab = /usr/local/bastille/jails/${name}/fstab;
  path = /usr/local/bastille/jails/${name}/root;
  securelevel = 2;
  osrelease = "${release}";`

/**
 * Bastille's jail.conf for a classic jail (create.sh generate_jail_conf, IP4 on the shared
 * interface): `exec.consolelog = ${bastille_jail_log}`, create_jail's
 * `bastille_jail_log="${bastille_logsdir}/${NAME}_console.log"` (bastille_logsdir
 * /var/log/bastille, bastille.conf.sample).
 */
const bastilleClassic = (name: string, ip: string, release: string): string => `${bastilleHead(name, 4, release)}

  ip4.addr = vtnet0|${ip};
  
  ip6 = disable;
}
`

/** Bastille's jail.conf for a VNET jail (create.sh generate_vnet_jail_conf, lib/network.sh if_bridge "standard", no static MAC). */
const bastilleVnet = (name: string, ext: string, release: string): string => `${bastilleHead(name, 13, release)}

  vnet;
  vnet.interface = e0b_${name};
  exec.prestart += "jib addm ${name} ${ext}";
  exec.prestart += "ifconfig e0a_${name} description \\"vnet0 host interface for Bastille jail ${name}\\"";
  exec.poststop += "ifconfig e0a_${name} destroy";
}
`

export interface BsdinstallOptions {
  hostname: string
  guid: string
  hostid: number
  userland: string
  features: GuestFeature[]
  /** Add the zroot/bastille tree with web1 (classic) and app1 (VNET). */
  bastille: boolean
  /** Extra datasets below zroot/data (the bench): how many, with how many files each. */
  extraDatasets?: number
  filesPerDataset?: number
  /** Each extra file's size in bytes (its first line names it, the rest is padding); default: that line alone. */
  fileBytes?: number
}

/**
 * A bsdinstall ZFS guest's pool: usr.sbin/bsdinstall/scripts/zfsboot's default ZFSBOOT_DATASETS
 * (ROOT mountpoint=none; ROOT/default mountpoint=/ then canmount=noauto; home; tmp exec=on
 * setuid=off; usr mountpoint=/usr canmount=off; usr/ports setuid=off; usr/src; var
 * mountpoint=/var canmount=off; var/audit, var/crash, var/log exec=off setuid=off; var/mail
 * atime=on; var/tmp setuid=off), the pool root mountpoint=/zroot and bootfs ROOT/default.
 */
/** `line`, then `x`s and a newline up to `bytes` (line alone when it is as long already). */
const padded = (line: string, bytes = 0): string => (bytes <= line.length ? line : `${line}${'x'.repeat(bytes - line.length - 1)}\n`)

export function bsdinstallPool(o: BsdinstallOptions): FixturePool {
  const ds = (name: string, props: Record<string, string> = {}, files: FixtureFile[] = []): FixtureDataset => ({name, props, files})
  const release = o.userland.replace(/-p[0-9]+$/, '')
  const root: FixtureFile[] = [
    ...ROOT_DIRS,
    freebsdVersion(o.userland),
    {path: '/COPYRIGHT', text: 'Copyright (c) 1992-2025 The FreeBSD Project.\n'},
    rcConf([
      `hostname="${o.hostname}"`, 'ifconfig_vtnet0="inet 192.0.2.50/24"', 'defaultrouter="192.0.2.1"', 'sshd_enable="YES"',
      'zfs_enable="YES"', ...(o.bastille ? ['bastille_enable="YES"', 'bastille_list="web1 app1"'] : []),
    ]),
    // zfsboot: FSTAB_FMT "%s\t\t%s\t%s\t%s\t\t%s\t%s\n" for the swap and the ESP.
    {path: '/etc/fstab', text: '# Device\t\tMountpoint\tFStype\tOptions\t\tDump\tPass#\n/dev/gpt/efiboot0\t\t/boot/efi\tmsdosfs\trw\t\t2\t2\n/dev/vtbd0p3\t\tnone\tswap\tsw\t\t0\t0\n'},
    {path: '/boot/loader.conf', text: 'kern.geom.label.disk_ident.enable="0"\nkern.geom.label.gptid.enable="0"\nzfs_load="YES"\n'},
    {path: '/etc/hostid', text: `${o.hostid.toString(16).padStart(8, '0')}-0000-0000-0000-000000000000\n`},
    // lib/network.sh configure_vnet (bastille setup vnet): `install -m 0544
    // /usr/share/examples/jails/jib /usr/local/bin/jib` when jib is not on PATH; the jail.conf
    // hooks call it as `jib`. The script abbreviated to its header (the simulator runs its own jib).
    ...(o.bastille ? [{path: '/usr/local/bin/jib', mode: '0544', text: JIB_SCRIPT}] : []),
    ...(o.bastille ? [{
      path: '/usr/local/etc/bastille/bastille.conf',
      text: '#####################\n## [ BastilleBSD ] ##\n#####################\n\n## default paths\nbastille_prefix="/usr/local/bastille"                                 ## default: "/usr/local/bastille"\n\n## ZFS options\nbastille_zfs_enable="YES"                                             ## default: "NO"\nbastille_zfs_zpool="zroot"                                            ## default: ""\nbastille_zfs_prefix="bastille"                                        ## default: "bastille"\n',
    }] : []),
  ]
  const datasets: FixtureDataset[] = [
    ds('', {mountpoint: '/zroot', compression: 'lz4', atime: 'off'}),
    ds('ROOT', {mountpoint: 'none'}),
    ds('ROOT/default', {mountpoint: '/', canmount: 'noauto'}, root),
    ds('home', {mountpoint: '/home'}, [{path: '/admin/.profile', text: 'PATH=/bin:/usr/bin\n', mode: '0644', uid: 1001, gid: 1001}]),
    ds('tmp', {mountpoint: '/tmp', exec: 'on', setuid: 'off'}),
    ds('usr', {mountpoint: '/usr', canmount: 'off'}),
    ds('usr/ports', {setuid: 'off'}),
    ds('usr/src'),
    ds('var', {mountpoint: '/var', canmount: 'off'}),
    ds('var/audit', {exec: 'off', setuid: 'off'}),
    ds('var/crash', {exec: 'off', setuid: 'off'}),
    ds('var/log', {exec: 'off', setuid: 'off'}, [
      {path: '/messages', text: `Nov 14 09:30:00 ${o.hostname} syslogd: kernel boot file is /boot/kernel/kernel\n`},
      // bastille_logsdir, made by `bastille bootstrap`; each jail's console log from its last start.
      ...(o.bastille ? [{path: '/bastille', type: 'dir' as const}, {path: '/bastille/web1_console.log', text: ''}, {path: '/bastille/app1_console.log', text: ''}] : []),
    ]),
    ds('var/mail', {atime: 'on'}),
    ds('var/tmp', {setuid: 'off'}),
  ]
  if (o.bastille) {
    // Bastille keeps a jail's jail.conf and fstab in its own dataset jails/NAME, its tree in jails/NAME/root.
    // post_create_jail: a thin jail's fstab is `echo -e "${bastille_releasesdir}/${RELEASE}
    // ${bastille_jail_base} nullfs ro 0 0"`, bastille_jail_base its root's .bastille.
    const jailFiles = (name: string, conf: string): FixtureFile[] => [
      {path: '/jail.conf', text: conf}, {path: '/fstab', text: `/usr/local/bastille/releases/14.2-RELEASE /usr/local/bastille/jails/${name}/root/.bastille nullfs ro 0 0\n`},
    ]
    // create_jail copies the release's `.cshrc .profile COPYRIGHT dev etc media mnt net proc root
    // tmp var usr/obj usr/tests` into a thin jail's root (create.sh FILE_LIST): the mount points
    // mount.devfs needs are there.
    const jailRoot = (name: string, lines: string[]): FixtureFile[] => [...ROOT_DIRS, {path: '/.bastille', type: 'dir'}, freebsdVersion('14.2-RELEASE-p1'), rcConf([`hostname="${name}"`, ...lines])]
    datasets.push(
      ds('bastille', {mountpoint: '/usr/local/bastille'}),
      ds('bastille/jails'),
      ds('bastille/jails/web1', {}, jailFiles('web1', bastilleClassic('web1', '192.0.2.51/24', '14.2-RELEASE-p1'))),
      ds('bastille/jails/web1/root', {}, jailRoot('web1', ['sendmail_enable="NONE"'])),
      ds('bastille/jails/app1', {}, jailFiles('app1', bastilleVnet('app1', 'vtnet0', '14.2-RELEASE-p1'))),
      ds('bastille/jails/app1/root', {}, jailRoot('app1', ['ifconfig_e0b_app1_name="vnet0"', 'ifconfig_vnet0="inet 192.0.2.52/24"', 'defaultrouter="192.0.2.1"'])),
      ds('bastille/releases'),
      ds('bastille/releases/14.2-RELEASE', {}, [freebsdVersion(release === '14.2-RELEASE' ? o.userland : '14.2-RELEASE-p1')]),
    )
  }
  for (let i = 0; i < (o.extraDatasets ?? 0); i++) {
    if (i === 0) datasets.push(ds('data', {mountpoint: '/data'}))
    const files: FixtureFile[] = []
    for (let j = 0; j < (o.filesPerDataset ?? 0); j++) files.push({path: `/f${j}.txt`, text: padded(`dataset ${i} file ${j}\n`, o.fileBytes)})
    datasets.push(ds(`data/d${i}`, {}, files))
  }
  return {name: 'zroot', guid: o.guid, hostid: o.hostid, hostname: o.hostname, state: 'ACTIVE', txg: 48_211, timestamp: 1_731_576_600, features: o.features, bootfs: 'ROOT/default', datasets}
}

/**
 * bsdinstall's GPT on a 20G virtio disk (zfsboot, BIOS+UEFI): efi (label efiboot0, 260M),
 * freebsd-boot (gptboot0, 512K), freebsd-swap (swap0, 2G), freebsd-zfs (zfs0, the rest), 1M aligned.
 */
export function bsdinstallDisk(pool: FixturePool, name = 'disk0'): FixtureDisk {
  const sectors = 20 * GIB_SECTORS
  const last = sectors - 41
  return {
    name, sectors, gpt: {first: 40, last},
    parts: [
      {index: 1, type: 'efi', start: 40, size: 532_480, label: 'efiboot0'},
      {index: 2, type: 'freebsd-boot', start: 532_520, size: 1024, label: 'gptboot0'},
      {index: 3, type: 'freebsd-swap', start: 534_528, size: 2 * GIB_SECTORS, label: 'swap0'},
      {index: 4, type: 'freebsd-zfs', start: 4_728_832, size: 41_940_992 - 4_728_832, label: 'zfs0', pool},
    ],
  }
}

const bhyveConf = (disk: string, dev: string, mac: string, uuid: string): string => [
  'loader="bhyveload"', 'cpu=2', 'memory=2G', 'network0_type="virtio-net"', 'network0_switch="public"', `network0_mac="${mac}"`,
  'disk0_type="virtio-blk"', `disk0_name="${disk}"`, `disk0_dev="${dev}"`, `uuid="${uuid}"`, '',
].join('\n')

/** The GUID (a) and (c) share: (c) is a `vm clone` copy of the same disk. */
const BASTILLE_GUID = '1478204918239012389'

export const zfsBastille = (): GuestFixture => ({
  name: 'zfs-bastille',
  description: 'bsdinstall ZFS guest, 14.2-RELEASE-p1, with a zroot/bastille tree (web1 classic, app1 VNET), on a sparse zvol',
  conf: bhyveConf('disk0', 'sparse-zvol', '58:9c:fc:0a:1b:2c', '6f1c2a4e-7b3d-11ef-8e1a-589cfc0a1b2c'),
  disks: [bsdinstallDisk(bsdinstallPool({hostname: 'fbsd1.example.org', guid: BASTILLE_GUID, hostid: 0x5a3c_9e01, userland: '14.2-RELEASE-p1', features: FEATURES_22, bastille: true}))],
})

export const zfsClash = (): GuestFixture => ({
  name: 'zfs-clash',
  description: 'a vm clone of zfs-bastille: the same pool GUID, another hostname',
  conf: bhyveConf('disk0', 'sparse-zvol', '58:9c:fc:0d:4e:5f', '8a2d3b5f-7b3d-11ef-8e1a-589cfc0d4e5f'),
  disks: [bsdinstallDisk(bsdinstallPool({hostname: 'fbsd2.example.org', guid: BASTILLE_GUID, hostid: 0x7b4d_af02, userland: '14.2-RELEASE-p1', features: FEATURES_22, bastille: true}))],
})

export const zfsNewer = (): GuestFixture => ({
  name: 'zfs-newer',
  description: 'a 15.0-RELEASE guest whose pool uses features OpenZFS 2.2 does not know',
  conf: bhyveConf('disk0', 'sparse-zvol', '58:9c:fc:1a:2b:3c', '9b3e4c60-7b3d-11ef-8e1a-589cfc1a2b3c'),
  disks: [bsdinstallDisk(bsdinstallPool({hostname: 'fbsd15.example.org', guid: '9083416275519846611', hostid: 0x1c2d_3e04, userland: '15.0-RELEASE', features: [...FEATURES_22, ...FEATURES_24_NEW], bastille: false}))],
})

/**
 * The official VM image (release/tools/vmimage.subr): GPT freebsd-boot (bootfs), efi (efiesp),
 * freebsd-swap (swapfs), freebsd-ufs (rootfs) on a 10G file disk0.img, the geometry of the real
 * `gpart show` sample of migration.md §2.4 (a UFS root where it has freebsd-zfs).
 */
export const ufsVmimage = (): GuestFixture => ({
  name: 'ufs-vmimage',
  description: 'official FreeBSD 14.3-RELEASE VM image, UFS root, on a file disk0.img',
  conf: bhyveConf('disk0.img', 'file', '58:9c:fc:2b:3c:4d', 'ac4f5d71-7b3d-11ef-8e1a-589cfc2b3c4d'),
  disks: [{
    name: 'disk0.img', sectors: 10 * GIB_SECTORS, gpt: {first: 40, last: 10 * GIB_SECTORS - 41},
    parts: [
      {index: 1, type: 'freebsd-boot', start: 40, size: 1024, label: 'bootfs'},
      {index: 2, type: 'efi', start: 1064, size: 81_920, label: 'efiesp'},
      {index: 3, type: 'freebsd-swap', start: 82_984, size: 2_097_152, label: 'swapfs'},
      {
        index: 4, type: 'freebsd-ufs', start: 2_180_136, size: 16_777_216, label: 'rootfs',
        ufs: {
          clean: true,
          files: [
            ...ROOT_DIRS,
            freebsdVersion('14.3-RELEASE'),
            rcConf(['hostname="freebsd"', 'ifconfig_DEFAULT="DHCP inet6 accept_rtadv"', 'growfs_enable="YES"', 'sshd_enable="YES"']),
            {path: '/etc/fstab', text: '# Custom /etc/fstab for FreeBSD VM images\n/dev/gpt/rootfs   /       ufs     rw      1       1\n/dev/gpt/swapfs   none    swap    sw      0       0\n/dev/gpt/efiesp   /boot/efi       msdosfs     rw      2       2\n'},
            {path: '/firstboot', text: ''},
            {path: '/etc/master.passwd', text: 'root::0:0::0:0:Charlie &:/root:/bin/sh\n', mode: '0600'},
            {path: '/home', type: 'dir'},
            {path: '/usr/home', type: 'symlink', target: '../home'},
            {path: '/home/freebsd/notes.txt', text: 'hello\n', uid: 1001, gid: 1001, mode: '0640'},
            {path: '/home/freebsd/notes.link', type: 'hardlink', target: '/home/freebsd/notes.txt'},
            {path: '/sbin/init', text: '#!/bin/sh\n# init (simulated)\n', mode: '0555', flags: 'schg'},
          ],
        },
      },
    ],
  }],
})

/** The shipped fixtures by name. */
export const GUESTS: Record<string, () => GuestFixture> = {
  'zfs-bastille': zfsBastille,
  'ufs-vmimage': ufsVmimage,
  'zfs-clash': zfsClash,
  'zfs-newer': zfsNewer,
}

/** The bench's guest: zfs-bastille's layout plus N datasets of F files each below zroot/data, of fileBytes each when given. */
export function generateGuest(o: {datasets: number; files: number; fileBytes?: number; name?: string}): GuestFixture {
  const pool = bsdinstallPool({hostname: 'bench.example.org', guid: '5512397745311923941', hostid: 0x2e3f_4a05, userland: '14.2-RELEASE-p1', features: FEATURES_22, bastille: true, extraDatasets: o.datasets, filesPerDataset: o.files, ...(o.fileBytes === undefined ? {} : {fileBytes: o.fileBytes})})
  return {name: o.name ?? `generated-${o.datasets}x${o.files}${o.fileBytes === undefined ? '' : `x${o.fileBytes}`}`, description: `zfs-bastille plus ${o.datasets} datasets of ${o.files} files`, conf: zfsBastille().conf, disks: [bsdinstallDisk(pool)]}
}
