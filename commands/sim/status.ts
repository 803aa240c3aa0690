import {NestCommand} from '../../src/cli/base.js'
import {renderSimStatus} from '../../src/render/sim.js'
import {showSimStatus} from '../../src/services/sim.js'

export default class SimStatus extends NestCommand {
  static override description = 'Show the simulated host in short: its jails, datasets and mounts.'
  static override examples = ['<%= config.bin %> sim status', '<%= config.bin %> sim status --json']

  async run(): Promise<void> {
    const {flags} = await this.parse(SimStatus)
    await this.runWith(flags, (ctx) => showSimStatus(ctx), renderSimStatus)
  }
}
