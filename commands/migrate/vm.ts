import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../../src/cli/base.js'
import {renderMigrate} from '../../src/render/migrate.js'
import {migrateVm} from '../../src/services/migrate.js'

export default class MigrateVm extends NestCommand {
  static override description = [
    'Turn a vm-bhyve FreeBSD guest into a parent jail: its disks are read through temporary clones (the VM\'s own zvols are never opened),',
    'its pool imported under a temporary name below /var/run/nest/migrate, its userland adapted, its datasets moved with zfs send | zfs recv',
    '(its Bastille tree into the jail\'s delegated dataset), its network kept (the VM\'s MAC and addresses on an epair on its switch\'s bridge),',
    'its size kept as rctl limits; then the jail starts. Any failure undoes everything, and the VM is as it was.',
  ].join(' ')
  static override examples = ['<%= config.bin %> migrate vm fbsd1 --stop-vm', '<%= config.bin %> migrate vm fbsd1 --dry-run', '<%= config.bin %> migrate vm web.example --as web --network ip4']
  static override args = {name: Args.string({required: true, description: 'the vm-bhyve guest (see vm list)'})}
  static override flags = {
    as: Flags.string({description: 'the jail\'s name (default: the guest\'s)'}),
    policy: Flags.string({description: 'policy to apply (see nest policy list)', default: 'vm-parent'}),
    'stop-vm': Flags.boolean({description: 'stop a running guest first (vm stop, then wait for it to power off)'}),
    network: Flags.string({description: 'vnet: the guest\'s NIC as an epair on its switch\'s bridge, renamed inside to the guest\'s interface; ip4: its static addresses as aliases on that bridge', options: ['vnet', 'ip4'], default: 'vnet'}),
    limits: Flags.string({description: 'rctl: the VM\'s memory and CPUs as rctl rules (when racct is enabled); none: no limits', options: ['rctl', 'none'], default: 'rctl'}),
    'dry-run': Flags.boolean({description: 'print the ordered plan (the guest\'s disk is read through the same temporaries, undone before it prints) and change nothing'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(MigrateVm)
    await this.runWith(flags, (ctx) => migrateVm(ctx, {
      vm: args.name, policy: flags.policy, stopVm: flags['stop-vm'], network: flags.network === 'ip4' ? 'ip4' : 'vnet', limits: flags.limits === 'none' ? 'none' : 'rctl', dryRun: flags['dry-run'],
      ...(flags.as === undefined ? {} : {as: flags.as}),
    }), renderMigrate)
  }
}
