import {NestCommand} from '../../src/cli/base.js'
import {renderSimRoot} from '../../src/render/sim.js'
import {clearSimFaults} from '../../src/services/sim.js'

export default class SimClearFaults extends NestCommand {
  static override description = 'Remove every injected fault.'

  async run(): Promise<void> {
    const {flags} = await this.parse(SimClearFaults)
    await this.runWith(flags, (ctx) => clearSimFaults(ctx), renderSimRoot('faults cleared'))
  }
}
