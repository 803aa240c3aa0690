import {Args} from '@oclif/core'

import {NestCommand} from '../../src/cli/base.js'
import {renderSimRacct} from '../../src/render/sim.js'
import {setSimRacct} from '../../src/services/sim.js'

export default class SimRacct extends NestCommand {
  static override description = [
    'Boot the simulated host with kern.racct.enable=1 (on) or 0 (off, the default, as GENERIC): the loader tunable that rctl(8) needs.',
    'On, every jail gets its accounting entry and there are no rules yet; off, rctl refuses everything as FreeBSD does when the tunable is 0.',
  ].join(' ')
  static override examples = ['<%= config.bin %> sim racct on']
  static override args = {state: Args.string({required: true, options: ['on', 'off'], description: 'on or off'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SimRacct)
    await this.runWith(flags, (ctx) => setSimRacct(ctx, args.state === 'on'), renderSimRacct)
  }
}
