// The nest executable's code (bin/run.js imports it): oclif, with nest's package as its root.
import {execute} from '@oclif/core'

export async function main(binUrl: string): Promise<void> {
  await execute({dir: binUrl})
}
