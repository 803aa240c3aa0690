// AuditFacts for tests, built from what the simulated host really prints for the tree the
// issue's checker makes:
//   nest bootstrap 14.3-RELEASE && nest create p --policy vm-parent && nest create p/a && nest create p/b
// JLS is that host's `jls --libxo json -n`, MOUNTS its `mount -p`, P_CONF and A_CONF the
// jail.conf files nest wrote (/etc/jail.conf.d/p.conf, and a.conf in p's root; b.conf is a.conf
// with b for a), DATASETS its `zfs get -Hp -r` of zroot/nest/jails (written added: the sim
// printed "-" for it when this was taken). Each test gets a fresh copy and changes what it needs.
import type {AuditFacts, ConfigFacts, JailFacts, MountFacts, ZfsFacts} from '../../src/audit/facts.js'
import {parseJlsJson} from '../../src/host/parse.js'
import {parseConfig, resolveConfig} from '../../src/jailconf/index.js'

export const JLS = "{\"__version\": \"2\", \"jail-information\": {\"jail\": [{\"devfs_ruleset\":\"4\",\"dying\":false,\"enforce_statfs\":\"1\",\"host\":\"new\",\"ip4\":\"inherit\",\"ip6\":\"inherit\",\"jid\":\"1\",\"name\":\"p\",\"osreldate\":\"1403000\",\"osrelease\":\"14.3-RELEASE\",\"parent\":\"0\",\"path\":\"/nest/jails/p/root\",\"persist\":true,\"securelevel\":\"1\",\"sysvmsg\":\"new\",\"sysvsem\":\"new\",\"sysvshm\":\"new\",\"vnet\":\"inherit\",\"allow.adjtime\":false,\"allow.chflags\":true,\"allow.extattr\":false,\"allow.mlock\":false,\"allow.mount\":true,\"allow.mount.devfs\":true,\"allow.mount.fdescfs\":true,\"allow.mount.fusefs\":false,\"allow.mount.linprocfs\":true,\"allow.mount.linsysfs\":false,\"allow.mount.nullfs\":true,\"allow.mount.procfs\":true,\"allow.mount.tmpfs\":true,\"allow.mount.zfs\":true,\"allow.nfsd\":false,\"allow.quotas\":false,\"allow.raw_sockets\":true,\"allow.read_msgbuf\":false,\"allow.reserved_ports\":true,\"allow.set_hostname\":true,\"allow.settime\":false,\"allow.socket_af\":true,\"allow.suser\":true,\"allow.sysvipc\":true,\"allow.unprivileged_proc_debug\":true,\"allow.vmm\":false,\"children.cur\":\"2\",\"children.max\":\"256\",\"cpuset.id\":\"2\",\"host.domainname\":\"\",\"host.hostid\":\"0\",\"host.hostname\":\"p\",\"host.hostuuid\":\"00000000-0000-0000-0000-000000000000\", \"ip4.addr\": [],\"ip4.saddrsel\":true, \"ip6.addr\": [],\"ip6.saddrsel\":true,\"zfs.mount_snapshot\":\"0\"}, {\"devfs_ruleset\":\"4\",\"dying\":false,\"enforce_statfs\":\"1\",\"host\":\"new\",\"ip4\":\"inherit\",\"ip6\":\"inherit\",\"jid\":\"2\",\"name\":\"p.a\",\"osreldate\":\"1403000\",\"osrelease\":\"14.3-RELEASE\",\"parent\":\"1\",\"path\":\"/nest/jails/p/root/data/jails/a/root\",\"persist\":true,\"securelevel\":\"1\",\"sysvmsg\":\"disable\",\"sysvsem\":\"disable\",\"sysvshm\":\"disable\",\"vnet\":\"inherit\",\"allow.adjtime\":false,\"allow.chflags\":false,\"allow.extattr\":false,\"allow.mlock\":false,\"allow.mount\":true,\"allow.mount.devfs\":true,\"allow.mount.fdescfs\":false,\"allow.mount.fusefs\":false,\"allow.mount.linprocfs\":false,\"allow.mount.linsysfs\":false,\"allow.mount.nullfs\":true,\"allow.mount.procfs\":false,\"allow.mount.tmpfs\":true,\"allow.mount.zfs\":true,\"allow.nfsd\":false,\"allow.quotas\":false,\"allow.raw_sockets\":false,\"allow.read_msgbuf\":false,\"allow.reserved_ports\":true,\"allow.set_hostname\":true,\"allow.settime\":false,\"allow.socket_af\":false,\"allow.suser\":true,\"allow.sysvipc\":false,\"allow.unprivileged_proc_debug\":true,\"allow.vmm\":false,\"children.cur\":\"0\",\"children.max\":\"16\",\"cpuset.id\":\"3\",\"host.domainname\":\"\",\"host.hostid\":\"0\",\"host.hostname\":\"a\",\"host.hostuuid\":\"00000000-0000-0000-0000-000000000000\", \"ip4.addr\": [],\"ip4.saddrsel\":true, \"ip6.addr\": [],\"ip6.saddrsel\":true,\"zfs.mount_snapshot\":\"0\"}, {\"devfs_ruleset\":\"4\",\"dying\":false,\"enforce_statfs\":\"1\",\"host\":\"new\",\"ip4\":\"inherit\",\"ip6\":\"inherit\",\"jid\":\"3\",\"name\":\"p.b\",\"osreldate\":\"1403000\",\"osrelease\":\"14.3-RELEASE\",\"parent\":\"1\",\"path\":\"/nest/jails/p/root/data/jails/b/root\",\"persist\":true,\"securelevel\":\"1\",\"sysvmsg\":\"disable\",\"sysvsem\":\"disable\",\"sysvshm\":\"disable\",\"vnet\":\"inherit\",\"allow.adjtime\":false,\"allow.chflags\":false,\"allow.extattr\":false,\"allow.mlock\":false,\"allow.mount\":true,\"allow.mount.devfs\":true,\"allow.mount.fdescfs\":false,\"allow.mount.fusefs\":false,\"allow.mount.linprocfs\":false,\"allow.mount.linsysfs\":false,\"allow.mount.nullfs\":true,\"allow.mount.procfs\":false,\"allow.mount.tmpfs\":true,\"allow.mount.zfs\":true,\"allow.nfsd\":false,\"allow.quotas\":false,\"allow.raw_sockets\":false,\"allow.read_msgbuf\":false,\"allow.reserved_ports\":true,\"allow.set_hostname\":true,\"allow.settime\":false,\"allow.socket_af\":false,\"allow.suser\":true,\"allow.sysvipc\":false,\"allow.unprivileged_proc_debug\":true,\"allow.vmm\":false,\"children.cur\":\"0\",\"children.max\":\"16\",\"cpuset.id\":\"4\",\"host.domainname\":\"\",\"host.hostid\":\"0\",\"host.hostname\":\"b\",\"host.hostuuid\":\"00000000-0000-0000-0000-000000000000\", \"ip4.addr\": [],\"ip4.saddrsel\":true, \"ip6.addr\": [],\"ip6.saddrsel\":true,\"zfs.mount_snapshot\":\"0\"}]}}"

