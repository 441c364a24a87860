import { isAbsolute, normalize } from 'node:path'
import { invalidInput } from '../errors'
import { message } from '../messages'
import { BROKER_TARGETS, type BrokerTarget } from './types'

export function parseBrokerTarget(value: unknown): BrokerTarget {
  if (typeof value === 'string' && (BROKER_TARGETS as readonly string[]).includes(value)) return value as BrokerTarget
  throw invalidInput(message('brokerExport.unknownTarget', { value: String(value), targets: BROKER_TARGETS.join(', ') }))
}

/**
 * Where the folder goes on the broker's machine: the configuration names files by absolute path
 * under it, so it must be absolute, and plain (a quote or a newline would break the file it is in).
 */
export function validateInstallDir(value: string): string {
  if (!isAbsolute(value) || !/^[A-Za-z0-9_\-./]+$/.test(value)) {
    throw invalidInput(message('brokerExport.badInstallDir', { value }))
  }
  return normalize(value).replace(/\/+$/, '') || '/'
}
