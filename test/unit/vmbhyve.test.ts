import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {describeError} from '../../src/domain/errors.js'
import {
  bhyveMemBytes,
  CONF_MAX_BYTES,
  checkVmConf,
  configLoad,
  configLines,
  parseVmConf,
  rcAssignments,
  vmDirOf,
  type VmConf,
} from '../../src/domain/vmbhyve.js'

const FIX = join(import.meta.dirname, '../fixtures/freebsd-outputs/vm-bhyve')
const fixture = (f: string): Buffer => readFileSync(join(FIX, f))
const conf = (text: string | Uint8Array): VmConf => parseVmConf(text)._unsafeUnwrap()
const refusal = (text: string, name = 'web'): string => describeError(checkVmConf(name, conf(text))._unsafeUnwrapErr())

describe('vm_dir from rc.conf texts', () => {
  it('reads a directory and the zfs:pool/dataset form', () => {
    expect(vmDirOf([{path: '/etc/rc.conf', text: 'vm_enable="YES"\nvm_dir="/vm"\n'}])._unsafeUnwrap()).toEqual({kind: 'dir', path: '/vm', from: '/etc/rc.conf'})
    expect(vmDirOf([{path: '/etc/rc.conf', text: "vm_dir='zfs:zroot/vm' # bhyve guests\n"}])._unsafeUnwrap()).toEqual({kind: 'zfs', dataset: 'zroot/vm', from: '/etc/rc.conf'})
    expect(vmDirOf([{path: '/etc/rc.conf', text: 'vm_dir=zfs:tank/v:m'}])._unsafeUnwrap()).toEqual({kind: 'zfs', dataset: 'tank/v:m', from: '/etc/rc.conf'})
    // "${vm_dir%%:*}" = "zfs" and "${vm_dir#*:}" on a value without ":" is the value itself.
    expect(vmDirOf([{path: '/etc/rc.conf', text: 'vm_dir=zfs'}])._unsafeUnwrap()).toMatchObject({kind: 'zfs', dataset: 'zfs'})
    expect(vmDirOf([{path: '/etc/rc.conf', text: 'vm_dir="/data/zfs:x"'}])._unsafeUnwrap()).toMatchObject({kind: 'dir', path: '/data/zfs:x'})
  })

  it('takes the last assignment, later files over earlier ones (rc.conf.d/vm after rc.conf)', () => {
    const files = [
      {path: '/etc/rc.conf', text: 'vm_dir="/old"\nvm_dir="/vm"\n'},
      {path: '/etc/rc.conf.local', text: 'hostname="h"\n'},
      {path: '/etc/rc.conf.d/vm', text: '  vm_dir="zfs:zroot/bhyve"\n'},
    ]
    expect(vmDirOf(files)._unsafeUnwrap()).toEqual({kind: 'zfs', dataset: 'zroot/bhyve', from: '/etc/rc.conf.d/vm'})
    expect(vmDirOf(files.slice(0, 2))._unsafeUnwrap()).toEqual({kind: 'dir', path: '/vm', from: '/etc/rc.conf'})
  })

  it('ignores comments and other variables, and says vm-bhyve is not set up when vm_dir is unset or empty', () => {
    const unset = vmDirOf([{path: '/etc/rc.conf', text: '# vm_dir="/vm"\nvm_dirx="/a"\nmy_vm_dir="/b"\n'}])._unsafeUnwrapErr()
    expect(unset.kind).toBe('preflight')
    expect(unset.message).toContain('$vm_dir has not been configured or is not a valid directory')
    expect(vmDirOf([])._unsafeUnwrapErr().kind).toBe('preflight')
    expect(vmDirOf([{path: '/etc/rc.conf', text: 'vm_dir="/vm"\nvm_dir=""\n'}])._unsafeUnwrapErr().kind).toBe('preflight')
  })

  it.each([
    ['vm_dir="$(touch /tmp/pwned)"'],
    ['vm_dir=`id`'],
    ['vm_dir="${HOME}/vm"'],
    ['vm_dir=/vm; rm -rf /'],
    ['vm_dir=/a b'],
    ['vm_dir="/vm\\"x"'],
    ['vm_dir=~/vm'],
    ['vm_dir="/a\n/b"'],
  ])('refuses a vm_dir that needs the shell, never running it: %s', (line) => {
    const e = vmDirOf([{path: '/etc/rc.conf', text: `${line}\n`}])._unsafeUnwrapErr()
    expect(e.kind).toBe('invalid-input')
    expect(describeError(e)).toMatch(/^vm_dir in \/etc\/rc\.conf is not a plain value nest can read without running the shell: .*\(write it as vm_dir="\/path" or vm_dir="zfs:pool\/dataset"\)$/)
  })

  it('reads assignments as sh keeps them: quotes joined, last one wins', () => {
    const a = rcAssignments('a="x y"\nb=\'$(no)\'\nc=p"q"\'r\'\na=2\n')
    expect(a.get('a')).toEqual({value: '2'})
    expect(a.get('b')).toEqual({value: '$(no)'})
    expect(a.get('c')).toEqual({value: 'pqr'})
    // "#" starts a comment only at the start of a word.
    expect(rcAssignments('vm_dir=/vm#1\n')).toEqual(new Map([['vm_dir', {value: '/vm#1'}]]))
    expect(rcAssignments('vm_dir=/vm #1\n')).toEqual(new Map([['vm_dir', {value: '/vm'}]]))
    expect(rcAssignments('vm_dir="/vm"#1\n')).toEqual(new Map([['vm_dir', {value: '/vm#1'}]]))
  })
})

