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
    const entry = zip.addFile(`certdesk-${target}/${file.path}`, data, '', file.secret ? 0o600 : 0o644)
    // Made by Unix (3), version 2.0: unzip applies the modes only then, also to a zip made on Windows.
    entry.header.made = 0x0314
  }
  return zip.toBuffer()
}
