import {Args} from '@oclif/core'

import {NestCommand} from '../../src/cli/base.js'
import {renderSimFile} from '../../src/render/sim.js'
import {snapshotSimHost} from '../../src/services/sim.js'

export default class SimSnapshot extends NestCommand {
  static override description = 'Save the whole simulated kernel model (jails, mounts, datasets, faults) to a file.'
  static override args = {file: Args.string({required: true, description: 'file to write'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SimSnapshot)
    await this.runWith(flags, (ctx) => snapshotSimHost(ctx, args.file), renderSimFile('saved'))
  }
}
