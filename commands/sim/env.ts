import {NestCommand} from '../../src/cli/base.js'
import {renderSimEnv} from '../../src/render/sim.js'
import {showSimEnv} from '../../src/services/sim.js'

export default class SimEnv extends NestCommand {
  static override description = 'Print shell exports that put the simulated FreeBSD tools (jail, jls, jexec, zfs, mount, ...) first on PATH.'
  static override examples = ['eval "$(<%= config.bin %> sim env)"']

  async run(): Promise<void> {
    const {flags} = await this.parse(SimEnv)
    await this.runWith(flags, (ctx) => showSimEnv(ctx), renderSimEnv)
  }
}
