import {NestCommand} from '../../src/cli/base.js'
import {renderSimRoot} from '../../src/render/sim.js'
import {initSimHost} from '../../src/services/sim.js'

export default class SimInit extends NestCommand {
  static override description = 'Create the simulated FreeBSD 14.3 host if there is none (pool zroot, default devfs rulesets, no jails).'
  static override examples = ['<%= config.bin %> sim init', 'NEST_SIM_ROOT=/tmp/sim <%= config.bin %> sim init']

  async run(): Promise<void> {
    const {flags} = await this.parse(SimInit)
    await this.runWith(flags, (ctx) => initSimHost(ctx), renderSimRoot('ready'))
  }
}
