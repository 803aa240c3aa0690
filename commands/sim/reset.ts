import {NestCommand} from '../../src/cli/base.js'
import {renderSimRoot} from '../../src/render/sim.js'
import {resetSimHost} from '../../src/services/sim.js'

export default class SimReset extends NestCommand {
  static override description = 'Replace the simulated host with a fresh one: no jails, no faults, the default datasets.'

  async run(): Promise<void> {
    const {flags} = await this.parse(SimReset)
    await this.runWith(flags, (ctx) => resetSimHost(ctx), renderSimRoot('reset'))
  }
}