export const MOUNTS = `zroot/ROOT/default	/			zfs	rw,noatime,nfsv4acls 	0 0
devfs			/dev			devfs	rw		0 0
zroot			/zroot			zfs	rw,noatime,nfsv4acls 	0 0
zroot/home		/home			zfs	rw,noatime,nfsv4acls 	0 0
zroot/tmp		/tmp			zfs	rw,nosuid,noatime,nfsv4acls 	0 0
zroot/usr/ports		/usr/ports		zfs	rw,nosuid,noatime,nfsv4acls 	0 0
zroot/usr/src		/usr/src		zfs	rw,noatime,nfsv4acls 	0 0
zroot/var/audit		/var/audit		zfs	rw,noexec,nosuid,noatime,nfsv4acls 	0 0
zroot/var/crash		/var/crash		zfs	rw,noexec,nosuid,noatime,nfsv4acls 	0 0
zroot/var/log		/var/log		zfs	rw,noexec,nosuid,noatime,nfsv4acls 	0 0
zroot/var/mail		/var/mail		zfs	rw,nfsv4acls 	0 0
zroot/var/tmp		/var/tmp		zfs	rw,nosuid,noatime,nfsv4acls 	0 0
zroot/nest		/nest			zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/releases	/nest/releases		zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/jails	/nest/jails		zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/releases/14.3-RELEASE /nest/releases/14.3-RELEASE zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/jails/p	/nest/jails/p		zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/jails/p/root	/nest/jails/p/root	zfs	rw,noatime,nfsv4acls 	0 0
/usr/local/libexec/nest	/nest/jails/p/root/usr/local/libexec/nest nullfs	ro,noatime,nfsv4acls 	0 0
devfs			/nest/jails/p/root/dev	devfs	rw		0 0
zroot/nest/jails/p/data	/nest/jails/p/root/data	zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/jails/p/data/jails /nest/jails/p/root/data/jails zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/jails/p/data/jails/a /nest/jails/p/root/data/jails/a zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/jails/p/data/jails/a/root /nest/jails/p/root/data/jails/a/root zfs	rw,noatime,nfsv4acls 	0 0
/usr/local/libexec/nest	/nest/jails/p/root/data/jails/a/root/usr/local/libexec/nest nullfs	ro,noatime,nfsv4acls 	0 0
devfs			/nest/jails/p/root/data/jails/a/root/dev devfs	rw		0 0
zroot/nest/jails/p/delegated/a /nest/jails/p/root/data/jails/a/root/data zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/jails/p/data/jails/b /nest/jails/p/root/data/jails/b zfs	rw,noatime,nfsv4acls 	0 0
zroot/nest/jails/p/data/jails/b/root /nest/jails/p/root/data/jails/b/root zfs	rw,noatime,nfsv4acls 	0 0
/usr/local/libexec/nest	/nest/jails/p/root/data/jails/b/root/usr/local/libexec/nest nullfs	ro,noatime,nfsv4acls 	0 0
devfs			/nest/jails/p/root/data/jails/b/root/dev devfs	rw		0 0
zroot/nest/jails/p/delegated/b /nest/jails/p/root/data/jails/b/root/data zfs	rw,noatime,nfsv4acls 	0 0`

