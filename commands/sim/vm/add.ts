import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../../../src/cli/base.js'
import {renderSimVm} from '../../../src/render/sim.js'
import {addSimVm} from '../../../src/services/sim.js'

export default class SimVmAdd extends NestCommand {
  static override description = [
    "Put a vm-bhyve guest on the simulated host: its directory under vm_dir with NAME.conf copied from FILE (any vm-bhyve configuration),",
    'vm_enable and vm_dir set in /etc/rc.conf when missing (vm_dir="/vm"), NAME added to vm_list.',
    'With --disk the guest has disks (a shipped fixture: zfs-bastille, ufs-vmimage, zfs-clash, zfs-newer, or a fixture file), made as vm-bhyve makes them',
    '(zvols with volmode=dev, or disk0.img), its NAME.conf the fixture\'s unless --conf is given; vm_dir="zfs:zroot/vm" when missing.',
    'With --running the guest runs: /dev/vmm/NAME, a bhyve process and run.lock naming this host.',
  ].join(' ')
  static override examples = ['<%= config.bin %> sim vm add fbsd1 --conf ./fbsd1.conf --running', '<%= config.bin %> sim vm add fbsd1 --disk zfs-bastille --running']
  static override args = {name: Args.string({required: true, description: 'the guest name (vm-bhyve: letters, digits, ".", "_", "-")'})}
  static override flags = {
    conf: Flags.string({description: "the guest's vm-bhyve NAME.conf"}),
    disk: Flags.string({description: "the guest's disks: a shipped guest fixture or a fixture file"}),
    running: Flags.boolean({description: 'the guest runs', default: false}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SimVmAdd)
    await this.runWith(flags, (ctx) => addSimVm(ctx, {name: args.name, running: flags.running, ...(flags.conf === undefined ? {} : {conf: flags.conf}), ...(flags.disk === undefined ? {} : {disk: flags.disk})}), renderSimVm)
  }
}
