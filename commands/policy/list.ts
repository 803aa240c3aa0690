import {NestCommand} from '../../src/cli/base.js'
import {renderPolicyList} from '../../src/render/policy.js'
import {listPolicies} from '../../src/services/policy.js'

export default class PolicyList extends NestCommand {
  static override description = 'List the policies: presets, and yours in /usr/local/etc/nest/policies/ (a file of the same name wins).'
  static override examples = ['<%= config.bin %> policy list']

  async run(): Promise<void> {
    const {flags} = await this.parse(PolicyList)
    await this.runWith(flags, (ctx) => listPolicies(ctx), renderPolicyList)
  }
}