export const P_CONF = `# Written by nest for p (policy vm-parent, release 14.3-RELEASE).
# nest reads it back; \`service jail start p\` uses it too.

p {
	path = "/nest/jails/p/root";
	host.hostname = "p";
	persist;
	mount.devfs;
	ip4 = "inherit";
	ip6 = "inherit";
	children.max = "256";
	enforce_statfs = "1";
	devfs_ruleset = "4";
	securelevel = "-1";
	allow.mount;
	allow.mount.devfs;
	allow.mount.procfs;
	allow.mount.fdescfs;
	allow.mount.linprocfs;
	allow.mount.zfs;
	allow.mount.nullfs;
	allow.mount.tmpfs;
	allow.raw_sockets;
	allow.socket_af;
	allow.sysvipc;
	allow.chflags;
	sysvmsg = "new";
	sysvsem = "new";
	sysvshm = "new";
	mount = "/usr/local/libexec/nest /nest/jails/p/root/usr/local/libexec/nest nullfs ro 0 0";
	exec.created = "/sbin/zfs jail p zroot/nest/jails/p/data";
	exec.start = "/sbin/zfs mount zroot/nest/jails/p/data";
	exec.start += "/bin/sh /etc/rc";
	exec.prestop = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/bin/nest stop p --children-only";
	exec.poststart = "/usr/sbin/jail -m name=p securelevel=1";
	exec.stop = "/bin/sh /etc/rc.shutdown";
	exec.release = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/bin/nest cleanup p";
}
`

