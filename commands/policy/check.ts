import {Args} from '@oclif/core'

import {NestCommand} from '../../src/cli/base.js'
import {renderPolicyShow} from '../../src/render/policy.js'
import {checkPolicyFile} from '../../src/services/policy.js'

export default class PolicyCheck extends NestCommand {
  static override description = 'Check a policy file: syntax, parameter names and values, and the rules FreeBSD would enforce.'
  static override examples = ['<%= config.bin %> policy check ./mine.conf']
  static override args = {file: Args.string({required: true, description: 'policy file'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(PolicyCheck)
    await this.runWith(flags, (ctx) => checkPolicyFile(ctx, args.file), renderPolicyShow)
  }
}
