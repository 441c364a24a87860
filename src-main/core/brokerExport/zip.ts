import type AdmZip from 'adm-zip'
import { lazyExport } from '../lazyModule'
import type { BrokerExportFile, BrokerTarget } from './types'

// Loaded when an export is zipped (the screens): every other command starts without it.
const admZip = lazyExport<typeof AdmZip>('adm-zip')

/** The export as one zip for a save dialog or a download: one folder, secret entries 0600. */
export function brokerExportZip(target: BrokerTarget, files: readonly BrokerExportFile[]): Buffer {
  const zip = new (admZip())()
  for (const file of files) {
    const data = typeof file.contents === 'string' ? Buffer.from(file.contents) : file.contents
    zip.addFile(`certdesk-${target}/${file.path}`, data, '', file.secret ? 0o600 : 0o644)
  }
  return zip.toBuffer()
}
