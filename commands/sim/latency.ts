import {Args} from '@oclif/core'

import {NestCommand} from '../../src/cli/base.js'
import {renderLatency} from '../../src/render/sim.js'
import {setSimLatency} from '../../src/services/sim.js'

export default class SimLatency extends NestCommand {
  static override description = 'Add a fixed latency (milliseconds) to every call of some simulated tools; NEST_SIM_LATENCY overrides it.'
  static override examples = ['<%= config.bin %> sim latency jail=200,zfs=20', '<%= config.bin %> sim latency ""']
  static override args = {spec: Args.string({required: true, description: 'tool=ms[,tool=ms...], empty for none'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SimLatency)
    await this.runWith(flags, (ctx) => setSimLatency(ctx, args.spec), renderLatency)
  }
}
