// `certdesk export broker`: everything a production broker needs to take over the fleet.
import { emqxExport } from './emqx'
import { mosquittoExport } from './mosquitto'
import { rabbitmqExport } from './rabbitmq'
import { type BrokerExportFile, type BrokerExportInput, type BrokerExporter, type BrokerTarget, commonFiles } from './types'

export type { BrokerTarget, BrokerExportFile, BrokerExportInput } from './types'

const EXPORTERS: Record<BrokerTarget, BrokerExporter> = {
  mosquitto: mosquittoExport,
  rabbitmq: rabbitmqExport,
  emqx: emqxExport,
}

/** The files of an export for `target`: the shared certificates and CRL, then the target's own. */
export function exportForBroker(target: BrokerTarget, input: BrokerExportInput): BrokerExportFile[] {
  return [...commonFiles(input), ...EXPORTERS[target](input)]
}
