// `certdesk export broker`: everything a production broker needs to take over the fleet.
import { emqxExport } from './emqx'
import { mosquittoExport } from './mosquitto'
import { rabbitmqExport } from './rabbitmq'
import {
  type BrokerExportFile,
  type BrokerExportInput,
  type BrokerExporter,
  type BrokerTarget,
  DEFAULT_INSTALL_DIRS,
  EXPORT_SETTINGS_FILE,
  type ExportSettings,
  commonFiles,
} from './types'

export type { BrokerTarget, BrokerExportFile, BrokerExportInput } from './types'

const EXPORTERS: Record<BrokerTarget, BrokerExporter> = {
  mosquitto: mosquittoExport,
  rabbitmq: rabbitmqExport,
  emqx: emqxExport,
}

/**
 * The files of an export for `target`: the shared certificates and CRL, the target's own, and
 * the settings it was made with (`certdesk-export.json`), which a later `--only-changes-since`
 * keeps unless told otherwise.
 */
export function exportForBroker(target: BrokerTarget, input: BrokerExportInput): BrokerExportFile[] {
  const settings: ExportSettings = {
    format: 1,
    target,
    serverNames: input.server.names,
    installDir: input.installDir ?? DEFAULT_INSTALL_DIRS[target],
    ports: input.ports,
  }
  return [
    ...commonFiles(input),
    ...EXPORTERS[target](input),
    { path: EXPORT_SETTINGS_FILE, contents: `${JSON.stringify(settings, null, 2)}\n`, secret: false },
  ]
}