export const A_CONF = `# Written by nest for a (policy parent, release 14.3-RELEASE).
# nest reads it back; \`service jail start a\` uses it too.

a {
	path = "/data/jails/a/root";
	host.hostname = "a";
	persist;
	mount.devfs;
	ip4 = "inherit";
	ip6 = "inherit";
	children.max = "16";
	enforce_statfs = "1";
	devfs_ruleset = "4";
	allow.mount;
	allow.mount.devfs;
	allow.mount.nullfs;
	allow.mount.tmpfs;
	allow.mount.zfs;
	mount = "/usr/local/libexec/nest /data/jails/a/root/usr/local/libexec/nest nullfs ro 0 0";
	exec.start = "/bin/sh /etc/rc";
	exec.prestop = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/libexec/nest/bin/run.js stop a --children-only";
	exec.stop = "/bin/sh /etc/rc.shutdown";
	exec.release = "test \\"\\$NEST_CLEANUP_FOLLOWS\\" = 1 || /usr/local/libexec/nest/bin/run.js cleanup a";
}
`

/** Names for the checker's tree: p, a, b by default; §2.4's worked example is web, db, cache. */
export interface TreeNames {
  p: string
  a: string
  b: string
}

const renamer = (n: TreeNames) => (s: string): string => s.replace(/\bp\b/g, n.p).replace(/\ba\b/g, n.a).replace(/\bb\b/g, n.b)

/** The dataset names of the tree (p's root, its delegated data with the children's roots, each child's own delegation). */
const JAILED_LOCAL = ['zroot/nest/jails/p/data', 'zroot/nest/jails/p/delegated/a', 'zroot/nest/jails/p/delegated/b']
const JAILED_INHERITED = ['zroot/nest/jails/p/data/jails', 'zroot/nest/jails/p/data/jails/a', 'zroot/nest/jails/p/data/jails/a/root', 'zroot/nest/jails/p/data/jails/b', 'zroot/nest/jails/p/data/jails/b/root']
const UNJAILED = ['zroot/nest/jails', 'zroot/nest/jails/p', 'zroot/nest/jails/p/delegated', 'zroot/nest/jails/p/root']

/** A jail.conf text as ConfigFacts (jail(8)'s view: variables expanded, every value in order; a bare flag is ['']). */
export function configFacts(textOf: string, file: string, prefix: string, startedBy: string | null): ConfigFacts[] {
  const ast = parseConfig(textOf, file)._unsafeUnwrap()
  return resolveConfig(ast).map((j) => {
    const params: Record<string, string[]> = {}
    for (const p of j.params) params[p.name] = p.values.length === 0 ? [''] : [...p.values]
    return {name: `${prefix}${j.name}`, file, startedBy, params, raw: params, nest: textOf.startsWith('# Written by nest')}
  })
}

/** `mount -p` rows: special, node, type, options (mount.c putfsent separates them with tabs and spaces). */
export function parseMounts(textOf: string): MountFacts[] {
  return textOf.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const [from, on, type, opts] = l.trim().split(/\s+/)
    return {from: from!, on: on!, type: type!, opts: opts!.split(',')}
  })
}

export function jailsOf(json: string): JailFacts[] {
  const recs = parseJlsJson(json)._unsafeUnwrap()
  const byJid = new Map(recs.map((r) => [r.jid, r.name]))
  return recs.map((r) => ({name: r.name, jid: r.jid!, parent: r.parent === 0 || r.parent === null ? null : (byJid.get(r.parent) ?? null), path: r.path!, dying: r.params['dying'] === true, params: r.params}))
}

/**
 * The facts of the checker's tree: p (vm-parent) with a and b (parent policy), all running, a
 * lifecycle recorded for each, no process, racct off, no DTrace. Every delegated dataset's
 * written is 98304 (an empty file system's metadata).
 */