describe('NAME.conf as config::load reads it', () => {
  it('reads the issue 191 guest (two NICs, uuid, MACs)', () => {
    const c = conf(fixture('issue191-bhyveload-two-nics-uuid-macs.conf.txt'))
    expect(c).toMatchObject({loader: 'bhyveload', cpu: '1', cpuCount: 1, memory: '2048M', memoryBytes: 2048 * 2 ** 20, uuid: '43157865-e6ed-11e7-8139-6451060e7679'})
    expect(c.networks).toEqual([
      {index: 0, type: 'virtio-net', switch: 'public', mac: '58:9c:fc:44:c8:38'},
      {index: 1, type: 'virtio-net', switch: 'private', mac: '58:9c:fc:44:2b:61'},
    ])
    expect(c.disks).toEqual([{index: 0, type: 'virtio-blk', name: 'disk0', dev: 'sparse-zvol'}])
    expect(c.other).toEqual({bhyve_options: '-S', debug: '1'})
    expect(checkVmConf('vm4', c).isOk()).toBe(true)
  })

  it('reads the PR 163 guest (2G, placeholders kept as data)', () => {
    const c = conf(fixture('pr163-bhyveload-cpu2-mem2G-sparse-zvol-placeholders.conf.txt'))
    expect(c).toMatchObject({cpuCount: 2, memoryBytes: 2 * 2 ** 30, uuid: '<magic-uuid>'})
    expect(c.networks).toEqual([{index: 0, type: 'virtio-net', switch: 'public', mac: '<oh-my-mac>'}])
    expect(c.other).toEqual({uefi: 'false', bhyve_flags: '-w'})
    expect(checkVmConf('x', c).isOk()).toBe(true)
  })

  it('reads the freebsd-zvol and default templates (no uuid yet; a file disk has no disk0_dev)', () => {
    const z = conf(fixture('template-freebsd-zvol.conf.txt'))
    expect(z).toMatchObject({loader: 'bhyveload', cpuCount: 1, memoryBytes: 256 * 2 ** 20, uuid: null, other: {}})
    expect(z.networks).toEqual([{index: 0, type: 'virtio-net', switch: 'public', mac: null}])
    const d = conf(fixture('template-default-file-disk.conf.txt'))
    expect(d.disks).toEqual([{index: 0, type: 'virtio-blk', name: 'disk0.img', dev: null}])
    expect(checkVmConf('d', d).isOk()).toBe(true)
  })

  it('reads the windows template (uefi, blank lines and comments between keys)', () => {
    const c = conf(fixture('template-windows-uefi-comments.conf.txt'))
    expect(c).toMatchObject({loader: 'uefi', cpuCount: 2, memoryBytes: 2 ** 31})
    expect(c.networks).toEqual([{index: 0, type: 'e1000', switch: 'public', mac: null}])
    expect(c.other).toEqual({graphics: 'yes', xhci_mouse: 'yes', ahci_device_limit: '8', utctime: 'no'})
    expect(checkVmConf('win', c).isOk()).toBe(true)
  })

  it('reads config.sample: empty values are unset, "=" inside a value kept, loader="" refused', () => {
    const c = conf(fixture('template-config-sample-every-key.conf.txt'))
    expect(c.loader).toBeNull()
    expect(c.other.bhyveload_args).toBe('-e machdep.hyperthreading_allowed=0')
    expect(c.other.bhyve_options).toBe('-p 1:1')
    expect(c.other.hostbridge).toBe('')
    expect(c.disks).toEqual([{index: 0, type: 'virtio-blk', name: 'disk0.img', dev: null}])
    expect(c.networks).toEqual([{index: 0, type: 'virtio-net', switch: 'public', mac: null}])
    expect(c.passthru).toEqual([])
    expect(c.lines).toHaveLength(58)
    expect(describeError(checkVmConf('sample', c)._unsafeUnwrapErr())).toBe(
      'vm-bhyve guest sample has no loader in sample.conf: vm-bhyve itself would not start it (missing required configuration) (fix sample.conf (vm configure sample), or check that this is the right guest)',
    )
  })

  // The pipeline run by this machine's sh, grep, awk, sed and tr (not FreeBSD's: the same for these texts).
  it('gives the same lines as the real pipeline on every fixture and on awkward text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'h-vmparse-'))
    try {
      const texts = readdirSync(FIX).filter((f) => f.endsWith('.conf.txt')).map((f) => fixture(f).toString('utf8'))
      texts.push('cpu=2 \nmemory = 1G\n a=indented\n#x=1\nfoo="a # b" # c\nbar=\'q\'\t\nnoeq\nx=1=2\nlast=no-newline')
      for (const [i, text] of texts.entries()) {
        const file = join(dir, `${i}.conf`)
        writeFileSync(file, text)
        const real = execFileSync('sh', ['-c', `grep '^[a-z]' "$1" | awk -F# '{print $1}' | sed -e 's@ *$@@' | tr -d '"'`, 'sh', file], {encoding: 'utf8'})
        expect(configLoad(text)).toEqual(real.replace(/\n+$/, '').split('\n').filter((l) => l !== ''))
      }
      expect(configLines('x=1=2\nnoeq\ncpu =2\n')).toEqual([['x', '1=2'], ['noeq', 'noeq'], ['cpu ', '2']])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('replicates the line handling: comments, quotes, spaces, duplicates, no trailing newline', () => {
    const c = conf([
      '# loader="grub"',
      '  loader="grub"',
      'Loader="grub"',
      'loader="bhyveload" # the FreeBSD one',
      'loader="uefi"',
      'cpu = 4',
      'cpu=2   ',
      "uuid='x' ",
      'memory="1G#not a comment in sh"',
      'network0_type="virtio-net"',
      'network2_type="e1000"',
      'disk0_type="virtio-blk"',
      'disk0_name=""',
      'disk1_name="disk1"',
      'standalone',
      'tags="a\tb"\t',
    ].join('\n'))
    expect(c.loader).toBe('bhyveload') // first wins; indented, commented and capitalised lines ignored
    expect(c.cpu).toBe('2') // "cpu " is another key; trailing spaces removed
    expect(c.other['cpu ']).toBe(' 4')
    expect(c.uuid).toBe("'x'") // single quotes kept
    expect(c.memory).toBe('1G')
    expect(c.networks.map((n) => n.index)).toEqual([0]) // stops at the first missing networkN_type
    expect(c.disks).toEqual([]) // disk0_name empty: the loop stops at disk0
    expect(c.other.network2_type).toBe('e1000')
    expect(c.other.standalone).toBe('standalone')
    expect(c.other.tags).toBe('a\tb\t') // sed removes spaces only
    expect(c.other.Loader).toBeUndefined()
  })

  it('keeps a CR (a file from Windows) in the value, so memory is refused', () => {
    const c = conf('loader="bhyveload"\r\ncpu=1\r\nmemory=512M\r\n')
    expect(c.loader).toBe('bhyveload\r')
    expect(refusal('loader=bhyveload\ncpu=1\nmemory=512M\r\n')).toBe(
      'vm-bhyve guest web has memory="512M\\r", which is not a size bhyve reads (fix web.conf (vm configure web): memory=2G or memory=2048M (a bare number is megabytes))',
    )
  })
})

describe('hostile NAME.conf', () => {
  it('keeps $(...) and backquotes as data, never running them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'h-vmparse-'))
    try {
      const flag = join(dir, 'ran')
      const c = conf(`loader="bhyveload"\ncpu=1\nmemory=1G\nprestart="$(touch ${flag})"\ndisk0_name=\`touch ${flag}\`\ndisk0_type=virtio-blk\n`)
      expect(c.other.prestart).toBe(`$(touch ${flag})`)
      expect(c.disks[0]?.name).toBe(`\`touch ${flag}\``)
      expect(readdirSync(dir)).toEqual([])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('refuses a 2 MiB file', () => {
    const big = `loader="bhyveload"\n${'x'.repeat(2 * 1024 * 1024)}\n`
    const e = parseVmConf(big, 'web.conf')._unsafeUnwrapErr()
    expect(e.kind).toBe('invalid-input')
    expect(e.message).toBe(`web.conf is ${2 * 1024 * 1024 + 20} bytes, more than the ${CONF_MAX_BYTES} nest reads: it is not a vm-bhyve guest configuration`)
    expect(parseVmConf(new Uint8Array(CONF_MAX_BYTES + 1))._unsafeUnwrapErr().kind).toBe('invalid-input')
  })

  it('refuses binary and non-UTF-8 files', () => {
    const nul = parseVmConf(Buffer.from('loader="bhyveload"\n\0\x01\x02cpu=1\n'), 'web.conf')._unsafeUnwrapErr()
    expect(nul.message).toBe('web.conf is binary (it contains NUL bytes): it is not a vm-bhyve guest configuration')
    const latin1 = parseVmConf(Buffer.from([0x63, 0x70, 0x75, 0x3d, 0xff, 0x0a]), 'web.conf')._unsafeUnwrapErr()
    expect(latin1.message).toBe('web.conf is not text (not UTF-8): it is not a vm-bhyve guest configuration')
  })

  it('keeps keys that look like object internals as plain entries', () => {
    const c = conf('constructor=x\nhasownproperty=y\n')
    expect(Object.hasOwn(c.other, 'constructor')).toBe(true)
    expect(c.other.constructor).toBe('x')
  })
})

describe('memory as bhyve -m reads it', () => {
  it.each([
    ['2048', 2048 * 2 ** 20], // a bare number is megabytes
    ['256M', 256 * 2 ** 20],
    ['2G', 2 ** 31],
    ['2g', 2 ** 31],
    ['1T', 2 ** 40],
    ['512k', 512 * 1024],
    ['2GB', 2 ** 31],
    ['0x800', 2048 * 2 ** 20],
    ['010', 8 * 2 ** 20], // strtoul base 0: octal
    ['1048576', 1048576], // from 1 MiB up, a bare number is bytes
    ['4294967296', 2 ** 32],
    ['1024b', 1024],
  ])('%s is %d bytes', (text, bytes) => {
    expect(bhyveMemBytes(text)).toBe(bytes)
  })

  it.each([['1.5G'], ['2 G'], ['-1'], ['G'], [''], ['2X'], ['2GG'], ['1bb'], ['99999999E']])('%s is not a size', (text) => {
    expect(bhyveMemBytes(text)).toBeNull()
  })
})

describe('the refusals that need only NAME.conf', () => {
  const ok = 'cpu=1\nmemory=512M\n'

  it('refuses a grub guest as not FreeBSD (the debian template)', () => {
    const e = checkVmConf('deb', conf(fixture('template-debian-grub.conf.txt')))._unsafeUnwrapErr()
    expect(e.kind).toBe('preflight')
    expect(describeError(e)).toBe(
      'vm-bhyve guest deb is not a FreeBSD guest: it boots with loader="grub" (Linux, OpenBSD, NetBSD...), and only a FreeBSD userland can become a jail (migrate FreeBSD guests only (loader bhyveload or uefi); keep this one a VM)',
    )
  })

  it('accepts bhyveload and every uefi loader vm-bhyve knows, refuses an unknown one', () => {
    for (const l of ['bhyveload', 'uefi', 'uefi-csm', 'uefi-custom', 'uefi-devel']) {
      expect(checkVmConf('web', conf(`loader=${l}\n${ok}`)).isOk()).toBe(true)
    }
    expect(refusal(`loader="uefi-a-b"\n${ok}`)).toBe(
      'vm-bhyve guest web has loader="uefi-a-b", which vm-bhyve does not know (unsupported loader) (fix web.conf (vm configure web): a FreeBSD guest uses bhyveload or uefi)',
    )
    expect(refusal(`loader=grub2\n${ok}`)).toContain('which vm-bhyve does not know')
  })

  it('refuses what vm-bhyve would not start: cpu or memory missing or unreadable', () => {
    expect(refusal('loader=bhyveload\nmemory=1G\n')).toBe(
      'vm-bhyve guest web has no cpu in web.conf: vm-bhyve itself would not start it (missing required configuration) (fix web.conf (vm configure web): cpu=N)',
    )
    expect(refusal('loader=bhyveload\ncpu=two\nmemory=1G\n')).toBe('vm-bhyve guest web has cpu="two", which is not a vCPU count (fix web.conf (vm configure web): cpu=N)')
    expect(refusal('loader=bhyveload\ncpu=1\nmemory=""\n')).toContain('has no memory in web.conf')
    expect(refusal('loader=bhyveload\ncpu=1\nmemory=lots\n')).toContain('memory="lots", which is not a size bhyve reads')
  })

  it('refuses PCI passthrough', () => {
    expect(refusal(`loader=bhyveload\n${ok}passthru0="2/0/0"\n`)).toBe(
      'vm-bhyve guest web uses PCI passthrough (passthru0="2/0/0"): a jail cannot take over a PCI device (remove the passthru lines from web.conf if the guest can do without the device, or keep it a VM)',
    )
    expect(checkVmConf('web', conf(`loader=bhyveload\n${ok}passthru0=""\npassthru1="3/0/0"\n`)).isOk()).toBe(true)
  })
})
