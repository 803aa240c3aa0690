import {Args, Flags} from '@oclif/core'

import {NestCommand} from '../../../src/cli/base.js'
import {renderSimVm} from '../../../src/render/sim.js'
import {addSimVm} from '../../../src/services/sim.js'

export default class SimVmAdd extends NestCommand {
  static override description = [
    "Put a vm-bhyve guest on the simulated host: its directory under vm_dir with NAME.conf copied from FILE (any vm-bhyve configuration),",
    'vm_enable and vm_dir set in /etc/rc.conf when missing (vm_dir="/vm"), NAME added to vm_list.',
    'With --running the guest runs: /dev/vmm/NAME, a bhyve process and run.lock naming this host.',
  ].join(' ')
  static override examples = ['<%= config.bin %> sim vm add fbsd1 --conf ./fbsd1.conf --running']
  static override args = {name: Args.string({required: true, description: 'the guest name (vm-bhyve: letters, digits, ".", "_", "-")'})}
  static override flags = {
    conf: Flags.string({required: true, description: "the guest's vm-bhyve NAME.conf"}),
    running: Flags.boolean({description: 'the guest runs', default: false}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SimVmAdd)
    await this.runWith(flags, (ctx) => addSimVm(ctx, {name: args.name, conf: flags.conf, running: flags.running}), renderSimVm)
  }
}
