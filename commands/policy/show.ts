import {Args} from '@oclif/core'

import {NestCommand} from '../../src/cli/base.js'
import {renderPolicyShow} from '../../src/render/policy.js'
import {showPolicy} from '../../src/services/policy.js'

export default class PolicyShow extends NestCommand {
  static override description = 'Show a policy\'s effective parameters (jail.conf names) and nest settings.'
  static override examples = ['<%= config.bin %> policy show parent', '<%= config.bin %> policy show vm-parent --json']
  static override args = {name: Args.string({required: true, description: 'policy name'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(PolicyShow)
    await this.runWith(flags, (ctx) => showPolicy(ctx, args.name), renderPolicyShow)
  }
}