export function treeFacts(names: TreeNames = {p: 'p', a: 'a', b: 'b'}): AuditFacts {
  const r = renamer(names)
  const datasets: ZfsFacts[] = [
    ...UNJAILED.map((name) => ({name: r(name), props: {jailed: 'off', quota: '0', refquota: '0', mounted: name.endsWith('/delegated') ? 'no' : 'yes', setuid: 'on', exec: 'on'}})),
    ...JAILED_LOCAL.map((name) => ({name: r(name), props: {jailed: 'on', quota: '0', refquota: '0', mounted: 'yes', setuid: 'on', exec: 'on', written: '98304'}})),
    ...JAILED_INHERITED.map((name) => ({name: r(name), props: {jailed: 'on', quota: '0', refquota: '0', mounted: 'yes', setuid: 'on', exec: 'on'}})),
  ].sort((x, y) => x.name.localeCompare(y.name))
  const lifecycle = {started: 1764647000, stopped: null}
  const {p, a, b} = names
  return {
    host: {osrelease: '14.3-RELEASE', kernel: '14.3-RELEASE-p8', racct: false, dtrace: false, securelevel: -1},
    jails: jailsOf(r(JLS)),
    configs: [
      ...configFacts(r(P_CONF), `/etc/jail.conf.d/${p}.conf`, '', null),
      ...configFacts(r(A_CONF), `/nest/jails/${p}/root/etc/jail.conf.d/${a}.conf`, `${p}.`, p),
      ...configFacts(renamer({p, a: b, b})(A_CONF), `/nest/jails/${p}/root/etc/jail.conf.d/${b}.conf`, `${p}.`, p),
    ],
    mounts: parseMounts(r(MOUNTS)),
    procs: [],
    sockets: [],
    ipc: [],
    rctl: {},
    rulesets: {4: ['100 include 1', '200 include 2', '300 include 3', '400 path fuse unhide', '500 path zfs unhide']},
    devfsMounts: [],
    datasets,
    paths: [],
    nest: {
      [p]: {policy: 'vm-parent', declared: [], phase: 'run', lifecycle},
      [`${p}.${a}`]: {policy: 'parent', declared: [], phase: 'run', lifecycle},
      [`${p}.${b}`]: {policy: 'parent', declared: [], phase: 'run', lifecycle},
    },
    sources: {},
  }
}

/** A jail as jls -n prints one with nothing granted but the defaults (a leaf), to build other trees. */
export function leafParams(name: string, jid: number, parentJid: number, path: string): JailFacts['params'] {
  const a = jailsOf(JLS).find((j) => j.name === 'p.a')!.params
  const out: JailFacts['params'] = {...a, name, jid: String(jid), parent: String(parentJid), path, 'host.hostname': name.split('.').at(-1)!, 'children.max': '0', 'children.cur': '0', enforce_statfs: '2'}
  for (const k of Object.keys(out)) if (k.startsWith('allow.')) out[k] = ['allow.set_hostname', 'allow.reserved_ports', 'allow.unprivileged_proc_debug', 'allow.suser'].includes(k)
  return out
}

/** Set parameters of a running jail in the facts (as jls -n would print them). */
export function setParams(f: AuditFacts, jail: string, params: JailFacts['params']): void {
  const j = f.jails.find((x) => x.name === jail)!
  Object.assign(j.params, params)
}

/** A process of a jail (ps -ax -o pid,jid,comm). */
export function addProc(f: AuditFacts, jail: string, pid: number, comm: string): void {
  f.procs.push({pid, jid: f.jails.find((j) => j.name === jail)!.jid, comm})
}

/** A socket of a process as procstat -f prints its row (procstat_files.c: PID COMM FD T V FLAGS REF OFFSET PRO NAME). */
export function addSocket(f: AuditFacts, pid: number, comm: string, protocol: string, fd = '3'): void {
  const raw = ['ICM', 'RAW', 'IP?', 'IPD'].includes(protocol)
  f.sockets.push({pid, fd, protocol, raw, otherFamily: protocol === '?', line: `${pid} ${comm} ${fd} s - rw------ 1 0 ${protocol} -`})
}
